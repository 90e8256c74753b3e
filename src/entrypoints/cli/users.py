"""`pywhatsapp create-admin`: the seed's create_admin.py."""

from __future__ import annotations

import click

from pywhatsapp.adapters.persistence import migrations
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.cli.context import CliContext, console, fail, pass_context


@click.command("create-admin")
@click.option("--username", help="Defaults to ADMIN_USERNAME.")
@click.option("--password", help="Asked for (twice, hidden) when not given.")
@click.option("--tenant", "tenant_ref", default="default", show_default=True, help="Tenant UUID or slug.")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value, show_default=True
)
@click.option("--email")
@pass_context
def create_admin(
    ctx: CliContext, username: str | None, password: str | None, tenant_ref: str, role: str, email: str | None
) -> None:
    """Create a user with a role in a tenant."""
    username = username or ctx.settings.ADMIN_USERNAME
    if password is None:
        password = click.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)
    url = ctx.database_url()
    if ctx.run(migrations.current_revision(url)) is None:
        fail("the database has no tables yet; run: pywhatsapp setup")

    tenant = ctx.run(ctx.container.list_tenants().find(tenant_ref))
    if tenant is None:
        fail(f"no tenant {tenant_ref!r}; list them with: pywhatsapp tenant list")
    user = ctx.run(
        ctx.container.create_user().execute(
            username=username, password=password, tenant_id=tenant.id, role=Role(role), email=email
        )
    )
    console.print(f"[green]Created[/] {user.username} ({role}) in tenant {tenant_ref}")


@click.group("users")
def users() -> None:
    """Manage user accounts."""


@users.command("set-password")
@click.argument("username")
@click.option("--password", help="Asked for (twice, hidden) when not given.")
@pass_context
def set_password(ctx: CliContext, username: str, password: str | None) -> None:
    """Set a user's password; the user's earlier access tokens and page sessions stop working."""
    if password is None:
        password = click.prompt(f"New password for {username}", hide_input=True, confirmation_prompt=True)
    url = ctx.database_url()
    if ctx.run(migrations.current_revision(url)) is None:
        fail("the database has no tables yet; run: pywhatsapp setup")
    user = ctx.run(ctx.container.change_password().reset(username, new_password=password))
    console.print(f"[green]Password set[/] for {user.username}; their earlier tokens and sessions ended")
