"""API keys: tenant-scoped, stored as hashes, found by their public prefix."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped, enum_column
from pywhatsapp.domain.tenancy.membership import Role


class ApiKeyRow(TenantScoped):
    __tablename__ = "api_keys"
    __table_args__ = (
        sa.UniqueConstraint("prefix"),
        sa.Index(None, "tenant_id", "created_at"),
    )

    name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    prefix: Mapped[str] = mapped_column(sa.String(32))
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    created_by_user_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
