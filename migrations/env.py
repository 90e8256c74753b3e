"""Alembic environment: runs migrations on the app's database over asyncpg."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from advanced_alchemy.base import orm_registry
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from pywhatsapp.adapters.persistence import models as _models  # noqa: F401 - registers every table
from pywhatsapp.adapters.persistence.base import Base
from pywhatsapp.adapters.persistence.database import create_engine
from pywhatsapp.adapters.persistence.encryption import Secret

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = [Base.metadata, orm_registry.metadata]
SECRET_TYPE = type(Secret())


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Library column types are written as the plain types they are in PostgreSQL, so that migrations
    import nothing but SQLAlchemy (and an encryption key never ends up in one)."""
    if type_ == "type":
        if isinstance(obj, SECRET_TYPE):
            return "sa.String()"
        if isinstance(obj, GUID):
            return "sa.Uuid()"
        if isinstance(obj, DateTimeUTC):
            return "sa.DateTime(timezone=True)"
    return False


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and reflected and compare_to is None and name == "alembic_version")


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        include_object=include_object,
        compare_type=True,
        compare_server_default=False,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


def _database_url() -> tuple[str, Any]:
    url = config.attributes.get("database_url")
    if url:
        return url, None
    from pywhatsapp.adapters.embedded_postgres.server import EmbeddedPostgres
    from pywhatsapp.entrypoints.settings import load_settings

    settings = load_settings()
    if settings.external_database_url:
        return settings.external_database_url, None
    server = EmbeddedPostgres(settings.data_dir)
    return server.start(), server


async def _run_online(url: str) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url="postgresql://", target_metadata=target_metadata, literal_binds=True, render_item=render_item
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    database_url, embedded = _database_url()
    try:
        asyncio.run(_run_online(database_url))
    finally:
        if embedded is not None:
            embedded.stop()
