"""`pywhatsapp worker`: the background work without the web server (event webhook deliveries, and the
campaign sender once it exists), for deployments that scale it separately from `serve`."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import click

from pywhatsapp.adapters.persistence import migrations
from pywhatsapp.entrypoints.cli.context import CliContext, console, fail, pass_context
from pywhatsapp.entrypoints.logging_setup import configure_logging

IDLE_SECONDS = 0.5


@click.command("worker")
@click.option(
    "--once", is_flag=True, help="Work the queues until they are empty, then exit (for cron or tests)."
)
@pass_context
def worker(ctx: CliContext, once: bool) -> None:
    """Deliver queued event webhooks (app workers do it too; several workers share the queue safely)."""
    url = ctx.database_url()
    if ctx.run(migrations.current_revision(url)) != migrations.head_revision():
        fail("the database is not at the newest revision; run: pywhatsapp db upgrade")
    configure_logging(ctx.settings)
    deliver = ctx.container.deliver_events()
    sender = ctx.container.event_sender()

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        delivered = 0
        try:
            while not stop.is_set():
                sent = await deliver.run_once()
                delivered += sent
                if not sent:
                    if once:
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), IDLE_SECONDS)
        finally:
            await sender.close()
        return delivered

    console.print("PyWhatsApp worker: delivering event webhooks (Ctrl-C to stop)" if not once else "")
    total = ctx.run(run())
    console.print(f"Attempted {total} event deliveries")
