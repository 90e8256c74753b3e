"""Files the business sends: kept in the media storage when they are uploaded for sending, and recorded on the
outgoing messages that carry them exactly as a downloaded inbound file is on its message (`media_files`,
`media_state` "stored"), so the inbox shows them and `GET /api/v1/messages/{id}/media` gives them back."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from pywhatsapp.application.media.ports import MediaStorage
from pywhatsapp.domain.media.inbound import MediaState
from pywhatsapp.domain.media.outbound import UploadedFile, sent_media_id, upload_storage_path
from pywhatsapp.domain.messaging.message import Message

logger = logging.getLogger(__name__)
HASH_IN_THREAD = 1024 * 1024
"""Files larger than this are hashed off the event loop."""
MAX_FILENAME = 500


class KeepUploadedMedia:
    def __init__(self, uow_factory: UnitOfWorkFactory, storage: MediaStorage) -> None:
        self._uow_factory = uow_factory
        self._storage = storage

    async def keep(
        self,
        tenant_id: UUID,
        *,
        channel_id: UUID | None,
        media_id: str,
        kind: str,
        mime_type: str,
        filename: str | None,
        data: bytes,
    ) -> UploadedFile | None:
        """One storage write and one row, after Meta took the file. None when either failed: the failure is
        logged and the upload still answers, since Meta has the file and its id sends it; messages sent
        with it then show as a file without a copy, as media sent by link do."""
        if len(data) > HASH_IN_THREAD:
            digest = (await asyncio.to_thread(hashlib.sha256, data)).hexdigest()
        else:
            digest = hashlib.sha256(data).hexdigest()
        upload = UploadedFile(
            tenant_id=tenant_id,
            media_id=media_id,
            kind=kind,
            mime_type=mime_type,
            size=len(data),
            sha256=digest,
            storage_path=upload_storage_path(tenant_id, media_id),
            channel_id=channel_id,
            filename=filename[:MAX_FILENAME] if filename else None,
        )
        try:
            await self._storage.save(upload.storage_path, data, mime_type)
            async with self._uow_factory(tenant_id) as uow:
                await uow.media_downloads.keep_upload(upload)
                await uow.commit()
        except Exception:
            logger.warning(
                "an uploaded file could not be kept; its messages will show no copy of it",
                extra={"media_id": media_id},
                exc_info=True,
            )
            return None
        logger.info("uploaded media stored", extra={"media_id": media_id, "bytes": len(data), "kind": kind})
        return upload


async def uploaded_file_for(
    uow: UnitOfWork, message_type: str, payload: dict[str, Any] | list[Any]
) -> UploadedFile | None:
    """The kept file a message to send refers to by media id (one lookup); None for other messages, media
    sent by link and media ids the app did not upload (or could not keep)."""
    media_id = sent_media_id(message_type, payload)
    return None if media_id is None else await uow.media_downloads.find_upload(media_id)


def with_stored_media(message: Message, upload: UploadedFile | None) -> Message:
    """The outgoing message as it is added: "stored" when it carries a kept file."""
    if upload is not None:
        message.media_state = MediaState.STORED.value
    return message


async def record_sent_media(
    uow: UnitOfWork, message: Message, upload: UploadedFile | None, payload: dict[str, Any] | list[Any]
) -> None:
    """Record the kept file on the just-added outgoing message (the document's filename as sent, if any)."""
    if upload is None:
        return
    sent_name = payload.get("filename") if isinstance(payload, dict) else None
    filename = str(sent_name)[:MAX_FILENAME] if sent_name else upload.filename
    await uow.media_downloads.attach_upload(message.id, message.channel_id, upload, filename)
