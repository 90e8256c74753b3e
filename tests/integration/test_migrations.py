"""Migrations on real PostgreSQL: every revision goes up and down cleanly, and they match the models."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from advanced_alchemy.base import orm_registry
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from pywhatsapp.adapters.persistence import migrations
from pywhatsapp.adapters.persistence import models as _models  # noqa: F401 - registers every table
from pywhatsapp.adapters.persistence.base import Base
from pywhatsapp.adapters.persistence.database import async_url

pytestmark = pytest.mark.postgres


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(migrations.alembic_config(""))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


async def _inspect(url: str, fn: Any) -> Any:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


def _tables(url: str) -> set[str]:
    """The product's tables (Alembic's own bookkeeping table left out)."""
    return set(asyncio.run(_inspect(url, lambda sync: inspect(sync).get_table_names()))) - {"alembic_version"}


def _schema(url: str) -> set[str]:
    """The product's tables and columns (`table`, `table.column`): some revisions only add columns."""

    def read(sync: Any) -> set[str]:
        inspector = inspect(sync)
        names = set(inspector.get_table_names()) - {"alembic_version"}
        return names | {f"{t}.{c['name']}" for t in names for c in inspector.get_columns(t)}

    found: set[str] = asyncio.run(_inspect(url, read))
    return found


def test_there_is_more_than_one_revision_to_climb() -> None:
    assert len(_revisions()) >= 2


def test_stairway_every_revision_upgrades_downgrades_and_upgrades_again(empty_database: str) -> None:
    seen: list[set[str]] = [_schema(empty_database)]
    for revision in _revisions():
        migrations.upgrade(empty_database, revision)
        after_upgrade = _schema(empty_database)
        assert after_upgrade > seen[-1], f"{revision} added no table or column"
        migrations.downgrade(empty_database, "-1")
        assert _schema(empty_database) == seen[-1], f"downgrade of {revision} left something behind"
        migrations.upgrade(empty_database, revision)
        assert _schema(empty_database) == after_upgrade
        seen.append(after_upgrade)
    assert asyncio.run(migrations.current_revision(empty_database)) == migrations.head_revision()
    migrations.downgrade(empty_database, "base")
    assert _tables(empty_database) == set()


def test_autogenerate_finds_no_difference_between_models_and_migrations(empty_database: str) -> None:
    migrations.upgrade(empty_database)

    def diff(sync_connection: Any) -> list[Any]:
        context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
        # Alembic accepts a sequence of metadatas here (as env.py's target_metadata), though typed for one.
        differences: list[Any] = compare_metadata(
            context,
            [Base.metadata, orm_registry.metadata],  # type: ignore[arg-type]
        )
        return differences

    differences = asyncio.run(_inspect(empty_database, diff))
    assert differences == []


def test_every_tenant_owned_table_has_a_tenant_id_and_an_index_leading_with_it(empty_database: str) -> None:
    migrations.upgrade(empty_database)
    identity_and_infrastructure = {
        "tenants",
        "alembic_version",
        "web_sessions",
        "login_attempts",
        "memberships",
    }

    def check(sync_connection: Any) -> dict[str, str]:
        inspector = inspect(sync_connection)
        problems: dict[str, str] = {}
        for table in inspector.get_table_names():
            if table in identity_and_infrastructure:
                continue
            columns = {column["name"]: column for column in inspector.get_columns(table)}
            if "tenant_id" not in columns:
                problems[table] = "no tenant_id"
                continue
            leading = [ix["column_names"][0] for ix in inspector.get_indexes(table)]
            leading += [uq["column_names"][0] for uq in inspector.get_unique_constraints(table)]
            if "tenant_id" not in leading:
                problems[table] = "no index leading with tenant_id"
            if str(columns["id"]["type"]).upper() != "UUID":
                problems[table] = f"id is {columns['id']['type']}"
        return problems

    assert asyncio.run(_inspect(empty_database, check)) == {}
