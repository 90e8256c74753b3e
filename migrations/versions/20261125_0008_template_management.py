"""Template management

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 21:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("message_templates", sa.Column("parameter_format", sa.String(length=16), nullable=True))
    op.add_column("message_templates", sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("message_templates", "synced_at")
    op.drop_column("message_templates", "parameter_format")
