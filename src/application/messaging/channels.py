"""Which of a tenant's channels sends: the one asked for, else the oldest active one."""

from __future__ import annotations

from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWork
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.errors import NotFound
from pywhatsapp.domain.messaging.sending import ChannelPaused, NoChannel


async def sending_channel(uow: UnitOfWork, channel_id: UUID | None) -> Channel:
    if channel_id is not None:
        channel = await uow.channels.get(channel_id)
        if channel is None:
            raise NotFound(f"No channel {channel_id} in this tenant")
    else:
        active = [c for c in await uow.channels.list(limit=50) if c.is_active]
        if not active:
            raise NoChannel()
        channel = min(active, key=lambda c: c.created_at)
    if not channel.is_active:
        raise NoChannel()
    if channel.paused_reason:
        raise ChannelPaused(channel.paused_reason)
    return channel
