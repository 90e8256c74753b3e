"""Real PostgreSQL for the tests: the server named by TEST_DATABASE_URL, else an embedded pgserver.

Each test session (and each migration test) gets databases of its own, created on that server and
dropped afterwards, so runs never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from pywhatsapp.adapters.persistence.database import async_url


def server_url(tmp_root: Path) -> tuple[str, object | None]:
    """The URL of a PostgreSQL server's maintenance database, and the embedded server if one was started."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return configured, None
    import pgserver

    server = pgserver.get_server(tmp_root / "pgdata", cleanup_mode="stop")
    return str(server.get_uri()), server


def _asyncpg_dsn(url: str) -> dict[str, object]:
    parsed = make_url(async_url(url))
    params: dict[str, object] = {
        "user": parsed.username or "postgres",
        "password": parsed.password,
        "database": parsed.database or "postgres",
        "host": parsed.host or parsed.query.get("host"),
    }
    if parsed.port:
        params["port"] = parsed.port
    return params


def database_url(server: str, name: str) -> str:
    return make_url(async_url(server)).set(database=name).render_as_string(hide_password=False)


async def _admin(server: str, sql: str) -> None:
    connection = await asyncpg.connect(**_asyncpg_dsn(server))  # type: ignore[arg-type]
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create_database(server: str, prefix: str = "pywhatsapp_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    return database_url(server, name)


def drop_database(server: str, url: str) -> None:
    name = make_url(url).database
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
