"""The campaign work every worker process runs: the sender and the progress announcements."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pywhatsapp.application.campaigns.publish_progress import PublishCampaignProgress
from pywhatsapp.application.campaigns.send_campaigns import CampaignSender

logger = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 1.0


async def run_campaign_work(
    sender: CampaignSender, progress: PublishCampaignProgress, stop: asyncio.Event
) -> None:
    """Until `stop` is set; then in-flight sends finish and their answers are recorded."""
    announcer = asyncio.create_task(_announce_progress(progress, stop))
    try:
        await sender.run(stop)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await announcer


async def _announce_progress(progress: PublishCampaignProgress, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await progress.run_once()
        except Exception:
            logger.warning("announcing campaign progress failed; trying again", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PROGRESS_EVERY_SECONDS)
