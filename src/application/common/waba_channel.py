"""Which of a tenant's channels acts at Meta on an asset of a WhatsApp Business Account (a message
template, a flow)."""

from __future__ import annotations

from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWork
from pywhatsapp.application.messaging.channels import sending_channel
from pywhatsapp.domain.channels.channel import Channel


async def waba_channel(uow: UnitOfWork, own_channel_id: UUID | None, channel_id: UUID | None) -> Channel:
    """The channel whose WABA holds the asset: the one asked for, else the asset's own (`own_channel_id`)
    while it is active and not paused, else the tenant's default sending channel."""
    if channel_id is None and own_channel_id is not None:
        own = await uow.channels.get(own_channel_id)
        if own is not None and own.is_active and not own.paused_reason:
            return own
    return await sending_channel(uow, channel_id)
