"""WhatsApp Flows as stored at Meta and synced here, and each tenant's flow key pair (encrypted at rest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped
from pywhatsapp.adapters.persistence.encryption import Secret


class FlowRow(TenantScoped):
    __tablename__ = "flows"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "meta_flow_id"),
        sa.Index(None, "tenant_id", "name"),
    )

    name: Mapped[str] = mapped_column(sa.String(200))
    channel_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="SET NULL"))
    meta_flow_id: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(32), default="DRAFT")
    categories: Mapped[list[str]] = mapped_column(ARRAY(sa.String(40)), default=list, server_default="{}")
    validation_errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    json_version: Mapped[str | None] = mapped_column(sa.String(16))
    data_api_version: Mapped[str | None] = mapped_column(sa.String(16))
    endpoint_uri: Mapped[str | None] = mapped_column(sa.String(2000))
    flow_json: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    preview_url: Mapped[str | None] = mapped_column(sa.String(2000))
    preview_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    routes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    synced_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class FlowKeyRow(TenantScoped):
    __tablename__ = "flow_keys"
    __table_args__ = (sa.UniqueConstraint("tenant_id"),)

    private_key_pem: Mapped[str] = mapped_column(Secret())
    public_key_pem: Mapped[str] = mapped_column(sa.Text())
    registered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
