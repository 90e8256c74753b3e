"""The event delivery queue in PostgreSQL, worked across tenants by every app worker.

A round claims due deliveries with FOR UPDATE SKIP LOCKED (so workers never send the same one twice at
once), only the oldest pending delivery of each (endpoint, conversation) so that they go out in order, and
keeps the locks until `finish` records every attempt. Each attempt's outcome goes onto its delivery (the last
status, error and latency) and is appended to `event_delivery_attempts` in that same transaction: one INSERT
per attempt, flushed with the delivery's UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from pywhatsapp.adapters.persistence.mapping import to_entity
from pywhatsapp.adapters.persistence.models import EventDeliveryAttemptRow, EventDeliveryRow, EventEndpointRow
from pywhatsapp.adapters.persistence.scoping import open_scope
from pywhatsapp.application.integrations.ports import Attempt, DueDelivery
from pywhatsapp.domain.ids import new_id
from pywhatsapp.domain.integrations.event_webhook import (
    ANSWER_BODY_LIMIT,
    DISABLE_AFTER_FAILURES,
    DeliveryState,
    EventDelivery,
    EventEndpoint,
)


class SqlDeliveryQueue:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session = session_factory()
        open_scope(self._session.sync_session, None, all_tenants=True)

    async def claim(self, limit: int) -> list[DueDelivery]:
        earlier = aliased(EventDeliveryRow)
        head_of_line = ~sa.exists().where(
            earlier.endpoint_id == EventDeliveryRow.endpoint_id,
            earlier.ordering_key == EventDeliveryRow.ordering_key,
            earlier.state == DeliveryState.PENDING,
            earlier.created_at < EventDeliveryRow.created_at,
        )
        rows = (
            await self._session.execute(
                sa.select(EventDeliveryRow, EventEndpointRow)
                .join(EventEndpointRow, EventEndpointRow.id == EventDeliveryRow.endpoint_id)
                .where(
                    EventDeliveryRow.state == DeliveryState.PENDING,
                    EventDeliveryRow.next_attempt_at <= sa.func.now(),
                    EventEndpointRow.is_active.is_(True),
                    head_of_line,
                )
                .order_by(EventDeliveryRow.next_attempt_at)
                .limit(limit)
                .with_for_update(of=EventDeliveryRow, skip_locked=True)
            )
        ).all()
        return [DueDelivery(to_entity(d, EventDelivery), to_entity(e, EventEndpoint)) for d, e in rows]

    async def delivered(self, delivery_id: UUID, attempt: Attempt, at: datetime) -> None:
        delivery = await self._session.get_one(EventDeliveryRow, delivery_id)
        delivery.state = DeliveryState.DELIVERED
        delivery.delivered_at = at
        self._record(delivery, attempt, at)
        await self._session.execute(
            sa.update(EventEndpointRow)
            .where(EventEndpointRow.id == delivery.endpoint_id)
            .values(consecutive_failures=0)
        )

    async def failed(
        self, delivery_id: UUID, attempt: Attempt, retry_at: datetime | None, at: datetime
    ) -> None:
        delivery = await self._session.get_one(EventDeliveryRow, delivery_id)
        delivery.first_failed_at = delivery.first_failed_at or at
        self._record(delivery, attempt, at)
        if retry_at is None:
            delivery.state = DeliveryState.DEAD
        else:
            delivery.next_attempt_at = retry_at
        endpoint = await self._session.get_one(EventEndpointRow, delivery.endpoint_id)
        endpoint.consecutive_failures += 1
        if endpoint.consecutive_failures >= DISABLE_AFTER_FAILURES and endpoint.is_active:
            endpoint.is_active = False
            endpoint.disabled_reason = (
                f"disabled after {endpoint.consecutive_failures} failed deliveries in a row "
                f"(last: {attempt.status_code or attempt.error}); re-enable it once the endpoint answers 2xx"
            )

    async def finish(self) -> None:
        try:
            await self._session.commit()
        finally:
            await self._session.close()

    async def prune_attempts(self, before: datetime) -> int:
        result = await self._session.execute(
            sa.delete(EventDeliveryAttemptRow).where(EventDeliveryAttemptRow.attempted_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def _record(self, delivery: EventDeliveryRow, attempt: Attempt, at: datetime) -> None:
        delivery.attempts += 1
        delivery.last_status_code = attempt.status_code
        delivery.last_error = attempt.error
        delivery.last_latency_ms = attempt.latency_ms
        body = attempt.response_body
        self._session.add(
            EventDeliveryAttemptRow(
                id=new_id(),
                tenant_id=delivery.tenant_id,
                delivery_id=delivery.id,
                number=delivery.attempts,
                attempted_at=attempt.started_at or at,
                status_code=attempt.status_code,
                error=attempt.error,
                response_body=None if body is None else body[:ANSWER_BODY_LIMIT],
                latency_ms=attempt.latency_ms,
                created_at=at,
                updated_at=at,
            )
        )
