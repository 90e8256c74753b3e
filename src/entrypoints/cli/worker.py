"""`pywhatsapp worker`: the background work without the web server (event webhook deliveries, inbound
media downloads and the campaign sender), for deployments that scale it separately from `serve`."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import click

from pywhatsapp.adapters.persistence import migrations
from pywhatsapp.application.campaigns.background import run_campaign_work
from pywhatsapp.application.campaigns.send_campaigns import CampaignSender
from pywhatsapp.entrypoints.cli.context import CliContext, console, fail, pass_context
from pywhatsapp.entrypoints.logging_setup import configure_logging

IDLE_SECONDS = 0.5


async def campaigns_idle(sender: CampaignSender) -> bool:
    """No channel has running campaigns to drive (a `--once` worker may exit)."""
    await sender.tick()
    await sender.wait_idle()
    return not await sender.has_work()


@click.command("worker")
@click.option(
    "--once", is_flag=True, help="Work the queues until they are empty, then exit (for cron or tests)."
)
@pass_context
def worker(ctx: CliContext, once: bool) -> None:
    """Deliver queued event webhooks and download inbound media (app workers do it too; several workers
    share the queues safely)."""
    url = ctx.database_url()
    if ctx.run(migrations.current_revision(url)) != migrations.head_revision():
        fail("the database is not at the newest revision; run: pywhatsapp db upgrade")
    configure_logging(ctx.settings)
    deliver = ctx.container.deliver_events()
    sender = ctx.container.event_sender()
    fetch_media = ctx.container.fetch_inbound_media()
    campaign_sender = ctx.container.campaign_sender()
    campaign_progress = ctx.container.campaign_progress()

    async def run() -> tuple[int, int]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        delivered = downloaded = 0
        campaigns_stop = asyncio.Event()
        campaign_work = asyncio.create_task(
            run_campaign_work(campaign_sender, campaign_progress, campaigns_stop)
        )
        try:
            while not stop.is_set():
                sent = await deliver.run_once()
                fetched = await fetch_media.run_once()
                delivered += sent
                downloaded += fetched
                if not sent and not fetched:
                    if once and await campaigns_idle(campaign_sender):
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), IDLE_SECONDS)
        finally:
            campaigns_stop.set()  # in-flight campaign sends finish and are recorded first
            await campaign_work
            await sender.close()
            await ctx.container.gateway().close()
        return delivered, downloaded

    if not once:
        console.print("PyWhatsApp worker: delivering event webhooks, downloading media (Ctrl-C to stop)")
    delivered, downloaded = ctx.run(run())
    console.print(f"Attempted {delivered} event deliveries and {downloaded} media downloads")
