"""WhatsApp channels: a tenant's phone numbers at Meta and their credentials (encrypted at rest)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped
from pywhatsapp.adapters.persistence.encryption import Secret


class ChannelRow(TenantScoped):
    __tablename__ = "channels"
    __table_args__ = (
        # A phone number belongs to one tenant: it is how inbound webhooks find their tenant.
        sa.UniqueConstraint("phone_number_id"),
        sa.Index(None, "tenant_id", "created_at"),
    )

    name: Mapped[str] = mapped_column(sa.String(100), default="WhatsApp")
    phone_number_id: Mapped[str] = mapped_column(sa.String(64))
    waba_id: Mapped[str | None] = mapped_column(sa.String(64))
    display_phone_number: Mapped[str | None] = mapped_column(sa.String(32))
    app_id: Mapped[str | None] = mapped_column(sa.String(64))
    access_token: Mapped[str] = mapped_column(Secret())
    app_secret: Mapped[str | None] = mapped_column(Secret())
    verify_token: Mapped[str | None] = mapped_column(Secret())
    messages_per_second: Mapped[int] = mapped_column(default=80, server_default="80")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    paused_reason: Mapped[str | None] = mapped_column(sa.String(500))
