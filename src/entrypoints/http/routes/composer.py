"""What the composer tells the customer while an agent writes: `POST /api/v1/conversations/{id}/typing`
marks the last inbound message read and shows "typing…" (Meta's typing indicator)."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import post
from litestar.di import NamedDependency

from pywhatsapp.application.inbox.indicate_typing import IndicateTyping
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.envelope import Envelope, ok
from pywhatsapp.entrypoints.http.security import requires

TYPING_SECONDS = 25
"""Meta shows the indicator until the reply is sent or for 25 seconds, whichever comes first."""


class TypingRead(msgspec.Struct):
    conversation_id: UUID
    message_id: UUID
    wamid: str
    """The inbound message marked read, on which the indicator shows."""
    expires_in_seconds: int


@post(
    "/api/v1/conversations/{conversation_id:uuid}/typing",
    tags=["conversations"],
    summary='Show the customer "typing…" and mark their last message read (call again every ~20 s)',
    guards=[requires(Role.AGENT)],
    dependencies={"indicate_typing": from_container("indicate_typing")},
    status_code=200,
)
async def conversation_typing(
    conversation_id: UUID,
    principal: NamedDependency[Principal],
    indicate_typing: NamedDependency[IndicateTyping],
) -> Envelope[TypingRead]:
    message = await indicate_typing.execute(principal, conversation_id)
    return ok(
        TypingRead(
            conversation_id=conversation_id,
            message_id=message.id,
            wamid=message.wamid or "",
            expires_in_seconds=TYPING_SECONDS,
        ),
        message="Typing shown",
    )


ROUTES = [conversation_typing]
