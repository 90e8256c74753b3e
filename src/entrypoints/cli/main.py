"""The `pywhatsapp` command: setup, serve and administration."""

from __future__ import annotations

import click

import pywhatsapp
from pywhatsapp.entrypoints.cli.channels import channel
from pywhatsapp.entrypoints.cli.contacts import contacts
from pywhatsapp.entrypoints.cli.db import db
from pywhatsapp.entrypoints.cli.serve import serve
from pywhatsapp.entrypoints.cli.setup import reset, setup
from pywhatsapp.entrypoints.cli.simulator import simulator
from pywhatsapp.entrypoints.cli.templates import templates
from pywhatsapp.entrypoints.cli.tenants import tenant
from pywhatsapp.entrypoints.cli.users import create_admin, users
from pywhatsapp.entrypoints.cli.webhooks import webhooks
from pywhatsapp.entrypoints.cli.worker import worker


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(pywhatsapp.__version__, prog_name="pywhatsapp")
def cli() -> None:
    """PyWhatsApp: a self-hosted, multi-tenant WhatsApp Business platform.

    Configuration comes from the environment and a .env file (see .env.example). Without DATABASE_URL
    or DB_* variables, an embedded PostgreSQL is kept under PYWHATSAPP_DATA_DIR (default ./.pywhatsapp).
    """


@cli.result_callback()
@click.pass_context
def _close(ctx: click.Context, /, *_: object, **__: object) -> None:
    from pywhatsapp.entrypoints.cli.context import CliContext

    cli_context = ctx.find_object(CliContext)
    if cli_context is not None:
        cli_context.close()


for command in (setup, reset, serve, create_admin, db, tenant, channel, webhooks, simulator, worker):
    cli.add_command(command)
cli.add_command(templates)
cli.add_command(contacts)
cli.add_command(users)
