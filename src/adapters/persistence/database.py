"""The connection to PostgreSQL: engine, sessions, and a readiness check that explains failures."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


class DatabaseUnavailable(RuntimeError):
    """PostgreSQL could not be reached; the message says what was tried and what to check."""


def async_url(url: str) -> str:
    """`postgresql://` (as in the seed's .env) means asyncpg here."""
    for prefix in ("postgresql+psycopg2://", "postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parsed = make_url(async_url(url))
    host = parsed.host or parsed.query.get("host") or "local socket"
    return f"database {parsed.database!r} as user {parsed.username!r} on {host}" + (
        f":{parsed.port}" if parsed.port else ""
    )


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        # Errors must never carry statement parameters (password hashes, tokens) into logs.
        hide_parameters=True,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def check_connection(engine: AsyncEngine, *, timeout: float = 5.0) -> None:
    try:
        async with asyncio.timeout(timeout), engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure to connect is reported the same way
        target = describe(engine.url.render_as_string(hide_password=False))
        raise DatabaseUnavailable(
            f"Cannot reach PostgreSQL ({target}): {type(error).__name__}: {error}. "
            "Check that the server is running and that DATABASE_URL (or DB_HOST, DB_PORT, DB_USER, "
            "DB_PASSWORD, DB_NAME) is right; leave them all unset to use the embedded database."
        ) from error
