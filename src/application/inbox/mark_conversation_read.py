"""An agent opened a conversation: it has no unread messages left, and the customer sees blue ticks."""

from __future__ import annotations

import logging
from typing import Protocol
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.inbox.read_models import InboxReader
from pywhatsapp.application.messaging.gateway import WhatsAppGateway
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.message import Message

logger = logging.getLogger(__name__)


class ReadReceipts(Protocol):
    async def mark_read(self, tenant_id: UUID, message: Message) -> None:
        """Tell Meta that the business read this inbound message (and every earlier one)."""
        ...


class MarkConversationRead:
    def __init__(self, reader: InboxReader, receipts: ReadReceipts | None) -> None:
        self._reader = reader
        self._receipts = receipts

    async def execute(self, principal: Principal, conversation_id: UUID) -> Message | None:
        last_inbound = await self._reader.mark_read(principal.tenant_id, conversation_id)
        if last_inbound is not None and last_inbound.wamid and self._receipts is not None:
            try:
                await self._receipts.mark_read(principal.tenant_id, last_inbound)
            except Exception:  # the read receipt is a courtesy: the inbox is already marked read
                logger.warning("could not send the read receipt to Meta", exc_info=True)
        return last_inbound


class GatewayReadReceipts:
    """Read receipts through the WhatsApp gateway, from the channel the message came in on."""

    def __init__(self, uow_factory: UnitOfWorkFactory, gateway: WhatsAppGateway) -> None:
        self._uow_factory = uow_factory
        self._gateway = gateway

    async def mark_read(self, tenant_id: UUID, message: Message) -> None:
        if message.channel_id is None or message.wamid is None:
            return
        async with self._uow_factory(tenant_id) as uow:
            channel = await uow.channels.get(message.channel_id)
        if channel is not None:
            await self._gateway.mark_read(channel, message.wamid)
