"""Inbound media: what a customer's image, voice note or document must be to be kept, and how its download
is retried. Pure rules; the download itself happens after the webhook is acknowledged."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id
from pywhatsapp.domain.messaging.media import MEDIA_RULES

MEDIA_MESSAGE_TYPES = frozenset({"image", "video", "audio", "voice", "document", "sticker"})
"""Inbound message types that carry a file. Meta sends voice notes as `audio` with `voice: true`; newer
versions may name them `voice`, which is kept under the audio rules."""

_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class MediaState(StrEnum):
    PENDING = "pending"
    """Queued: not downloaded yet, or waiting for its next attempt."""
    STORED = "stored"
    REFUSED = "refused"
    """Downloaded (or described by Meta) and refused: too large, or not the bytes Meta announced."""
    FAILED = "failed"
    """Given up after the retry limit; a replayed or repeated webhook queues it again."""


class MediaTooLarge(Exception):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes is more than the {limit} bytes WhatsApp allows")
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class MediaReference:
    """What a webhook says about a message's file: Meta's media id and the facts to check it against."""

    media_id: str
    kind: str
    mime_type: str | None = None
    sha256: str | None = None
    filename: str | None = None


def kind_of(message_type: str) -> str:
    return "audio" if message_type == "voice" else message_type


def media_reference(message_type: str, content: dict[str, Any]) -> MediaReference | None:
    """The file a stored inbound message refers to, or None for messages without one."""
    if message_type not in MEDIA_MESSAGE_TYPES:
        return None
    media_id = content.get("id")
    if not isinstance(media_id, (str, int)) or isinstance(media_id, bool) or not str(media_id).strip():
        return None

    def text(key: str) -> str | None:
        value = content.get(key)
        return value[:500] if isinstance(value, str) and value else None

    return MediaReference(
        media_id=str(media_id).strip()[:200],
        kind=kind_of(message_type),
        mime_type=text("mime_type"),
        sha256=text("sha256"),
        filename=text("filename"),
    )


def size_limit(kind: str) -> int:
    return MEDIA_RULES[kind][1] if kind in MEDIA_RULES else max(limit for _, limit in MEDIA_RULES.values())


def sha256_hex(declared: str | None) -> str | None:
    """Meta's sha256 as lowercase hex. Webhooks send it base64-encoded, the media URL answer hex-encoded;
    both are read. None when it is neither."""
    if not declared:
        return None
    value = declared.strip()
    if _HEX_SHA256.match(value):
        return value.lower()
    padded = value + "=" * (-len(value) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decode(padded.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            continue
        if len(raw) == 32:
            return raw.hex()
    return None


def hash_refusal(declared: str | None, actual_hex: str) -> str | None:
    """Why the downloaded bytes are refused (None: they are the announced ones, or nothing was announced)."""
    if declared is None:
        return None
    expected = sha256_hex(declared)
    if expected is None:
        return f"the announced sha256 {declared[:80]!r} is neither hex nor base64 of 32 bytes"
    if expected != actual_hex.lower():
        return f"sha256 mismatch: Meta announced {expected}, the downloaded file has {actual_hex.lower()}"
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off: `first_delay` doubling up to `max_delay`, at most `max_attempts` attempts."""

    max_attempts: int = 12
    first_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=1)

    def delay_after(self, attempts: int) -> timedelta:
        """How long to wait after the `attempts`-th failed attempt (1 = the first)."""
        exponent = min(max(attempts - 1, 0), 40)
        delay: timedelta = min(self.first_delay * (2**exponent), self.max_delay)
        return delay

    def next_attempt(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts; None: give up."""
        if attempts >= self.max_attempts:
            return None
        return now + self.delay_after(attempts)


class RangeNotSatisfiable(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"the requested range is outside the file's {size} bytes")
        self.size = size


_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte positions an HTTP Range header asks for; None: the whole file
    (no header, a unit other than bytes, or several ranges, which a server may answer in full)."""
    if not header or "," in header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return max(size - length, 0), size - 1
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable(size)
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None  # syntactically invalid: ignored, as RFC 9110 says
    return start, end


@dataclass(kw_only=True)
class InboundMedia:
    """The file of one inbound message: its download queue entry and, once stored, where it is."""

    tenant_id: UUID
    message_id: UUID
    media_id: str
    kind: str
    id: UUID = field(default_factory=new_id)
    channel_id: UUID | None = None
    declared_mime_type: str | None = None
    declared_sha256: str | None = None
    filename: str | None = None
    state: MediaState = MediaState.PENDING
    attempts: int = 0
    next_attempt_at: datetime = field(default_factory=utc_now)
    last_error: str | None = None
    mime_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    storage_path: str | None = None
    stored_at: datetime | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    @property
    def content_type(self) -> str:
        return self.mime_type or self.declared_mime_type or "application/octet-stream"

    def describe_state(self) -> str:
        text = f"state: {self.state.value}, {self.attempts} download attempt(s)"
        return f"{text}; {self.last_error}" if self.last_error else text
