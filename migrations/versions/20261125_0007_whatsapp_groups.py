"""WhatsApp groups

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 21:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "groups",
        sa.Column(
            "join_approval_mode",
            sa.Enum(
                "auto_approve",
                "approval_required",
                name="joinapprovalmode",
                native_enum=False,
                create_constraint=False,
                length=20,
            ),
            server_default="auto_approve",
            nullable=False,
        ),
    )
    op.add_column(
        "groups",
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "active",
                "failed",
                name="groupstate",
                native_enum=False,
                create_constraint=False,
                length=20,
            ),
            server_default="active",
            nullable=False,
        ),
    )
    op.add_column("groups", sa.Column("request_id", sa.String(length=128), nullable=True))
    op.add_column("groups", sa.Column("suspended", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("groups", sa.Column("error", sa.String(length=500), nullable=True))
    op.create_unique_constraint(op.f("uq_groups_tenant_id_request_id"), "groups", ["tenant_id", "request_id"])
    # The inbox lists a group's messages by time, as it lists a conversation's.
    op.create_index(
        "ix_messages_tenant_group_order",
        "messages",
        ["tenant_id", "group_id", "timestamp", "id"],
        unique=False,
        postgresql_where=sa.text("group_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_messages_tenant_group_order",
        table_name="messages",
        postgresql_where=sa.text("group_id IS NOT NULL"),
    )
    op.drop_constraint(op.f("uq_groups_tenant_id_request_id"), "groups", type_="unique")
    op.drop_column("groups", "error")
    op.drop_column("groups", "suspended")
    op.drop_column("groups", "request_id")
    op.drop_column("groups", "state")
    op.drop_column("groups", "join_approval_mode")
