"""Conversations, messages and reactions: the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped, enum_column
from pywhatsapp.domain.messaging.message import Direction, MessageStatus


class ConversationRow(TenantScoped):
    __tablename__ = "conversations"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "contact_id"),
        # The inbox lists conversations by their latest message, newest first.
        sa.Index(
            "ix_conversations_tenant_inbox_order",
            "tenant_id",
            sa.text("last_message_at DESC NULLS LAST"),
            "id",
        ),
    )

    contact_id: Mapped[UUID] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    channel_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="SET NULL"))
    last_message_id: Mapped[UUID | None] = mapped_column()
    last_message_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_inbound_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    unread_count: Mapped[int] = mapped_column(default=0, server_default="0")


class MessageRow(TenantScoped):
    __tablename__ = "messages"
    __table_args__ = (
        # Meta delivers webhooks at least once: a wamid is stored once per tenant.
        sa.UniqueConstraint("tenant_id", "wamid"),
        # Threads page by (timestamp, id) within a conversation.
        sa.Index("ix_messages_tenant_thread_order", "tenant_id", "conversation_id", "timestamp", "id"),
        sa.Index(None, "tenant_id", "timestamp", "id"),
        sa.Index(None, "tenant_id", "wa_id", "timestamp"),
        # A group's messages page by (timestamp, id) too.
        sa.Index(
            "ix_messages_tenant_group_order",
            "tenant_id",
            "group_id",
            "timestamp",
            "id",
            postgresql_where=sa.text("group_id IS NOT NULL"),
        ),
        # Messages sent before their contact had a conversation (campaigns) join it when it starts.
        sa.Index(
            "ix_messages_unthreaded",
            "tenant_id",
            "wa_id",
            postgresql_where=sa.text("conversation_id IS NULL AND group_id IS NULL"),
        ),
    )

    wamid: Mapped[str | None] = mapped_column(sa.String(200))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction))
    type: Mapped[str] = mapped_column(sa.String(40))
    wa_id: Mapped[str] = mapped_column(sa.String(64))
    channel_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="SET NULL"))
    contact_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    conversation_id: Mapped[UUID | None] = mapped_column(
        sa.ForeignKey("conversations.id", ondelete="SET NULL")
    )
    group_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("groups.id", ondelete="SET NULL"))
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus), default=MessageStatus.PENDING)
    text: Mapped[str | None] = mapped_column(sa.Text)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    context_wamid: Mapped[str | None] = mapped_column(sa.String(200))
    error_code: Mapped[int | None] = mapped_column()
    error_title: Mapped[str | None] = mapped_column(sa.String(500))
    sent_by_user_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    timestamp: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    # An inbound file's download state (see media_files) and why it is missing, shown with the message.
    media_state: Mapped[str | None] = mapped_column(sa.String(20))
    media_error: Mapped[str | None] = mapped_column(sa.String(500))


class ReactionRow(TenantScoped):
    __tablename__ = "reactions"
    __table_args__ = (
        # One reaction per person per message: a new emoji replaces the old one, an empty one removes it.
        sa.UniqueConstraint("tenant_id", "target_wamid", "wa_id"),
        sa.Index(None, "tenant_id", "message_id"),
    )

    target_wamid: Mapped[str] = mapped_column(sa.String(200))
    wa_id: Mapped[str] = mapped_column(sa.String(64))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction))
    emoji: Mapped[str | None] = mapped_column(sa.String(32))
    message_id: Mapped[UUID | None] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    wamid: Mapped[str | None] = mapped_column(sa.String(200))
