"""`pywhatsapp webhooks replay`: apply logged webhook bodies again (idempotent)."""

from __future__ import annotations

from uuid import UUID

import click

from pywhatsapp.entrypoints.cli.context import CliContext, console, fail, pass_context


@click.group("webhooks")
def webhooks() -> None:
    """Meta's webhooks: the log and its replay."""


@webhooks.command("subscribe")
@pass_context
def subscribe(ctx: CliContext) -> None:
    """Register CALLBACK_URL as the Meta app's webhook (FB_APP_ID, FB_APP_SECRET, VERIFY_TOKEN).

    Run it while the app is serving: Meta calls GET /webhooks to verify the URL before it agrees."""
    settings = ctx.settings
    missing = [
        name
        for name in ("CALLBACK_URL", "FB_APP_ID", "FB_APP_SECRET", "VERIFY_TOKEN")
        if not getattr(settings, name)
    ]
    if missing:
        fail(f"set {', '.join(missing)} first (see .env.example)")
    ctx.database_url()
    ctx.run(
        ctx.container.register_webhook().execute(
            settings.DEFAULT_TENANT_ID,
            callback_url=str(settings.CALLBACK_URL),
            app_id=str(settings.FB_APP_ID),
            app_secret=str(settings.FB_APP_SECRET),
            verify_token=str(settings.VERIFY_TOKEN),
        )
    )
    console.print(f"[green]Meta will send webhooks to[/] {settings.CALLBACK_URL}")


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
