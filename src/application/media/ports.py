"""What media needs: the tenant's files in its unit of work (inbound downloads, files uploaded for sending),
Meta's media download, a file store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.media.inbound import InboundMedia, MediaReference
from pywhatsapp.domain.media.outbound import UploadedFile
from pywhatsapp.domain.messaging.message import Message


class MediaDownloads(Protocol):
    """The tenant's media files (`uow.media_downloads`), written in the unit of work's transaction: inbound
    files and their download queue, files uploaded for sending and the outgoing messages that carry them."""

    async def request(self, message_id: UUID, channel_id: UUID, reference: MediaReference) -> bool:
        """Queue the message's file; a file already queued or stored is left alone, one that was given up
        is queued again. True when it is (again) waiting for a download."""
        ...

    async def for_message(self, message_id: UUID) -> InboundMedia | None: ...

    async def record(self, media: InboundMedia) -> Message | None:
        """Store the outcome of an attempt (state, facts, error) on the file and on its message."""
        ...

    async def keep_upload(self, upload: UploadedFile) -> None:
        """Record a file uploaded for sending (already in the storage); the same media id replaces it."""
        ...

    async def find_upload(self, media_id: str) -> UploadedFile | None:
        """The tenant's uploaded file with Meta's media id (one indexed lookup)."""
        ...

    async def attach_upload(
        self, message_id: UUID, channel_id: UUID | None, upload: UploadedFile, filename: str | None
    ) -> None:
        """Record the uploaded file as the stored file of an outgoing message (added in this transaction,
        with `media_state` "stored"), as a downloaded inbound file is recorded on its message."""
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
