"""What the QR code use cases need: Meta's QR code endpoint (the gateway) and the stored codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.qr_codes.qr_code import QrCode


@dataclass(frozen=True)
class MetaQrCode:
    """A code as Meta describes it (`/{phone-number-id}/message_qrdls`)."""

    code: str
    prefilled_message: str
    deep_link_url: str
    qr_image_url: str | None = None


class QrCodeGateway(Protocol):
    """Meta's QR code endpoint of a phone number. Refusals raise SendRefused; silence GatewayUnreachable."""

    async def create(self, channel: Channel, *, prefilled_message: str, image_format: str) -> MetaQrCode: ...

    async def update(self, channel: Channel, code: str, *, prefilled_message: str) -> MetaQrCode: ...

    async def get(self, channel: Channel, code: str, *, image_format: str | None) -> MetaQrCode | None:
        """The code (with its image URL in `image_format`, if given); None when Meta does not know it."""
        ...

    async def list(self, channel: Channel) -> list[MetaQrCode]:
        """Every code of the channel's phone number (all pages)."""
        ...

    async def delete(self, channel: Channel, code: str) -> None: ...

    async def download_image(self, channel: Channel, url: str, *, max_bytes: int) -> bytes: ...


class QrCodes(Protocol):
    """The tenant's stored QR codes (`uow.qr_codes`)."""

    async def add(self, qr_code: QrCode) -> QrCode: ...

    async def update(self, qr_code: QrCode) -> QrCode: ...

    async def by_code(self, code: str) -> QrCode | None: ...

    async def page(self, *, limit: int, offset: int, channel_id: UUID | None = None) -> Sequence[QrCode]:
        """Newest first."""
        ...

    async def total(self, *, channel_id: UUID | None = None) -> int: ...

    async def remove(self, qr_code_id: UUID) -> bool: ...

    async def matching(self, channel_id: UUID, text: str) -> QrCode | None:
        """The channel's newest code whose prefilled message is exactly `text`."""
        ...

    async def count_message(self, qr_code_id: UUID, at: datetime) -> None:
        """One more inbound message came from the code (its last one at `at`, if later)."""
        ...
