"""Realtime events through PostgreSQL NOTIFY: published inside the transaction that writes the data, so
subscribers on every worker hear of it on commit, and never of data that was rolled back."""

from __future__ import annotations

import json
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pywhatsapp.domain.realtime.event import RealtimeEvent

MAX_PAYLOAD_BYTES = 7900  # PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more


def tenant_channel(tenant_id: UUID) -> str:
    """The NOTIFY channel of one tenant; subscribers listen on their own tenant's only."""
    return f"pywhatsapp_{tenant_id.hex}"


def encode(event: RealtimeEvent) -> str:
    payload = json.dumps(event.as_json_object(), separators=(",", ":"), default=str)
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        # Too big to announce in full: announce that something changed, with the ids to fetch it by.
        trimmed = {k: v for k, v in event.data.items() if k.endswith("id") or k in ("status", "type")}
        payload = json.dumps(
            {
                "type": event.type.value,
                "tenant_id": str(event.tenant_id),
                "data": trimmed | {"truncated": True},
            },
            separators=(",", ":"),
            default=str,
        )
    return payload


# Integrations subscribed to this event type get a delivery queued in the same transaction (at least once:
# it commits with the data or not at all). clock_timestamp() orders deliveries within one transaction.
QUEUE_DELIVERIES = sa.text(
    """
    INSERT INTO event_deliveries
        (id, tenant_id, endpoint_id, event_type, payload, ordering_key, state, attempts, next_attempt_at,
         created_at, updated_at)
    SELECT gen_random_uuid(), endpoint.tenant_id, endpoint.id, CAST(:event_type AS varchar),
           CAST(:payload AS jsonb), CAST(:ordering_key AS varchar), 'pending', 0,
           clock_timestamp(), clock_timestamp(), clock_timestamp()
    FROM event_endpoints AS endpoint
    WHERE endpoint.tenant_id = CAST(:tenant_id AS uuid) AND endpoint.is_active
      AND CAST(:event_type AS varchar) = ANY(endpoint.events)
    """
)


def ordering_key(event: RealtimeEvent) -> str:
    """Deliveries of one conversation (else contact, else record) go out in order."""
    for name in ("conversation_id", "contact_id", "id"):
        if event.data.get(name):
            return str(event.data[name])
    return event.type.value


class PgNotifyPublisher:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def publish(self, event: RealtimeEvent) -> None:
        # Core statements through the connection, naming the event's own tenant: the event is this tenant's.
        connection = await self._session.connection()
        await connection.execute(sa.select(sa.func.pg_notify(tenant_channel(event.tenant_id), encode(event))))
        await connection.execute(
            QUEUE_DELIVERIES,
            {
                "tenant_id": event.tenant_id,
                "event_type": event.type.value,
                "payload": json.dumps(event.as_json_object(), default=str),
                "ordering_key": ordering_key(event),
            },
        )
