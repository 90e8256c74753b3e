"""The connection each worker keeps LISTENing on, for Litestar's channels (PostgreSQL NOTIFY backend)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend
from sqlalchemy.engine import make_url


def asyncpg_dsn(database_url: str) -> str:
    """asyncpg's own DSN: the URL without SQLAlchemy's `+driver` part."""
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def notify_backend(database_url: Callable[[], str]) -> AsyncPgChannelsBackend:
    """A channels backend that connects when the app starts (the database may start with it)."""

    def connect() -> Awaitable[asyncpg.Connection]:
        return asyncpg.connect(asyncpg_dsn(database_url()))

    return AsyncPgChannelsBackend(make_connection=connect)
