"""Which tenant's channel a webhook is about: looked up across tenants (read-only), briefly cached."""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pywhatsapp.adapters.persistence.mapping import to_entity
from pywhatsapp.adapters.persistence.models import ChannelRow
from pywhatsapp.adapters.persistence.scoping import open_scope
from pywhatsapp.domain.channels.channel import Channel

CACHE_SECONDS = 30.0
logger = logging.getLogger(__name__)


class SqlChannelDirectory:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], cache_seconds: float = CACHE_SECONDS
    ) -> None:
        self._session_factory = session_factory
        self._cache_seconds = cache_seconds
        self._cache: dict[tuple[str, str], tuple[float, Channel | None]] = {}

    def forget(self) -> None:
        """Drop cached lookups (after a channel is added or changed in this process)."""
        self._cache.clear()

    async def by_phone_number_id(self, phone_number_id: str, *, fresh: bool = False) -> Channel | None:
        if fresh:
            self._cache.pop(("phone", phone_number_id), None)
        return await self._lookup("phone", phone_number_id, ChannelRow.phone_number_id == phone_number_id)

    async def by_waba_id(self, waba_id: str) -> Channel | None:
        """None when channels of more than one tenant name this WABA: a webhook about the WABA (a template's
        review) cannot be told to be one tenant's, and any tenant could name another's WABA on its channel."""
        return await self._lookup("waba", waba_id, ChannelRow.waba_id == waba_id, one_tenant=True)

    async def verify_tokens(self) -> set[str]:
        async with self._session_factory() as session:
            open_scope(session.sync_session, None, all_tenants=True)
            rows = await session.scalars(sa.select(ChannelRow).where(ChannelRow.is_active.is_(True)))
            return {row.verify_token for row in rows if row.verify_token}

    async def _lookup(
        self, kind: str, key: str, condition: sa.ColumnElement[bool], *, one_tenant: bool = False
    ) -> Channel | None:
        cached = self._cache.get((kind, key))
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        async with self._session_factory() as session:
            open_scope(session.sync_session, None, all_tenants=True)
            query = sa.select(ChannelRow).where(condition).order_by(ChannelRow.created_at, ChannelRow.id)
            rows = (await session.scalars(query if one_tenant else query.limit(1))).all()
            if one_tenant and len({row.tenant_id for row in rows}) > 1:
                logger.warning("channels of several tenants name %s %s: its webhooks go to none", kind, key)
                rows = []
            channel = to_entity(rows[0], Channel) if rows else None
        self._cache[(kind, key)] = (now, channel)
        return channel
