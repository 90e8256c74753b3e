"""Event webhook endpoints, their delivery queue (written in the same transaction as the events) and every
delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped, enum_column
from pywhatsapp.adapters.persistence.encryption import Secret
from pywhatsapp.domain.integrations.event_webhook import DeliveryState


class EventEndpointRow(TenantScoped):
    __tablename__ = "event_endpoints"
    __table_args__ = (sa.Index(None, "tenant_id", "created_at"),)

    url: Mapped[str] = mapped_column(sa.String(2000))
    events: Mapped[list[str]] = mapped_column(ARRAY(sa.String(40)))
    secret: Mapped[str] = mapped_column(Secret())
    description: Mapped[str | None] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(500))
    consecutive_failures: Mapped[int] = mapped_column(default=0, server_default="0")


class EventDeliveryRow(TenantScoped):
    __tablename__ = "event_deliveries"
    __table_args__ = (
        sa.Index(None, "tenant_id", "endpoint_id", "created_at"),
        # The delivery worker's queue: due deliveries across tenants, oldest first.
        sa.Index("ix_event_deliveries_due", "next_attempt_at", postgresql_where=sa.text("state = 'pending'")),
        sa.Index(
            "ix_event_deliveries_order",
            "endpoint_id",
            "ordering_key",
            "created_at",
            postgresql_where=sa.text("state = 'pending'"),
        ),
    )

    endpoint_id: Mapped[UUID] = mapped_column(sa.ForeignKey("event_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    ordering_key: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[DeliveryState] = mapped_column(enum_column(DeliveryState), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    first_failed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    last_latency_ms: Mapped[int | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class EventDeliveryAttemptRow(TenantScoped):
    """One try of a delivery, appended in the transaction that records its outcome on the delivery."""

    __tablename__ = "event_delivery_attempts"
    __table_args__ = (
        sa.Index(None, "tenant_id", "delivery_id", "number"),
        # Pruning old attempts across tenants (the delivery worker, hourly).
        sa.Index(None, "attempted_at"),
    )

    delivery_id: Mapped[UUID] = mapped_column(sa.ForeignKey("event_deliveries.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    attempted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.String(500))
    response_body: Mapped[str | None] = mapped_column(sa.Text())
    latency_ms: Mapped[int] = mapped_column()
