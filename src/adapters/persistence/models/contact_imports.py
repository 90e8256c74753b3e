"""Contact import jobs: the uploaded CSV, the mapping, the position reached and what was found."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import TenantScoped, enum_column
from pywhatsapp.domain.contacts.contact_import import ImportStatus


class ContactImportRow(TenantScoped):
    __tablename__ = "contact_imports"
    __table_args__ = (
        sa.Index(None, "tenant_id", "created_at"),
        # Runners look across tenants for unfinished jobs whose lease ran out.
        sa.Index(
            "ix_contact_imports_unfinished",
            "lease_until",
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        ),
    )

    filename: Mapped[str | None] = mapped_column(sa.String(255))
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus), default=ImportStatus.QUEUED)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONB)
    default_region: Mapped[str] = mapped_column(sa.String(3))
    # The file itself, read only by the runner (polls never load it).
    source: Mapped[str] = mapped_column(sa.Text, deferred=True)
    total_rows: Mapped[int] = mapped_column(default=0, server_default="0")
    processed: Mapped[int] = mapped_column(default=0, server_default="0")
    created: Mapped[int] = mapped_column(default=0, server_default="0")
    updated: Mapped[int] = mapped_column(default=0, server_default="0")
    rejected: Mapped[int] = mapped_column(default=0, server_default="0")
    report: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    error: Mapped[str | None] = mapped_column(sa.String(1000))
    created_by: Mapped[UUID | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    lease_owner: Mapped[UUID | None] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
