"""`pywhatsapp setup` and `pywhatsapp reset`: the seed's auto_setup.py, safe to run again."""

from __future__ import annotations

import click
import sqlalchemy as sa
from advanced_alchemy.base import orm_registry
from rich.table import Table

from pywhatsapp.adapters.persistence import migrations
from pywhatsapp.adapters.persistence.base import Base
from pywhatsapp.adapters.persistence.database import describe
from pywhatsapp.application.channels.configure_channel import ChannelSettings
from pywhatsapp.application.installation.set_up_installation import InstallationReport
from pywhatsapp.entrypoints.cli.context import CliContext, console, fail, pass_context
from pywhatsapp.entrypoints.http.routes.sandbox import SANDBOX_PHONE_NUMBER_ID, SANDBOX_TOKEN, SANDBOX_WABA_ID
from pywhatsapp.entrypoints.settings import DEFAULT_ADMIN_PASSWORD

STEPS = 5


def _step(number: int, text: str) -> None:
    console.print(f"[bold cyan][{number}/{STEPS}][/] {text}")


async def _count_rows(ctx: CliContext) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with ctx.container.engine().connect() as connection:
        for table in sorted([*Base.metadata.tables, *orm_registry.metadata.tables]):
            counts[table] = int(await connection.scalar(sa.text(f'SELECT count(*) FROM "{table}"')) or 0)
    return counts


def run_setup(ctx: CliContext, *, fresh: bool, yes: bool) -> InstallationReport:
    settings = ctx.settings
    _step(1, "Testing the database connection")
    url = ctx.database_url()
    console.print(f"      connected to {describe(url)}")
    if fresh:
        if not yes:
            click.confirm("--fresh drops every PyWhatsApp table and ALL their data. Continue?", abort=True)
        _step(2, "Dropping every table (fresh start)")
        ctx.run(migrations.drop_everything(url))
    else:
        _step(2, "Keeping existing data (use --fresh to start over)")
    _step(3, "Applying migrations")
    migrations.upgrade(url)
    console.print(f"      schema at revision {ctx.run(migrations.current_revision(url))}")
    _step(4, "Creating the default tenant and the admin")
    report = ctx.run(
        ctx.container.set_up_installation().execute(
            default_tenant_id=settings.DEFAULT_TENANT_ID,
            admin_username=settings.ADMIN_USERNAME,
            admin_password=settings.ADMIN_PASSWORD,
        )
    )
    console.print(
        f"      tenant {report.tenant.slug!r}: {'created' if report.tenant_created else 'already there'}"
    )
    console.print(
        f"      admin {settings.ADMIN_USERNAME!r}: {'created' if report.admin_created else 'already there'}"
    )
    if (done := sync_default_channel(ctx)) is not None:
        console.print(f"      {done}")
    _step(5, "Verifying every table")
    counts = ctx.run(_count_rows(ctx))
    table = Table("table", "rows", title="Tables", title_justify="left")
    for name, rows in counts.items():
        table.add_row(name, str(rows))
    console.print(table)
    return report


def sync_default_channel(ctx: CliContext) -> str | None:
    """The default tenant's channel from WHATSAPP_PHONE_ID, WHATSAPP_TOKEN, VERIFY_TOKEN, FB_APP_ID and
    FB_APP_SECRET (the environment is its source of truth); returns what was done, for the console."""
    settings = ctx.settings
    configure = ctx.container.configure_channel()
    if settings.sandbox:
        ctx.run(
            configure.execute(
                settings.DEFAULT_TENANT_ID,
                ChannelSettings(
                    phone_number_id=SANDBOX_PHONE_NUMBER_ID,
                    access_token=SANDBOX_TOKEN,
                    waba_id=SANDBOX_WABA_ID,
                    name="Sandbox",
                    app_secret=settings.sandbox_app_secret,
                    verify_token=settings.VERIFY_TOKEN,
                    is_active=True,
                ),
            )
        )
        return "Sandbox mode: no WHATSAPP_TOKEN, so a built-in Cloud API simulator stands in for Meta"
    if not (settings.WHATSAPP_PHONE_ID and settings.WHATSAPP_TOKEN):
        return None
    ctx.run(retire_sandbox_channel(ctx))
    channel = ctx.run(
        ctx.container.configure_channel().execute(
            settings.DEFAULT_TENANT_ID,
            ChannelSettings(
                phone_number_id=settings.WHATSAPP_PHONE_ID,
                access_token=settings.WHATSAPP_TOKEN,
                waba_id=settings.WHATSAPP_WABA_ID,
                app_id=settings.FB_APP_ID,
                app_secret=settings.FB_APP_SECRET,
                verify_token=settings.VERIFY_TOKEN,
            ),
        )
    )
    return f"WhatsApp channel {channel.phone_number_id} of the default tenant is configured"


async def retire_sandbox_channel(ctx: CliContext) -> None:
    """Once a real token is configured, the sandbox channel stops sending (it stays for its history)."""
    directory = ctx.container.channel_directory()
    sandbox = await directory.by_phone_number_id(SANDBOX_PHONE_NUMBER_ID, fresh=True)
    if sandbox is not None and sandbox.access_token == SANDBOX_TOKEN and sandbox.is_active:
        await ctx.container.configure_channel().execute(
            sandbox.tenant_id,
            ChannelSettings(phone_number_id=SANDBOX_PHONE_NUMBER_ID, is_active=False),
            channel_id=sandbox.id,
        )


def _print_success(ctx: CliContext, report: InstallationReport) -> None:
    settings = ctx.settings
    console.print("\n[bold green]✅ SETUP COMPLETED SUCCESSFULLY![/]")
    console.print("📌 Admin Login Credentials:")
    console.print(f"   Username: {settings.ADMIN_USERNAME}")
    if report.admin_created and settings.ADMIN_PASSWORD == DEFAULT_ADMIN_PASSWORD:
        console.print(f"   Password: {settings.ADMIN_PASSWORD} (the default; change it)")
    elif report.admin_created:
        # A password of one's own is never echoed: setup's output often ends up in container logs.
        console.print("   Password: the ADMIN_PASSWORD you set")
    else:
        console.print("   Password: (unchanged; the admin already existed)")
    console.print(f"   Tenant ID: {report.tenant.slug} ({report.tenant.id})")
    console.print("\nNext: [bold]pywhatsapp serve[/], then open http://localhost:8002/login")


@click.command("setup")
@click.option("--fresh", is_flag=True, help="Drop every table and start over (asks first).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def setup(ctx: CliContext, fresh: bool, yes: bool) -> None:
    """Test the database, migrate, create the default tenant and admin, verify the tables."""
    report = run_setup(ctx, fresh=fresh, yes=yes)
    _print_success(ctx, report)


@click.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_context
def reset(ctx: CliContext, yes: bool) -> None:
    """Drop everything and set up again (the same as `setup --fresh`)."""
    if not yes and not click.confirm("reset deletes ALL data of every tenant. Continue?"):
        fail("reset cancelled; nothing was changed", code=1)
    report = run_setup(ctx, fresh=True, yes=True)
    _print_success(ctx, report)
