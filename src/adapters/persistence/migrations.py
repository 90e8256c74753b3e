"""Alembic, driven from code: the CLI's `db` commands, `setup` and `serve` use these."""

from __future__ import annotations

import io
from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from pywhatsapp.adapters.persistence.database import async_url


def alembic_config(database_url: str, *, output: io.StringIO | None = None) -> Config:
    config = Config(stdout=output) if output is not None else Config()
    config.set_main_option("script_location", str(resources.files("pywhatsapp.migrations")))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "-1") -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def history() -> str:
    output = io.StringIO()
    command.history(alembic_config("", output=output))
    return output.getvalue()


async def current_revision(engine_url: str) -> str | None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(async_url(engine_url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def _product_tables() -> list[str]:
    from advanced_alchemy.base import orm_registry

    from pywhatsapp.adapters.persistence import models  # noqa: F401 - registers every table
    from pywhatsapp.adapters.persistence.base import Base

    return [*Base.metadata.tables, *orm_registry.metadata.tables, "alembic_version"]


async def drop_everything(engine_url: str) -> None:
    """`setup --fresh` and `reset`: drop the product's tables and Alembic's record of them.

    Tables that are not the product's are left alone, in case the database is shared."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(async_url(engine_url))
    try:
        async with engine.begin() as connection:
            for table in _product_tables():
                await connection.execute(sa.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    finally:
        await engine.dispose()
