"""Message templates, as stored at Meta and synced here."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped


class MessageTemplateRow(TenantScoped):
    __tablename__ = "message_templates"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "name", "language"),
        sa.Index(None, "tenant_id", "meta_template_id"),
    )

    name: Mapped[str] = mapped_column(sa.String(512))
    language: Mapped[str] = mapped_column(sa.String(16))
    channel_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="SET NULL"))
    meta_template_id: Mapped[str | None] = mapped_column(sa.String(64))
    category: Mapped[str | None] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(32), default="PENDING")
    quality_score: Mapped[str | None] = mapped_column(sa.String(32))
    rejected_reason: Mapped[str | None] = mapped_column(sa.String(500))
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    parameter_format: Mapped[str | None] = mapped_column(sa.String(16))
    synced_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
