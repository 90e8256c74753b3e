"""The campaign store on real PostgreSQL: channel leases, claims and big batches of recorded answers."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa

from pywhatsapp.adapters.persistence.campaigns import SqlCampaignQueue
from pywhatsapp.adapters.persistence.models import MessageRow
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.application.campaigns.ports import SendResult
from pywhatsapp.domain.campaigns.campaign import Campaign, CampaignRecipient, CampaignStatus, RecipientState
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.tenancy.tenant import Tenant

pytestmark = pytest.mark.postgres


@pytest.fixture
async def running(uow_factory: SqlAlchemyUnitOfWorkFactory) -> tuple[Campaign, int]:
    tenant = Tenant(id=uuid4(), name="Store", slug=f"store-{uuid4().hex[:8]}")
    async with uow_factory() as uow:
        await uow.tenants.add(tenant)
        await uow.commit()
    recipients = 1600
    async with uow_factory(tenant.id) as uow:
        channel = await uow.channels.add(
            Channel(tenant_id=tenant.id, phone_number_id=f"77{uuid4().int % 10**10}", access_token="t")
        )
        campaign = await uow.campaigns.add(
            Campaign(
                tenant_id=tenant.id,
                name="Big batch",
                channel_id=channel.id,
                template_name="promo",
                language="en",
                status=CampaignStatus.RUNNING,
            )
        )
        await uow.campaign_recipients.add_many(
            [
                CampaignRecipient(tenant_id=tenant.id, campaign_id=campaign.id, wa_id=f"4915100{i:06d}")
                for i in range(recipients)
            ]
        )
        await uow.commit()
    return campaign, recipients


async def test_one_driver_per_channel_and_a_big_batch_of_answers_is_recorded_whole(
    uow_factory: SqlAlchemyUnitOfWorkFactory, running: tuple[Campaign, int]
) -> None:
    campaign, count = running
    queue = SqlCampaignQueue(uow_factory._session_factory)
    assert campaign.channel_id in await queue.channels_to_drive()
    lease = await queue.lease(campaign.channel_id)  # type: ignore[arg-type]
    assert lease is not None
    assert await queue.lease(campaign.channel_id) is None  # type: ignore[arg-type]  # held elsewhere
    try:
        hold = utc_now() + timedelta(minutes=5)
        claimed = [
            *await lease.claim(campaign, limit=1000, hold_until=hold, exclude=[]),
            *await lease.claim(campaign, limit=1000, hold_until=hold, exclude=[]),
        ]
        assert len({r.id for r in claimed}) == count  # every recipient once, none twice
        assert await lease.claim(campaign, limit=10, hold_until=hold, exclude=[]) == []
        # More answers in one flush than PostgreSQL takes parameters in one statement.
        await lease.record(
            campaign,
            [SendResult(r.id, RecipientState.SENT, wamid=f"wamid.big.{r.wa_id}") for r in claimed],
        )
        assert await lease.complete(campaign)
    finally:
        await lease.release()
    again = await queue.lease(campaign.channel_id)  # type: ignore[arg-type]
    assert again is not None
    await again.release()
    async with uow_factory(campaign.tenant_id) as uow:
        counts = await uow.campaign_recipients.counts(campaign.id)
        stored = await uow.session.scalar(  # type: ignore[attr-defined]
            sa.select(sa.func.count()).select_from(MessageRow).where(MessageRow.wamid.like("wamid.big.%"))
        )
    assert counts.by_state == {"sent": count}
    assert stored == count
