"""`POST /chat/{conversation_id}/typing`: the chat composer shows the customer "typing…" while the agent
writes (a CSRF-protected form post, as every page write; the JSON API twin is
`POST /api/v1/conversations/{id}/typing`). The composer may call it on input, at most every ~20 seconds:
Meta shows the indicator until the reply is sent, or for 25 seconds."""

from __future__ import annotations

import logging
from uuid import UUID

from litestar import Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from pywhatsapp.application.inbox.indicate_typing import IndicateTyping
from pywhatsapp.domain.errors import DomainError, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.entrypoints.http.dependencies import from_container

logger = logging.getLogger(__name__)


@post(
    "/chat/{conversation_id:uuid}/typing",
    include_in_schema=False,
    status_code=204,
    dependencies={"indicate_typing": from_container("indicate_typing")},
)
async def typing_in_composer(
    conversation_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    indicate_typing: NamedDependency[IndicateTyping],
) -> Response[None]:
    try:
        await indicate_typing.execute(principal, conversation_id)
    except NotFound:
        raise
    except DomainError as error:
        # A courtesy to the customer: the agent keeps typing whatever Meta said.
        logger.info("typing indicator not shown", extra={"reason": error.message})
        return Response(content=None, status_code=204, headers={"X-Typing": "skipped"})
    return Response(content=None, status_code=204, headers={"X-Typing": "shown"})


ROUTES = [typing_in_composer]
