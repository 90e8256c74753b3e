"""The webhook log: every body Meta posted, as it came, and what became of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped, enum_column
from pywhatsapp.domain.webhooks.webhook_log import WebhookOutcome


class WebhookLogRow(TenantScoped):
    __tablename__ = "webhook_logs"
    __table_args__ = (
        sa.Index(None, "tenant_id", "received_at", "id"),
        sa.Index(None, "tenant_id", "outcome", "received_at"),
    )

    # Bodies about a phone number that no tenant owns are kept too, without a tenant.
    tenant_id: Mapped[UUID | None] = mapped_column(  # type: ignore[assignment]
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True
    )
    phone_number_id: Mapped[str | None] = mapped_column(sa.String(64))
    field_name: Mapped[str | None] = mapped_column(sa.String(64))
    outcome: Mapped[WebhookOutcome] = mapped_column(enum_column(WebhookOutcome, 32))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    body: Mapped[Any] = mapped_column(JSONB)
    raw_body: Mapped[str] = mapped_column(sa.Text)
    item_count: Mapped[int] = mapped_column(default=0, server_default="0")
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
