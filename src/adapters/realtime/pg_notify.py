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


class PgNotifyPublisher:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def publish(self, event: RealtimeEvent) -> None:
        # A Core statement through the connection: it touches no tenant table, so scoping has nothing to do.
        connection = await self._session.connection()
        await connection.execute(sa.select(sa.func.pg_notify(tenant_channel(event.tenant_id), encode(event))))
