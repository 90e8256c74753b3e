"""What the gateways of a WABA's assets at Meta (message templates, flows) share: the channel's WABA id,
Meta's errors as the domain's, and the items and next cursor of one page of a Graph API list."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import httpx
from pywa.errors import WhatsAppError

from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.errors import Conflict, InvalidInput
from pywhatsapp.domain.templates.errors import MetaUnreachable

TOKEN_REFUSED = 190


class Refusal(Protocol):
    """The domain's error for Meta refusing an operation (`TemplateRefused`, `FlowRefused`)."""

    def __call__(self, code: int, detail: str, *, subcode: int | None = None) -> Exception: ...


def waba_id(channel: Channel, *, to_manage: str) -> str:
    """The channel's WhatsApp Business Account id, which managing `to_manage` ("templates") needs."""
    if not channel.waba_id:
        raise InvalidInput(
            "the channel has no WhatsApp Business Account id (waba_id); set it with PATCH "
            f"/api/v1/channels/{{id}} to manage {to_manage}"
        )
    return channel.waba_id


async def call_meta(operation: str, coroutine: Any, *, refused: Refusal, logger: logging.Logger) -> Any:
    """Await a PyWA call: a refused token is a Conflict, any other refusal `refused`, and no answer
    `MetaUnreachable` (logged on the caller's `logger`)."""
    try:
        return await coroutine
    except WhatsAppError as error:
        if int(error.code) == TOKEN_REFUSED:
            raise Conflict(
                "Meta refused the channel's access token (190); set a new token on the channel"
            ) from error
        detail = error.user_msg or error.details or error.message
        raise refused(int(error.code), str(detail), subcode=error.subcode) from error
    except httpx.HTTPError as error:
        logger.warning("Meta did not answer", extra={"operation": operation, "error": type(error).__name__})
        raise MetaUnreachable(operation) from error


def page_of(answer: Any) -> tuple[list[dict[str, Any]], str | None]:
    """A Graph API list page's items (those that are objects) and the cursor of the page after it, None
    on the last page: Meta leaves `next` out of the last page (its `after` cursor is still there)."""
    items = answer.get("data") if isinstance(answer, dict) else None
    paging = answer.get("paging") or {}
    cursor = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
    return [item for item in items or [] if isinstance(item, dict)], str(cursor) if cursor else None
