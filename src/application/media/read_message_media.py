"""A message's stored file for the inbox: whole, a byte range of it, or an image's thumbnail."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.media.ports import MediaStorage, Thumbnails
from pywhatsapp.domain.errors import InvalidInput, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.media.inbound import MediaState, byte_range

THUMBNAIL_SIDE = 320
THUMBNAIL_KINDS = frozenset({"image", "sticker"})


@dataclass(frozen=True)
class MediaContent:
    data: bytes
    content_type: str
    size: int
    """The whole file's size (a range answer carries a part of it)."""
    filename: str | None
    sha256: str | None
    range: tuple[int, int] | None = None


class ReadMessageMedia:
    def __init__(self, uow_factory: UnitOfWorkFactory, storage: MediaStorage, thumbnails: Thumbnails) -> None:
        self._uow_factory = uow_factory
        self._storage = storage
        self._thumbnails = thumbnails

    async def execute(
        self,
        principal: Principal,
        message_id: UUID,
        *,
        range_header: str | None = None,
        thumbnail: bool = False,
    ) -> MediaContent:
        """RangeNotSatisfiable for a range outside the file; NotFound (saying the state) until stored."""
        async with self._uow_factory(principal.tenant_id) as uow:
            message = await uow.messages.get(message_id)
            if message is None:
                raise NotFound(f"No message {message_id} in this tenant")
            media = await uow.media_downloads.for_message(message_id)
        if media is None:
            raise NotFound(f"Message {message_id} has no media file")
        if media.state is not MediaState.STORED or media.storage_path is None or media.size is None:
            raise NotFound(f"The media of message {message_id} is not stored ({media.describe_state()})")
        if thumbnail:
            if media.kind not in THUMBNAIL_KINDS:
                raise InvalidInput(f"Thumbnails exist for images and stickers, not for a {media.kind}")
            data = await self._storage.read(media.storage_path)
            try:
                small = await asyncio.to_thread(self._thumbnails.thumbnail, data, THUMBNAIL_SIDE)
            except ValueError as error:
                raise InvalidInput(f"The stored {media.kind} cannot be read as an image") from error
            return MediaContent(small, "image/jpeg", len(small), None, None)
        wanted = byte_range(range_header, media.size)
        if wanted is None:
            data = await self._storage.read(media.storage_path)
        else:
            data = await self._storage.read(media.storage_path, wanted[0], wanted[1])
        return MediaContent(data, media.content_type, media.size, media.filename, media.sha256, wanted)
