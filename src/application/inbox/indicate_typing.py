"""An agent is typing a reply: the customer sees the conversation read (blue ticks) and "typing…".

Meta shows the indicator for the last inbound message until the reply is sent, or for 25 seconds at
most; the composer calls this again while the agent keeps typing. Meta's request marks the message
read too, so the conversation's unread count is zeroed as `MarkConversationRead` does.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.groups.manage_groups import from_meta
from pywhatsapp.application.inbox.read_models import InboxReader
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.errors import Conflict, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.message import Message


class TypingIndicator(Protocol):
    async def indicate_typing(self, channel: Channel, wamid: str) -> None:
        """Meta's `{"status": "read", "message_id", "typing_indicator": {"type": "text"}}`."""
        ...


class NothingToAnswer(Conflict):
    def __init__(self) -> None:
        super().__init__("The customer has not written in this conversation: there is nothing to answer")


class IndicateTyping:
    def __init__(self, reader: InboxReader, uow_factory: UnitOfWorkFactory, gateway: TypingIndicator) -> None:
        self._reader = reader
        self._uow_factory = uow_factory
        self._gateway = gateway

    async def execute(self, principal: Principal, conversation_id: UUID) -> Message:
        """The inbound message the indicator was shown on."""
        last_inbound = await self._reader.mark_read(principal.tenant_id, conversation_id)
        if last_inbound is None or not last_inbound.wamid or last_inbound.channel_id is None:
            raise NothingToAnswer()
        async with self._uow_factory(principal.tenant_id) as uow:
            channel = await uow.channels.get(last_inbound.channel_id)
        if channel is None:
            raise NotFound("The channel this conversation came in on is gone")
        await from_meta("typing_indicator", self._gateway.indicate_typing(channel, last_inbound.wamid))
        return last_inbound
