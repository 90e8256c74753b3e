"""`pywhatsapp webhooks replay`: apply logged webhook bodies again (idempotent)."""

from __future__ import annotations

from uuid import UUID

import click

from pywhatsapp.entrypoints.cli.context import CliContext, console, fail, pass_context


@click.group("webhooks")
def webhooks() -> None:
    """Meta's webhooks: the log and its replay."""


@webhooks.command("replay")
@click.argument("entry_ids", nargs=-1, type=click.UUID)
@click.option("--tenant", "tenant_ref", default="default", show_default=True, help="Tenant UUID or slug.")
@pass_context
def replay(ctx: CliContext, entry_ids: tuple[UUID, ...], tenant_ref: str) -> None:
    """Replay webhook log entries (ids from GET /api/v1/webhooks) of a tenant."""
    if not entry_ids:
        fail("name at least one webhook log entry id (see GET /api/v1/webhooks)")
    ctx.database_url()
    tenant = ctx.run(ctx.container.list_tenants().find(tenant_ref))
    if tenant is None:
        fail(f"no tenant {tenant_ref!r}; list them with: pywhatsapp tenant list")
    for entry_id in entry_ids:
        report = ctx.run(ctx.container.replay_webhook().execute(tenant.id, entry_id))
        console.print(f"{entry_id}: {report.outcome.value}, {report.updates} update(s)")
