"""API keys looked up by prefix across tenants (read, and the last-used time), for authentication."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pywhatsapp.adapters.persistence.mapping import to_entity
from pywhatsapp.adapters.persistence.models import ApiKeyRow
from pywhatsapp.adapters.persistence.scoping import open_scope
from pywhatsapp.domain.identity.api_key import ApiKey


class SqlApiKeyDirectory:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def by_prefix(self, prefix: str) -> ApiKey | None:
        async with self._session_factory() as session:
            open_scope(session.sync_session, None, all_tenants=True)
            row = await session.scalar(sa.select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
            return None if row is None else to_entity(row, ApiKey)

    async def touch(self, key: ApiKey, at: datetime) -> None:
        async with self._session_factory() as session, session.begin():
            open_scope(session.sync_session, key.tenant_id)
            await session.execute(sa.update(ApiKeyRow).where(ApiKeyRow.id == key.id).values(last_used_at=at))
