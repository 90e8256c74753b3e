"""Media files: the inbound download queue and, once stored, where each file is; files kept for sending."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped, enum_column
from pywhatsapp.domain.media.inbound import MediaState


class MediaFileRow(TenantScoped):
    __tablename__ = "media_files"
    __table_args__ = (
        # One file per message: a repeated or replayed webhook finds the row it queued before.
        sa.UniqueConstraint("tenant_id", "message_id"),
        # The media workers' queue across tenants: due downloads, oldest first.
        sa.Index("ix_media_files_due", "next_attempt_at", postgresql_where=sa.text("state = 'pending'")),
    )

    message_id: Mapped[UUID] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    channel_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="SET NULL"))
    media_id: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20))
    declared_mime_type: Mapped[str | None] = mapped_column(sa.String(500))
    declared_sha256: Mapped[str | None] = mapped_column(sa.String(500))
    filename: Mapped[str | None] = mapped_column(sa.String(500))
    state: Mapped[MediaState] = mapped_column(enum_column(MediaState), default=MediaState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    mime_type: Mapped[str | None] = mapped_column(sa.String(500))
    size: Mapped[int | None] = mapped_column(sa.BigInteger)
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    storage_path: Mapped[str | None] = mapped_column(sa.String(300))
    stored_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class UploadedMediaRow(TenantScoped):
    """Files uploaded for sending, kept under their media id until a message sent with that id records
    them as its stored file (a `media_files` row of its own)."""

    __tablename__ = "uploaded_media"
    __table_args__ = (
        # The send path finds a file by the media id it is sent with.
        sa.UniqueConstraint("tenant_id", "media_id"),
    )

    media_id: Mapped[str] = mapped_column(sa.String(200))
    channel_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    mime_type: Mapped[str] = mapped_column(sa.String(500))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_path: Mapped[str] = mapped_column(sa.String(300))
    filename: Mapped[str | None] = mapped_column(sa.String(500))
