"""The dashboard's aggregates in SQL: two GROUP BY queries over the tenant's messages (scoped by
`scoping.py` like every other query)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pywhatsapp.adapters.persistence.models import MessageRow
from pywhatsapp.adapters.persistence.scoping import open_scope
from pywhatsapp.application.inbox.dashboard import FailureCount, StatusCount
from pywhatsapp.domain.messaging.message import Direction, MessageStatus

MAX_FAILURE_KINDS = 20


class SqlDashboardQueries:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def status_counts(self, tenant_id: UUID, *, since: datetime) -> list[StatusCount]:
        day = sa.cast(sa.func.timezone("UTC", MessageRow.timestamp), sa.Date).label("day")
        query = (
            sa.select(day, MessageRow.direction, MessageRow.status, sa.func.count())
            .where(MessageRow.timestamp >= since)
            .group_by(day, MessageRow.direction, MessageRow.status)
        )
        async with self._session_factory() as session:
            open_scope(session.sync_session, tenant_id)
            rows = (await session.execute(query)).all()
        return [
            StatusCount(
                day=d, direction=Direction(direction).value, status=MessageStatus(status).value, count=n
            )
            for d, direction, status, n in rows
        ]

    async def failures(self, tenant_id: UUID, *, since: datetime) -> list[FailureCount]:
        count = sa.func.count().label("n")
        query = (
            sa.select(MessageRow.error_code, sa.func.max(MessageRow.error_title), count)
            .where(
                MessageRow.timestamp >= since,
                MessageRow.direction == Direction.OUTGOING,
                MessageRow.status == MessageStatus.FAILED,
            )
            .group_by(MessageRow.error_code)
            .order_by(count.desc())
            .limit(MAX_FAILURE_KINDS)
        )
        async with self._session_factory() as session:
            open_scope(session.sync_session, tenant_id)
            rows = (await session.execute(query)).all()
        return [FailureCount(code=code, title=title, count=n) for code, title, n in rows]
