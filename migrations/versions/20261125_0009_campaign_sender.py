"""Campaign sender

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 21:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "campaigns", sa.Column("duplicates_skipped", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("campaigns", sa.Column("paused_reason", sa.String(length=500), nullable=True))
    op.create_index(
        "ix_campaign_recipients_recently_changed", "campaign_recipients", ["updated_at"], unique=False
    )
    op.create_index(
        "ix_messages_unthreaded",
        "messages",
        ["tenant_id", "wa_id"],
        unique=False,
        postgresql_where=sa.text("conversation_id IS NULL AND group_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_messages_unthreaded",
        table_name="messages",
        postgresql_where=sa.text("conversation_id IS NULL AND group_id IS NULL"),
    )
    op.drop_index("ix_campaign_recipients_recently_changed", table_name="campaign_recipients")
    op.drop_column("campaigns", "paused_reason")
    op.drop_column("campaigns", "duplicates_skipped")
