"""Campaign progress, rolled up from the recipients' states and announced as `campaign_progress` events
about once a second while they change (status webhooks keep changing them after the last send)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pywhatsapp.application.campaigns.manage_campaigns import progress_event
from pywhatsapp.application.campaigns.ports import CampaignQueue
from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.domain.clock import utc_now

logger = logging.getLogger(__name__)
# Changes committed just before `since` by a transaction that started earlier are caught by the overlap.
OVERLAP = timedelta(seconds=2)


class PublishCampaignProgress:
    def __init__(self, queue: CampaignQueue, uow_factory: UnitOfWorkFactory) -> None:
        self._queue = queue
        self._uow_factory = uow_factory
        self._since: datetime = utc_now() - OVERLAP

    async def run_once(self) -> int:
        """Announce the counts of every campaign whose recipients changed since the last round."""
        now = utc_now()
        changed = await self._queue.changed_campaigns(self._since - OVERLAP)
        self._since = now
        for tenant_id, campaign_id in changed:
            async with self._uow_factory(tenant_id) as uow:
                campaign = await uow.campaigns.get(campaign_id)
                if campaign is None:
                    continue
                counts = await uow.campaign_recipients.counts(campaign_id)
                await uow.events.publish(progress_event(campaign, counts))
                await uow.commit()
        return len(changed)
