"""Campaigns and their recipients, each recipient with its own delivery state."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped, enum_column
from pywhatsapp.domain.campaigns.campaign import CampaignStatus, RecipientState


class CampaignRow(TenantScoped):
    __tablename__ = "campaigns"
    __table_args__ = (
        sa.Index(None, "tenant_id", "created_at"),
        sa.Index(None, "tenant_id", "status", "scheduled_at"),
    )

    name: Mapped[str] = mapped_column(sa.String(200))
    channel_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="SET NULL"))
    template_name: Mapped[str | None] = mapped_column(sa.String(512))
    language: Mapped[str | None] = mapped_column(sa.String(16))
    text: Mapped[str | None] = mapped_column(sa.Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    flow: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[CampaignStatus] = mapped_column(enum_column(CampaignStatus), default=CampaignStatus.DRAFT)
    scheduled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_by_user_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    duplicates_skipped: Mapped[int] = mapped_column(default=0, server_default="0")
    paused_reason: Mapped[str | None] = mapped_column(sa.String(500))


class CampaignRecipientRow(TenantScoped):
    __tablename__ = "campaign_recipients"
    __table_args__ = (
        # One row per person per campaign: duplicates in an audience are skipped, not sent twice.
        sa.UniqueConstraint("tenant_id", "campaign_id", "wa_id"),
        # Workers claim the next pending recipients of a campaign.
        sa.Index(
            "ix_campaign_recipients_claim_order", "tenant_id", "campaign_id", "state", "next_attempt_at"
        ),
        sa.Index(None, "tenant_id", "wamid"),
        # The progress publisher finds campaigns whose recipients changed lately, across tenants.
        sa.Index("ix_campaign_recipients_recently_changed", "updated_at"),
    )

    campaign_id: Mapped[UUID] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    wa_id: Mapped[str] = mapped_column(sa.String(32))
    state: Mapped[RecipientState] = mapped_column(enum_column(RecipientState), default=RecipientState.PENDING)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    wamid: Mapped[str | None] = mapped_column(sa.String(200))
    error_code: Mapped[int | None] = mapped_column()
    error_title: Mapped[str | None] = mapped_column(sa.String(500))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
