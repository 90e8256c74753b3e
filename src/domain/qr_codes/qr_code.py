"""Message QR codes (Meta's "message_qrdls"): a code and short link that open a chat with the business
with a prefilled message. What came in through one is counted on it.

Meta's rules (WhatsApp Business Management API, QR codes and short links): the prefilled message holds at
most 140 characters; the image is PNG or SVG; a phone number holds at most 2,000 codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import Conflict, InvalidInput
from pywhatsapp.domain.ids import new_id

MAX_PREFILLED_MESSAGE = 140
MAX_CODES_PER_NUMBER = 2000
IMAGE_CONTENT_TYPES = {"PNG": "image/png", "SVG": "image/svg+xml"}
MAX_IMAGE_BYTES = 2 * 1024 * 1024
"""A QR image is a few kilobytes; anything far larger is not one."""


@dataclass(kw_only=True)
class QrCode:
    tenant_id: UUID
    channel_id: UUID
    code: str
    """Meta's code (also the last part of the deep link)."""
    prefilled_message: str
    deep_link_url: str
    image_format: str = "PNG"
    image: bytes | None = None
    """The image as Meta made it; None when Meta gave no image or it could not be downloaded."""
    message_count: int = 0
    """Inbound messages that came from this code (their text is its prefilled message)."""
    last_message_at: datetime | None = None
    id: UUID = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    @property
    def image_content_type(self) -> str:
        return IMAGE_CONTENT_TYPES.get(self.image_format, "application/octet-stream")


class TooManyQrCodes(Conflict):
    def __init__(self) -> None:
        super().__init__(f"A phone number holds at most {MAX_CODES_PER_NUMBER} QR codes; delete one first")


def prefilled_message(value: str) -> str:
    """The prefilled message as it is sent to Meta and matched against inbound texts: trimmed."""
    text = value.strip()
    if not text:
        raise InvalidInput("prefilled_message must not be empty")
    if len(text) > MAX_PREFILLED_MESSAGE:
        raise InvalidInput(f"prefilled_message holds at most {MAX_PREFILLED_MESSAGE} characters")
    if "\x00" in text:
        raise InvalidInput("prefilled_message must not contain NUL characters")
    return text


def image_format(value: str) -> str:
    name = value.strip().upper()
    if name not in IMAGE_CONTENT_TYPES:
        raise InvalidInput("image_format must be PNG or SVG")
    return name


def scanned_text(text: str | None) -> str | None:
    """The text an inbound message would carry if it came from a QR code: trimmed, or None."""
    if text is None:
        return None
    trimmed = text.strip()
    return trimmed if 0 < len(trimmed) <= MAX_PREFILLED_MESSAGE else None
