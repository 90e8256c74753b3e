"""How much work waits in PostgreSQL's queues, across tenants, for the metrics scrape."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

# One statement, each count on a partial index's predicate; read on a plain connection (not a tenant
# session): these are installation-wide figures without any tenant's data.
QUEUE_DEPTHS = sa.text(
    """
    SELECT
      (SELECT count(*) FROM event_deliveries WHERE state = 'pending') AS event_deliveries,
      (SELECT count(*) FROM media_files WHERE state = 'pending') AS media_downloads,
      (SELECT count(*) FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id
        WHERE r.state = 'pending' AND c.status = 'running') AS campaign_recipients
    """
)


class SqlQueueDepths:
    def __init__(self, engine: AsyncEngine, *, timeout: float = 2.0) -> None:
        self._engine = engine
        self._timeout = timeout

    async def pending(self) -> dict[str, int]:
        async with asyncio.timeout(self._timeout), self._engine.connect() as connection:
            row = (await connection.execute(QUEUE_DEPTHS)).mappings().one()
        return {queue: int(count) for queue, count in row.items()}
