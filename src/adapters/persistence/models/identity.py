"""Tenants, users and memberships: identity spans tenants, so these tables are not tenant-scoped."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import Record, enum_column
from pywhatsapp.domain.tenancy.membership import Role


class TenantRow(Record):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(63), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class UserRow(Record):
    __tablename__ = "users"
    __table_args__ = (sa.Index(None, "tenant_id", "created_at"),)

    tenant_id: Mapped[UUID] = mapped_column(sa.ForeignKey("tenants.id", ondelete="RESTRICT"))
    username: Mapped[str] = mapped_column(sa.String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(128))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    full_name: Mapped[str | None] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    tokens_valid_after: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class MembershipRow(Record):
    __tablename__ = "memberships"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "user_id"),
        sa.Index(None, "user_id"),
    )

    tenant_id: Mapped[UUID] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(enum_column(Role))
