"""Message QR codes of a channel's phone number, with their image and how many messages came from them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped


class QrCodeRow(TenantScoped):
    __tablename__ = "qr_codes"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "channel_id", "code"),
        # Every inbound text is looked up here: is it a code's prefilled message?
        sa.Index(None, "tenant_id", "channel_id", "prefilled_message"),
        sa.Index(None, "tenant_id", "created_at"),
    )

    channel_id: Mapped[UUID] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(100))
    prefilled_message: Mapped[str] = mapped_column(sa.String(500))
    deep_link_url: Mapped[str] = mapped_column(sa.String(500))
    image_format: Mapped[str] = mapped_column(sa.String(10))
    image: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    message_count: Mapped[int] = mapped_column(default=0, server_default="0")
    last_message_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
