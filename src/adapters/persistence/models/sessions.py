"""Server-side web sessions and login-attempt counters, shared by all workers.

They hold no tenant data of their own (a session names its tenant inside its payload), so they are
not tenant-scoped. The session table's columns come from advanced-alchemy's mixin, which registers it on
advanced-alchemy's own metadata; migrations track both metadatas.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from advanced_alchemy.extensions.litestar.session import SessionModelMixin
from sqlalchemy.orm import Mapped, mapped_column

from pywhatsapp.adapters.persistence.base import Base


class WebSessionRow(SessionModelMixin):
    __tablename__ = "web_sessions"


class LoginAttemptRow(Base):
    """Sign-in attempts per (username, address) key within a window; counted atomically in SQL."""

    __tablename__ = "login_attempts"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column()
    window_ends_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
