"""`pywhatsapp channel add|list`: a tenant's WhatsApp phone numbers."""

from __future__ import annotations

import click
from rich.table import Table

from pywhatsapp.application.channels.configure_channel import ChannelSettings
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.entrypoints.cli.context import CliContext, console, fail, pass_context


def _tenant(ctx: CliContext, reference: str) -> Tenant:
    ctx.database_url()
    tenant = ctx.run(ctx.container.list_tenants().find(reference))
    if tenant is None:
        fail(f"no tenant {reference!r}; list them with: pywhatsapp tenant list")
    return tenant


@click.group("channel")
def channel() -> None:
    """WhatsApp channels (phone numbers) of a tenant."""


@channel.command("add")
@click.option("--tenant", "tenant_ref", default="default", show_default=True)
@click.option("--phone-number-id", required=True)
@click.option("--token", "access_token", required=True, help="The access token (stored encrypted).")
@click.option("--waba-id")
@click.option("--app-secret", help="Verifies webhook signatures (stored encrypted).")
@click.option("--verify-token")
@click.option("--messages-per-second", type=click.IntRange(1, 1000))
@pass_context
def add(
    ctx: CliContext,
    tenant_ref: str,
    phone_number_id: str,
    access_token: str,
    waba_id: str | None,
    app_secret: str | None,
    verify_token: str | None,
    messages_per_second: int | None,
) -> None:
    """Add a channel, or update the one with this phone number id."""
    tenant = _tenant(ctx, tenant_ref)
    saved = ctx.run(
        ctx.container.configure_channel().execute(
            tenant.id,
            ChannelSettings(
                phone_number_id=phone_number_id,
                access_token=access_token,
                waba_id=waba_id,
                app_secret=app_secret,
                verify_token=verify_token,
                messages_per_second=messages_per_second,
            ),
        )
    )
    console.print(f"[green]Saved[/] channel {saved.phone_number_id} ({saved.id}) of tenant {tenant.slug}")


@channel.command("list")
@click.option("--tenant", "tenant_ref", default="default", show_default=True)
@pass_context
def list_(ctx: CliContext, tenant_ref: str) -> None:
    """List a tenant's channels (never their secrets)."""
    tenant = _tenant(ctx, tenant_ref)
    operator = Principal(
        user_id=tenant.id,
        username="cli",
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        role=Role.OWNER,
    )
    page = ctx.run(ctx.container.list_channels().execute(operator, limit=200))
    table = Table("id", "phone number id", "WABA", "msg/s", "active", "paused")
    for item in page.items:
        table.add_row(
            str(item.id),
            item.phone_number_id,
            item.waba_id or "",
            str(item.messages_per_second),
            "yes" if item.is_active else "no",
            item.paused_reason or "",
        )
    console.print(table)
