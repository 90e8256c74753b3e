"""`pywhatsapp db upgrade|downgrade|current|history`: Alembic through the app's own configuration."""

from __future__ import annotations

import click

from pywhatsapp.adapters.persistence import migrations
from pywhatsapp.entrypoints.cli.context import CliContext, console, pass_context


@click.group("db")
def db() -> None:
    """Database migrations (the same as `alembic ...` with the app's settings)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_context
def upgrade(ctx: CliContext, revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    url = ctx.database_url()
    migrations.upgrade(url, revision)
    console.print(f"Database at revision [bold]{ctx.run(migrations.current_revision(url))}[/]")


@db.command("downgrade")
@click.argument("revision", default="-1")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def downgrade(ctx: CliContext, revision: str, yes: bool) -> None:
    """Revert migrations down to REVISION (default: one step, -1). Data in dropped tables is lost."""
    if not yes:
        click.confirm(f"Downgrade to {revision}? Tables dropped by it lose their data", abort=True)
    url = ctx.database_url()
    migrations.downgrade(url, revision)
    console.print(
        f"Database at revision [bold]{ctx.run(migrations.current_revision(url)) or 'base (empty)'}[/]"
    )


@db.command("current")
@pass_context
def current(ctx: CliContext) -> None:
    """Show the database's revision and whether it is the newest."""
    url = ctx.database_url()
    revision = ctx.run(migrations.current_revision(url))
    head = migrations.head_revision()
    state = "up to date" if revision == head else f"behind head {head}; run: pywhatsapp db upgrade"
    console.print(f"{revision or 'base (empty)'} ({state})")


@db.command("history")
def history() -> None:
    """List every migration, newest first."""
    console.print(migrations.history().rstrip() or "No migrations")
