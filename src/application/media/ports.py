"""What inbound media needs: its queue in the tenant's unit of work, Meta's media download, a file store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.media.inbound import InboundMedia, MediaReference
from pywhatsapp.domain.messaging.message import Message


class MediaDownloads(Protocol):
    """The tenant's inbound files (`uow.media_downloads`), written in the unit of work's transaction."""

    async def request(self, message_id: UUID, channel_id: UUID, reference: MediaReference) -> bool:
        """Queue the message's file; a file already queued or stored is left alone, one that was given up
        is queued again. True when it is (again) waiting for a download."""
        ...

    async def for_message(self, message_id: UUID) -> InboundMedia | None: ...

    async def record(self, media: InboundMedia) -> Message | None:
        """Store the outcome of an attempt (state, facts, error) on the file and on its message."""
        ...


@dataclass(frozen=True)
class ClaimedMedia:
    media: InboundMedia
    channel: Channel | None


class MediaClaims(Protocol):
    """The download queue across tenants, for the background workers."""

    async def claim(self, limit: int, lease: timedelta) -> list[ClaimedMedia]:
        """Due downloads, each leased for `lease` (a worker that dies lets it come due again), with its
        attempt counted."""
        ...


class MediaClaimsFactory(Protocol):
    def __call__(self) -> MediaClaims: ...


@dataclass(frozen=True)
class FetchedMedia:
    data: bytes
    mime_type: str | None
    sha256: str | None
    """As Meta's media URL answer gives it (hex)."""


class MediaSource(Protocol):
    """Meta's media endpoints, with the channel's token (the WhatsApp gateway)."""

    async def fetch_media(self, channel: Channel, media_id: str, *, max_bytes: int) -> FetchedMedia:
        """The file's bytes. MediaTooLarge past `max_bytes` (before downloading when Meta says the size);
        SendRefused when Meta refuses, GatewayUnreachable when it does not answer."""
        ...


class MediaStorage(Protocol):
    @property
    def scheme(self) -> str:
        """Where files go: "file", "s3", "memory"..."""
        ...

    async def save(self, path: str, data: bytes, content_type: str) -> None: ...

    async def read(self, path: str, first: int | None = None, last: int | None = None) -> bytes:
        """The file's bytes, or the inclusive range first..last."""
        ...

    async def delete(self, path: str) -> None: ...


class Thumbnails(Protocol):
    def thumbnail(self, data: bytes, max_side: int) -> bytes:
        """A JPEG of at most max_side pixels a side; ValueError when the bytes are not an image."""
        ...
