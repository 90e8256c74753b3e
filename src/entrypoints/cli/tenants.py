"""`pywhatsapp tenant create|list`."""

from __future__ import annotations

from uuid import UUID

import click
from rich.table import Table

from pywhatsapp.entrypoints.cli.context import CliContext, console, pass_context


@click.group("tenant")
def tenant() -> None:
    """Tenants: the businesses sharing this installation."""


@tenant.command("create")
@click.option("--name", required=True)
@click.option("--slug", required=True, help="Lowercase letters, digits and dashes; used in X-Tenant-Id.")
@click.option("--id", "tenant_id", type=click.UUID, help="Keep a given UUID (default: a new one).")
@pass_context
def create(ctx: CliContext, name: str, slug: str, tenant_id: UUID | None) -> None:
    """Create a tenant."""
    ctx.database_url()
    created = ctx.run(ctx.container.create_tenant().execute(name=name, slug=slug, tenant_id=tenant_id))
    console.print(f"[green]Created[/] tenant {created.slug} ({created.id})")


@tenant.command("list")
@pass_context
def list_(ctx: CliContext) -> None:
    """List every tenant."""
    ctx.database_url()
    tenants = ctx.run(ctx.container.list_tenants().all())
    table = Table("id", "slug", "name", "active")
    for item in tenants:
        table.add_row(str(item.id), item.slug, item.name, "yes" if item.is_active else "no")
    console.print(table)
