"""Media in SQL. Inbound files: queued in the webhook's transaction, claimed across tenants by the media
workers with FOR UPDATE SKIP LOCKED and a lease, settled in the file's tenant. Files uploaded for sending:
kept by media id, and recorded as the stored file of each outgoing message sent with that id."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pywhatsapp.adapters.persistence.mapping import column_values, to_entity
from pywhatsapp.adapters.persistence.models import ChannelRow, MediaFileRow, MessageRow
from pywhatsapp.adapters.persistence.models.media import UploadedMediaRow
from pywhatsapp.adapters.persistence.scoping import TRUSTED_WRITE, open_scope, stamped_rows
from pywhatsapp.application.media.ports import ClaimedMedia
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.media.inbound import InboundMedia, MediaReference, MediaState
from pywhatsapp.domain.media.outbound import UploadedFile
from pywhatsapp.domain.messaging.message import Message

SETTLED_FIELDS = (
    "state",
    "next_attempt_at",
    "last_error",
    "mime_type",
    "size",
    "sha256",
    "storage_path",
    "stored_at",
)
SERVER_SET = ("tenant_id", "next_attempt_at", "created_at", "updated_at")
KEPT_UPLOAD_FIELDS = ("channel_id", "kind", "mime_type", "size", "sha256", "storage_path", "filename")


class SqlMediaDownloads:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def request(self, message_id: UUID, channel_id: UUID, reference: MediaReference) -> bool:
        media = InboundMedia(
            tenant_id=UUID(int=0),  # replaced by the session's tenant
            message_id=message_id,
            channel_id=channel_id,
            media_id=reference.media_id,
            kind=reference.kind,
            declared_mime_type=reference.mime_type,
            declared_sha256=reference.sha256,
            filename=reference.filename,
        )
        values = column_values(media, MediaFileRow)
        for server_set in SERVER_SET:
            values.pop(server_set, None)
        (row,) = stamped_rows(self._session.sync_session, [values])
        statement = insert(MediaFileRow).values(row)
        # A file given up on is queued again (a replay, or Meta repeating the webhook); one queued, stored
        # or refused is left as it is. Media ids and tokens may have changed: the newest are kept.
        upsert = statement.on_conflict_do_update(
            index_elements=[MediaFileRow.tenant_id, MediaFileRow.message_id],
            set_={
                "state": MediaState.PENDING.value,
                "attempts": 0,
                "next_attempt_at": sa.func.now(),
                "last_error": None,
                "media_id": statement.excluded.media_id,
                "channel_id": statement.excluded.channel_id,
                "updated_at": sa.func.now(),
            },
            where=MediaFileRow.state == MediaState.FAILED.value,
        ).returning(MediaFileRow.id)
        queued = (
            await self._session.execute(upsert, execution_options={TRUSTED_WRITE: True})
        ).scalar_one_or_none()
        if queued is None:
            return False
        await self._session.execute(
            sa.update(MessageRow)
            .where(MessageRow.id == message_id)
            .values(media_state=MediaState.PENDING.value, media_error=None)
        )
        return True

    async def for_message(self, message_id: UUID) -> InboundMedia | None:
        row = await self._session.scalar(sa.select(MediaFileRow).where(MediaFileRow.message_id == message_id))
        return None if row is None else to_entity(row, InboundMedia)

    async def record(self, media: InboundMedia) -> Message | None:
        await self._session.execute(
            sa.update(MediaFileRow)
            .where(MediaFileRow.id == media.id)
            .values({name: getattr(media, name) for name in SETTLED_FIELDS} | {"updated_at": sa.func.now()})
        )
        error = None if media.state is MediaState.STORED else media.last_error
        row = (
            await self._session.scalars(
                sa.update(MessageRow)
                .where(MessageRow.id == media.message_id)
                .values(media_state=media.state.value, media_error=error, updated_at=sa.func.now())
                .returning(MessageRow),
                execution_options={"populate_existing": True},
            )
        ).first()
        return None if row is None else to_entity(row, Message)

    async def keep_upload(self, upload: UploadedFile) -> None:
        values = column_values(upload, UploadedMediaRow)
        for server_set in SERVER_SET:
            values.pop(server_set, None)
        (row,) = stamped_rows(self._session.sync_session, [values])
        statement = insert(UploadedMediaRow).values(row)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[UploadedMediaRow.tenant_id, UploadedMediaRow.media_id],
                set_={name: getattr(statement.excluded, name) for name in KEPT_UPLOAD_FIELDS}
                | {"updated_at": sa.func.now()},
            ),
            execution_options={TRUSTED_WRITE: True},
        )

    async def find_upload(self, media_id: str) -> UploadedFile | None:
        row = await self._session.scalar(
            sa.select(UploadedMediaRow).where(UploadedMediaRow.media_id == media_id)
        )
        return None if row is None else to_entity(row, UploadedFile)

    async def attach_upload(
        self, message_id: UUID, channel_id: UUID | None, upload: UploadedFile, filename: str | None
    ) -> None:
        media = InboundMedia(
            tenant_id=UUID(int=0),  # replaced by the session's tenant
            message_id=message_id,
            channel_id=channel_id,
            media_id=upload.media_id,
            kind=upload.kind,
            declared_mime_type=upload.mime_type,
            declared_sha256=upload.sha256,
            filename=filename,
            state=MediaState.STORED,
            mime_type=upload.mime_type,
            size=upload.size,
            sha256=upload.sha256,
            storage_path=upload.storage_path,
            stored_at=upload.created_at,
        )
        values = column_values(media, MediaFileRow)
        for server_set in SERVER_SET:
            values.pop(server_set, None)
        (row,) = stamped_rows(self._session.sync_session, [values])
        await self._session.execute(insert(MediaFileRow).values(row), execution_options={TRUSTED_WRITE: True})


class SqlMediaClaims:
    """One claim per instance, in its own short transaction: the lease, not a held lock, keeps other
    workers off a file while it downloads."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def claim(self, limit: int, lease: timedelta) -> list[ClaimedMedia]:
        async with self._session_factory() as session:
            open_scope(session.sync_session, None, all_tenants=True)
            due = (
                sa.select(MediaFileRow.id)
                .where(
                    MediaFileRow.state == MediaState.PENDING, MediaFileRow.next_attempt_at <= sa.func.now()
                )
                .order_by(MediaFileRow.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            rows = (
                await session.scalars(
                    sa.update(MediaFileRow)
                    .where(MediaFileRow.id.in_(due))
                    .values(
                        attempts=MediaFileRow.attempts + 1,
                        next_attempt_at=sa.func.now() + lease,
                        updated_at=sa.func.now(),
                    )
                    .returning(MediaFileRow),
                    execution_options={"populate_existing": True},
                )
            ).all()
            claimed = [to_entity(row, InboundMedia) for row in rows]
            channel_ids = {media.channel_id for media in claimed if media.channel_id is not None}
            channels: dict[UUID, Channel] = {}
            if channel_ids:
                for channel_row in await session.scalars(
                    sa.select(ChannelRow).where(ChannelRow.id.in_(channel_ids))
                ):
                    channels[channel_row.id] = to_entity(channel_row, Channel)
            await session.commit()
        return [
            ClaimedMedia(media, channels.get(media.channel_id) if media.channel_id else None)
            for media in claimed
        ]
