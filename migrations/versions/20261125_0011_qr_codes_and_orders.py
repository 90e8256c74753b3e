"""Message QR codes (orders need no table: they are messages with their items in `content`)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 23:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qr_codes",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("prefilled_message", sa.String(length=500), nullable=False),
        sa.Column("deep_link_url", sa.String(length=500), nullable=False),
        sa.Column("image_format", sa.String(length=10), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_qr_codes_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_qr_codes_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qr_codes")),
        sa.UniqueConstraint(
            "tenant_id", "channel_id", "code", name=op.f("uq_qr_codes_tenant_id_channel_id_code")
        ),
    )
    op.create_index(
        op.f("ix_qr_codes_tenant_id_channel_id_prefilled_message"),
        "qr_codes",
        ["tenant_id", "channel_id", "prefilled_message"],
        unique=False,
    )
    op.create_index(
        op.f("ix_qr_codes_tenant_id_created_at"), "qr_codes", ["tenant_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_qr_codes_tenant_id_created_at"), table_name="qr_codes")
    op.drop_index(op.f("ix_qr_codes_tenant_id_channel_id_prefilled_message"), table_name="qr_codes")
    op.drop_table("qr_codes")
