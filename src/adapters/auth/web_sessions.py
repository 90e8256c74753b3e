"""The page sessions kept in PostgreSQL by the session middleware (advanced-alchemy's session backend)."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pywhatsapp.adapters.persistence.models import WebSessionRow


class SqlWebSessions:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def end_all_of(self, user_id: UUID) -> int:
        # The session data is the JSON the middleware wrote ({"user_id":"...",...}, compact); a byte search
        # needs no column of its own, and it runs only on a password change or a logout.
        needle = f'"user_id":"{user_id}"'.encode()
        async with self._session_factory() as session, session.begin():
            found = sa.func.position(sa.literal(needle, sa.LargeBinary).op("IN")(WebSessionRow.data))
            result = await session.execute(sa.delete(WebSessionRow).where(found > 0))
            return int(getattr(result, "rowcount", 0) or 0)
