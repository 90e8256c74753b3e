"""The port to WhatsApp itself (Meta's Cloud API): sending, read receipts, media."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pywhatsapp.domain.channels.channel import Channel


@dataclass(frozen=True)
class OutgoingMessage:
    to: str
    type: str
    payload: dict[str, Any] | list[Any]
    """The type's object exactly as Meta names it (`{"body": ..., "preview_url": true}` for text)."""
    context_wamid: str | None = None
    callback_data: str | None = None
    """Echoed by Meta in status webhooks (biz_opaque_callback_data): lets a lost reply be reconciled."""
    extra: dict[str, Any] = field(default_factory=dict)
    recipient_type: str = "individual"
    """"group" when `to` is Meta's id of a group."""


class GatewayUnreachable(Exception):
    """Meta did not answer (timeout, connection lost): whether the message went out is unknown."""


class RequestNotSent(GatewayUnreachable):
    """The request never left (no connection could be made or had): Meta surely did not get it."""


class WhatsAppGateway(Protocol):
    async def send(self, channel: Channel, message: OutgoingMessage) -> str:
        """The new message's wamid; SendRefused when Meta refuses, GatewayUnreachable when it is mute."""
        ...

    async def mark_read(self, channel: Channel, wamid: str) -> None: ...

    async def prepare(self, channel: Channel) -> None:
        """Get ready for many sends on the channel (a campaign starts)."""
        ...

    async def upload_media(self, channel: Channel, data: bytes, mime_type: str, filename: str) -> str:
        """Meta's media id for the bytes."""
        ...

    async def register_webhook(
        self,
        channel: Channel,
        *,
        app_id: str,
        app_secret: str,
        callback_url: str,
        verify_token: str,
        fields: tuple[str, ...],
    ) -> None:
        """Subscribe the Meta app's webhooks to `callback_url` (Meta verifies it before answering)."""
        ...

    async def close(self) -> None: ...
