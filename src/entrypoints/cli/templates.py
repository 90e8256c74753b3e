"""`pywhatsapp templates sync|migrate`: message templates at Meta, from the command line."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar
from uuid import UUID

import click
from rich.progress import Progress, SpinnerColumn, TextColumn

from pywhatsapp.application.templates.sync_templates import SyncReport
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.entrypoints.cli.context import CliContext, console, fail, pass_context

T = TypeVar("T")
TENANT_HELP = "Tenant UUID or slug."


@click.group("templates")
def templates() -> None:
    """Message templates: sync them from Meta, migrate them between WhatsApp Business Accounts."""


def _tenant(ctx: CliContext, reference: str) -> Tenant:
    tenant = ctx.run(ctx.container.list_tenants().find(reference))
    if tenant is None:
        fail(f"no tenant {reference!r}; list them with: pywhatsapp tenant list")
    return tenant


def _run_with_meta(ctx: CliContext, work: Awaitable[T]) -> T:
    """Run work that calls Meta; PyWA's HTTP clients belong to this run's event loop, so they close in it."""
    gateway = ctx.container.gateway()

    async def run() -> T:
        try:
            return await work
        finally:
            await gateway.close()

    return ctx.run(run())


def _print_sync(tenant: Tenant, report: SyncReport) -> None:
    console.print(
        f"[green]Synced[/] {report.at_meta} template(s) of tenant {tenant.slug} from Meta in {report.pages} "
        f"page(s): {report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed at Meta"
    )


@templates.command("sync")
@click.option("--tenant", "tenant_ref", default="default", show_default=True, help=TENANT_HELP)
@click.option(
    "--channel", "channel_id", type=click.UUID, help="The channel whose WABA to read (default: the tenant's)."
)
@pass_context
def sync(ctx: CliContext, tenant_ref: str, channel_id: UUID | None) -> None:
    """Fetch every template of the tenant's WABA from Meta (all pages) and store them here."""
    ctx.database_url()
    tenant = _tenant(ctx, tenant_ref)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("Reading templates from Meta...", total=None)

        def shown(pages: int, read: int) -> None:
            bar.update(task, description=f"Reading templates from Meta: page {pages}, {read} template(s)")

        report = _run_with_meta(
            ctx, ctx.container.sync_templates().execute(tenant.id, channel_id=channel_id, progress=shown)
        )
    _print_sync(tenant, report)


@templates.command("migrate")
@click.option("--from-tenant", "from_tenant", help="The tenant whose WABA the templates come from.")
@click.option("--source-waba-id", help="Or the source WABA's id, when it is not a tenant here.")
@click.option("--to-tenant", "--to", "to_tenant", required=True, help="The tenant that receives them.")
@click.option("--to-channel", type=click.UUID, help="The destination channel (default: the tenant's).")
@pass_context
def migrate(
    ctx: CliContext,
    from_tenant: str | None,
    source_waba_id: str | None,
    to_tenant: str,
    to_channel: UUID | None,
) -> None:
    """Copy the approved templates of one WABA into another (Meta's template migration; both WABAs must
    belong to the same Meta business), then sync the destination tenant."""
    if bool(from_tenant) == bool(source_waba_id):
        fail("name the source with exactly one of --from-tenant or --source-waba-id")
    ctx.database_url()
    destination = _tenant(ctx, to_tenant)
    use_case = ctx.container.migrate_templates()
    if from_tenant:
        source_waba_id = ctx.run(use_case.source_waba(_tenant(ctx, from_tenant).id))
    assert source_waba_id is not None
    with console.status(f"Migrating the templates of WABA {source_waba_id}..."):
        report = _run_with_meta(
            ctx,
            use_case.execute(to_tenant=destination.id, source_waba_id=source_waba_id, to_channel=to_channel),
        )
    console.print(
        f"[green]Migrated[/] {len(report.migrated)} template(s) from WABA {report.source_waba_id} "
        f"to {report.destination_waba_id}; {len(report.failed)} not migrated"
    )
    for template_id, reason in sorted(report.failed.items()):
        console.print(f"  {template_id}: {reason}")
    _print_sync(destination, report.sync)
