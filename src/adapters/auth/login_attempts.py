"""Sign-in attempt counters in PostgreSQL, counted in one atomic statement so that parallel guesses
cannot slip past the limit, and shared by every worker."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pywhatsapp.adapters.persistence.models import LoginAttemptRow
from pywhatsapp.domain.clock import utc_now


def _digest(key: str) -> str:
    # Keys hold user input of any length; a digest keeps the row small and the input out of the table.
    return hashlib.sha256(key.encode()).hexdigest()


class SqlLoginAttempts:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def register_attempt(self, key: str, *, window_seconds: int) -> int:
        now = utc_now()
        row = LoginAttemptRow
        proposed = insert(row).values(
            key=_digest(key), attempts=1, window_ends_at=now + timedelta(seconds=window_seconds)
        )
        expired = row.window_ends_at <= now
        counted = proposed.on_conflict_do_update(
            index_elements=[row.key],
            set_={
                "attempts": sa.case((expired, 1), else_=row.attempts + 1),
                "window_ends_at": sa.case(
                    (expired, proposed.excluded.window_ends_at), else_=row.window_ends_at
                ),
            },
        ).returning(row.attempts)
        async with self._session_factory() as session, session.begin():
            return int((await session.execute(counted)).scalar_one())

    async def failures(self, key: str) -> int:
        async with self._session_factory() as session:
            attempts = await session.scalar(
                sa.select(LoginAttemptRow.attempts).where(
                    LoginAttemptRow.key == _digest(key), LoginAttemptRow.window_ends_at > utc_now()
                )
            )
            return int(attempts or 0)

    async def clear(self, key: str) -> None:
        async with self._session_factory() as session, session.begin():
            await session.execute(sa.delete(LoginAttemptRow).where(LoginAttemptRow.key == _digest(key)))

    async def forget_expired(self) -> int:
        async with self._session_factory() as session, session.begin():
            result = await session.execute(
                sa.delete(LoginAttemptRow).where(LoginAttemptRow.window_ends_at <= utc_now())
            )
            return int(getattr(result, "rowcount", 0) or 0)
