"""Campaigns that send a WhatsApp Flow (an interactive flow message to recipients inside their window)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 01:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("flow", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("campaigns", "flow")
