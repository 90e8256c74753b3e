"""WhatsApp Flows

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 22:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("meta_flow_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.String(length=40)), server_default="{}", nullable=False),
        sa.Column(
            "validation_errors", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column("json_version", sa.String(length=16), nullable=True),
        sa.Column("data_api_version", sa.String(length=16), nullable=True),
        sa.Column("endpoint_uri", sa.String(length=2000), nullable=True),
        sa.Column("flow_json", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("preview_url", sa.String(length=2000), nullable=True),
        sa.Column("preview_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("routes", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_flows_channel_id_channels"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_flows_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flows")),
        sa.UniqueConstraint("tenant_id", "meta_flow_id", name=op.f("uq_flows_tenant_id_meta_flow_id")),
    )
    op.create_index(op.f("ix_flows_tenant_id_name"), "flows", ["tenant_id", "name"], unique=False)
    op.create_table(
        "flow_keys",
        sa.Column("private_key_pem", sa.String(), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_flow_keys_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_keys")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_flow_keys_tenant_id")),
    )


def downgrade() -> None:
    op.drop_table("flow_keys")
    op.drop_index(op.f("ix_flows_tenant_id_name"), table_name="flows")
    op.drop_table("flows")
