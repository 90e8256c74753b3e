"""Channels, contacts, groups, audiences, inbox, templates, campaigns and the webhook log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:20:45.917280+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audiences",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("static", "dynamic", name="audiencekind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=64)), server_default="{}", nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audiences_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audiences")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_audiences_tenant_id_name")),
    )
    op.create_index(
        op.f("ix_audiences_tenant_id_created_at"), "audiences", ["tenant_id", "created_at"], unique=False
    )
    op.create_table(
        "channels",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone_number_id", sa.String(length=64), nullable=False),
        sa.Column("waba_id", sa.String(length=64), nullable=True),
        sa.Column("display_phone_number", sa.String(length=32), nullable=True),
        sa.Column("app_id", sa.String(length=64), nullable=True),
        sa.Column("access_token", sa.String(), nullable=False),
        sa.Column("app_secret", sa.String(), nullable=True),
        sa.Column("verify_token", sa.String(), nullable=True),
        sa.Column("messages_per_second", sa.Integer(), server_default="80", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("paused_reason", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_channels_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("phone_number_id", name=op.f("uq_channels_phone_number_id")),
    )
    op.create_index(
        op.f("ix_channels_tenant_id_created_at"), "channels", ["tenant_id", "created_at"], unique=False
    )
    op.create_table(
        "contacts",
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.String(length=64)), server_default="{}", nullable=False),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("opted_out", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("opted_out_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_contacts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("tenant_id", "wa_id", name=op.f("uq_contacts_tenant_id_wa_id")),
    )
    op.create_index(
        op.f("ix_contacts_tenant_id_created_at"), "contacts", ["tenant_id", "created_at"], unique=False
    )
    op.create_index("ix_contacts_tags", "contacts", ["tags"], unique=False, postgresql_using="gin")
    op.create_table(
        "webhook_logs",
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("phone_number_id", sa.String(length=64), nullable=True),
        sa.Column("field_name", sa.String(length=64), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "processed",
                "unparseable",
                "unknown_phone_number",
                "rejected_signature",
                "replayed",
                name="webhookoutcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("raw_body", sa.Text(), nullable=False),
        sa.Column("item_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_webhook_logs_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_logs")),
    )
    op.create_index(
        op.f("ix_webhook_logs_tenant_id_outcome_received_at"),
        "webhook_logs",
        ["tenant_id", "outcome", "received_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_webhook_logs_tenant_id_received_at_id"),
        "webhook_logs",
        ["tenant_id", "received_at", "id"],
        unique=False,
    )
    op.create_table(
        "audience_members",
        sa.Column("audience_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audiences.id"],
            name=op.f("fk_audience_members_audience_id_audiences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_audience_members_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_audience_members_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audience_members")),
        sa.UniqueConstraint(
            "tenant_id",
            "audience_id",
            "contact_id",
            name=op.f("uq_audience_members_tenant_id_audience_id_contact_id"),
        ),
    )
    op.create_index(
        op.f("ix_audience_members_tenant_id_contact_id"),
        "audience_members",
        ["tenant_id", "contact_id"],
        unique=False,
    )
    op.create_table(
        "campaigns",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("template_name", sa.String(length=512), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "scheduled",
                "running",
                "paused",
                "completed",
                "cancelled",
                "failed",
                name="campaignstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_campaigns_channel_id_channels"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_campaigns_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaigns_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(
        op.f("ix_campaigns_tenant_id_created_at"), "campaigns", ["tenant_id", "created_at"], unique=False
    )
    op.create_index(
        op.f("ix_campaigns_tenant_id_status_scheduled_at"),
        "campaigns",
        ["tenant_id", "status", "scheduled_at"],
        unique=False,
    )
    op.create_table(
        "conversations",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("last_message_id", sa.Uuid(), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unread_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_conversations_channel_id_channels"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_conversations_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_conversations_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("tenant_id", "contact_id", name=op.f("uq_conversations_tenant_id_contact_id")),
    )
    op.create_index(
        "ix_conversations_tenant_inbox_order",
        "conversations",
        ["tenant_id", sa.literal_column("last_message_at DESC NULLS LAST"), "id"],
        unique=False,
    )
    op.create_table(
        "groups",
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("group_id", sa.String(length=128), nullable=True),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("invite_link", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_groups_channel_id_channels"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_groups_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("tenant_id", "group_id", name=op.f("uq_groups_tenant_id_group_id")),
    )
    op.create_index(
        op.f("ix_groups_tenant_id_created_at"), "groups", ["tenant_id", "created_at"], unique=False
    )
    op.create_table(
        "message_templates",
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("meta_template_id", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("quality_score", sa.String(length=32), nullable=True),
        sa.Column("rejected_reason", sa.String(length=500), nullable=True),
        sa.Column("components", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_message_templates_channel_id_channels"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_message_templates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint(
            "tenant_id", "name", "language", name=op.f("uq_message_templates_tenant_id_name_language")
        ),
    )
    op.create_index(
        op.f("ix_message_templates_tenant_id_meta_template_id"),
        "message_templates",
        ["tenant_id", "meta_template_id"],
        unique=False,
    )
    op.create_table(
        "campaign_recipients",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "delivered",
                "read",
                "failed",
                "skipped",
                name="recipientstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("wamid", sa.String(length=200), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_title", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_recipients_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_campaign_recipients_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_campaign_recipients_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_recipients")),
        sa.UniqueConstraint(
            "tenant_id",
            "campaign_id",
            "wa_id",
            name=op.f("uq_campaign_recipients_tenant_id_campaign_id_wa_id"),
        ),
    )
    op.create_index(
        "ix_campaign_recipients_claim_order",
        "campaign_recipients",
        ["tenant_id", "campaign_id", "state", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_campaign_recipients_tenant_id_wamid"),
        "campaign_recipients",
        ["tenant_id", "wamid"],
        unique=False,
    )
    op.create_table(
        "group_participants",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_participants_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_group_participants_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_participants")),
        sa.UniqueConstraint(
            "tenant_id", "group_id", "wa_id", name=op.f("uq_group_participants_tenant_id_group_id_wa_id")
        ),
    )
    op.create_table(
        "messages",
        sa.Column("wamid", sa.String(length=200), nullable=True),
        sa.Column(
            "direction",
            sa.Enum("incoming", "outgoing", name="direction", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("wa_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "delivered",
                "read",
                "played",
                "received",
                "failed",
                "deleted",
                name="messagestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("context_wamid", sa.String(length=200), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_title", sa.String(length=500), nullable=True),
        sa.Column("sent_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_messages_channel_id_channels"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_messages_contact_id_contacts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_messages_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_messages_group_id_groups"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_user_id"],
            ["users.id"],
            name=op.f("fk_messages_sent_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_messages_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("tenant_id", "wamid", name=op.f("uq_messages_tenant_id_wamid")),
    )
    op.create_index(
        op.f("ix_messages_tenant_id_timestamp_id"), "messages", ["tenant_id", "timestamp", "id"], unique=False
    )
    op.create_index(
        op.f("ix_messages_tenant_id_wa_id_timestamp"),
        "messages",
        ["tenant_id", "wa_id", "timestamp"],
        unique=False,
    )
    op.create_index(
        "ix_messages_tenant_thread_order",
        "messages",
        ["tenant_id", "conversation_id", "timestamp", "id"],
        unique=False,
    )
    op.create_table(
        "reactions",
        sa.Column("target_wamid", sa.String(length=200), nullable=False),
        sa.Column("wa_id", sa.String(length=64), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("incoming", "outgoing", name="direction", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("emoji", sa.String(length=32), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("wamid", sa.String(length=200), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_reactions_message_id_messages"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_reactions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reactions")),
        sa.UniqueConstraint(
            "tenant_id", "target_wamid", "wa_id", name=op.f("uq_reactions_tenant_id_target_wamid_wa_id")
        ),
    )
    op.create_index(
        op.f("ix_reactions_tenant_id_message_id"), "reactions", ["tenant_id", "message_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reactions_tenant_id_message_id"), table_name="reactions")
    op.drop_table("reactions")
    op.drop_index("ix_messages_tenant_thread_order", table_name="messages")
    op.drop_index(op.f("ix_messages_tenant_id_wa_id_timestamp"), table_name="messages")
    op.drop_index(op.f("ix_messages_tenant_id_timestamp_id"), table_name="messages")
    op.drop_table("messages")
    op.drop_table("group_participants")
    op.drop_index(op.f("ix_campaign_recipients_tenant_id_wamid"), table_name="campaign_recipients")
    op.drop_index("ix_campaign_recipients_claim_order", table_name="campaign_recipients")
    op.drop_table("campaign_recipients")
    op.drop_index(op.f("ix_message_templates_tenant_id_meta_template_id"), table_name="message_templates")
    op.drop_table("message_templates")
    op.drop_index(op.f("ix_groups_tenant_id_created_at"), table_name="groups")
    op.drop_table("groups")
    op.drop_index("ix_conversations_tenant_inbox_order", table_name="conversations")
    op.drop_table("conversations")
    op.drop_index(op.f("ix_campaigns_tenant_id_status_scheduled_at"), table_name="campaigns")
    op.drop_index(op.f("ix_campaigns_tenant_id_created_at"), table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_index(op.f("ix_audience_members_tenant_id_contact_id"), table_name="audience_members")
    op.drop_table("audience_members")
    op.drop_index(op.f("ix_webhook_logs_tenant_id_received_at_id"), table_name="webhook_logs")
    op.drop_index(op.f("ix_webhook_logs_tenant_id_outcome_received_at"), table_name="webhook_logs")
    op.drop_table("webhook_logs")
    op.drop_index("ix_contacts_tags", table_name="contacts", postgresql_using="gin")
    op.drop_index(op.f("ix_contacts_tenant_id_created_at"), table_name="contacts")
    op.drop_table("contacts")
    op.drop_index(op.f("ix_channels_tenant_id_created_at"), table_name="channels")
    op.drop_table("channels")
    op.drop_index(op.f("ix_audiences_tenant_id_created_at"), table_name="audiences")
    op.drop_table("audiences")
