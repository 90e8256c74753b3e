"""Contacts, WhatsApp groups with their participants, and audiences with their members."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped, enum_column
from pywhatsapp.domain.contacts.audience import AudienceKind
from pywhatsapp.domain.contacts.group import GroupState, JoinApprovalMode


class ContactRow(TenantScoped):
    __tablename__ = "contacts"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "wa_id"),
        sa.Index(None, "tenant_id", "created_at"),
        # GIN cannot lead with a UUID without btree_gin; tag queries always add the tenant filter too.
        sa.Index("ix_contacts_tags", "tags", postgresql_using="gin"),
    )

    wa_id: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str | None] = mapped_column(sa.String(200))
    tags: Mapped[list[str]] = mapped_column(ARRAY(sa.String(64)), default=list, server_default="{}")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    opted_out: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    opted_out_changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_inbound_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class GroupRow(TenantScoped):
    __tablename__ = "groups"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "group_id"),
        sa.Index(None, "tenant_id", "created_at"),
        # The creation webhook names the group only by the request id of its creation.
        sa.UniqueConstraint("tenant_id", "request_id"),
    )

    subject: Mapped[str] = mapped_column(sa.String(200))
    group_id: Mapped[str | None] = mapped_column(sa.String(128))
    channel_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="SET NULL"))
    description: Mapped[str | None] = mapped_column(sa.Text)
    invite_link: Mapped[str | None] = mapped_column(sa.String(500))
    join_approval_mode: Mapped[JoinApprovalMode] = mapped_column(
        enum_column(JoinApprovalMode), default=JoinApprovalMode.AUTO_APPROVE, server_default="auto_approve"
    )
    state: Mapped[GroupState] = mapped_column(
        enum_column(GroupState), default=GroupState.ACTIVE, server_default="active"
    )
    request_id: Mapped[str | None] = mapped_column(sa.String(128))
    suspended: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    error: Mapped[str | None] = mapped_column(sa.String(500))


class GroupParticipantRow(TenantScoped):
    __tablename__ = "group_participants"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "group_id", "wa_id"),)

    group_id: Mapped[UUID] = mapped_column(sa.ForeignKey("groups.id", ondelete="CASCADE"))
    wa_id: Mapped[str] = mapped_column(sa.String(32))
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class AudienceRow(TenantScoped):
    __tablename__ = "audiences"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "name"),
        sa.Index(None, "tenant_id", "created_at"),
    )

    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[AudienceKind] = mapped_column(enum_column(AudienceKind), default=AudienceKind.STATIC)
    tags: Mapped[list[str]] = mapped_column(ARRAY(sa.String(64)), default=list, server_default="{}")
    description: Mapped[str | None] = mapped_column(sa.Text)


class AudienceMemberRow(TenantScoped):
    __tablename__ = "audience_members"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "audience_id", "contact_id"),
        sa.Index(None, "tenant_id", "contact_id"),
    )

    audience_id: Mapped[UUID] = mapped_column(sa.ForeignKey("audiences.id", ondelete="CASCADE"))
    contact_id: Mapped[UUID] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
