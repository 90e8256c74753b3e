"""Send a message to a contact (flow 2 of the brief): checks, stored as pending, sent through the gateway,
then stored as sent (with its wamid) or failed (with Meta's error), and announced."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from pywhatsapp.application.common.metrics import NO_METRICS, Metrics
from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.groups.manage_groups import stored_group
from pywhatsapp.application.media.outbound_media import (
    record_sent_media,
    uploaded_file_for,
    with_stored_media,
)
from pywhatsapp.application.messaging.channels import sending_channel
from pywhatsapp.application.messaging.gateway import GatewayUnreachable, OutgoingMessage, WhatsAppGateway
from pywhatsapp.application.templates.check_send import check_template_send
from pywhatsapp.application.webhooks.apply_update import message_event_data
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.contacts.group import GROUP_MESSAGE_TYPES, sendable_group_id
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.conversation import window_is_open
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from pywhatsapp.domain.messaging.sending import (
    SENDABLE_TYPES,
    WINDOW_FREE_TYPES,
    MetaRefusal,
    OptedOut,
    SendRefused,
    WindowClosed,
    check_payload,
    whatsapp_id,
)
from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendRequest:
    to: str
    type: str
    payload: dict[str, Any] | list[Any]
    context_wamid: str | None = None
    channel_id: UUID | None = None
    group_id: UUID | None = None
    """Our id of a WhatsApp group to send to, instead of `to`."""


@dataclass(frozen=True)
class SendOutcome:
    message: Message
    delivered_to_meta: bool
    """False when Meta did not answer: the message stays pending until a status webhook tells."""


def readable_text(kind: str, payload: dict[str, Any] | list[Any]) -> str | None:
    if not isinstance(payload, dict):
        return None
    if kind == "text":
        body = payload.get("body")
        return str(body) if body is not None else None
    if kind in ("image", "video", "document"):
        caption = payload.get("caption")
        return str(caption) if caption else None
    if kind == "reaction":
        emoji = payload.get("emoji")
        return str(emoji) if emoji else None
    if kind == "template":
        return f"[template {payload.get('name')}]"
    if kind == "interactive":
        body = payload.get("body")
        return str(body.get("text")) if isinstance(body, dict) and body.get("text") else None
    if kind == "location":
        return str(payload.get("name") or payload.get("address") or "") or None
    return None


class SendMessage:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, gateway: WhatsAppGateway, metrics: Metrics = NO_METRICS
    ) -> None:
        self._uow_factory = uow_factory
        self._gateway = gateway
        self._metrics = metrics

    async def execute(self, principal: Principal, request: SendRequest) -> SendOutcome:
        if request.type not in SENDABLE_TYPES:
            raise InvalidInput(f"type must be one of {', '.join(sorted(SENDABLE_TYPES))}")
        check_payload(request.type, request.payload)
        if request.group_id is not None:
            return await self._send_to_group(principal, request)
        wa_id = whatsapp_id(request.to)
        async with self._uow_factory(principal.tenant_id) as uow:
            channel = await sending_channel(uow, request.channel_id)
            if request.type == "template" and isinstance(request.payload, dict):
                await check_template_send(uow.template_registry, request.payload)
            contact = await uow.inbox.record_contact(wa_id, name=None, inbound_at=None)
            if contact.opted_out and request.type != "reaction":
                raise OptedOut()
            if request.type not in WINDOW_FREE_TYPES and not window_is_open(
                contact.last_inbound_at, utc_now()
            ):
                raise WindowClosed()
            upload = await uploaded_file_for(uow, request.type, request.payload)
            message = Message(
                tenant_id=principal.tenant_id,
                direction=Direction.OUTGOING,
                type=request.type,
                wa_id=wa_id,
                channel_id=channel.id,
                contact_id=contact.id,
                status=MessageStatus.PENDING,
                text=readable_text(request.type, request.payload),
                content={request.type: request.payload},
                context_wamid=request.context_wamid,
                sent_by_user_id=None if principal.api_key_id else principal.user_id,
            )
            await uow.inbox.add_message(with_stored_media(message, upload))
            await record_sent_media(uow, message, upload, request.payload)
            conversation = await uow.inbox.touch_conversation(contact, message)
            message = replace(message, conversation_id=conversation.id)
            await uow.commit()  # stored before Meta is called: a crash now leaves a pending row, not a ghost

        outgoing = OutgoingMessage(
            to=wa_id,
            type=request.type,
            payload=request.payload,
            context_wamid=request.context_wamid,
            callback_data=str(message.id),
        )
        return await self._deliver(principal, channel, message, outgoing)

    async def _send_to_group(self, principal: Principal, request: SendRequest) -> SendOutcome:
        """A group message: no opt-out or 24-hour window (those are one-to-one rules), the group must be
        live at Meta; stored with the group, outside any contact's conversation."""
        assert request.group_id is not None
        if request.type not in GROUP_MESSAGE_TYPES:
            allowed = ", ".join(sorted(GROUP_MESSAGE_TYPES))
            raise InvalidInput(f"a group message's type must be one of {allowed}")
        async with self._uow_factory(principal.tenant_id) as uow:
            group = await stored_group(uow, request.group_id)
            meta_id = sendable_group_id(group)
            channel_id = request.channel_id
            if channel_id is None and group.channel_id and await uow.channels.get(group.channel_id):
                channel_id = group.channel_id  # else (removed) the tenant's sending channel takes over
            channel = await sending_channel(uow, channel_id)
            upload = await uploaded_file_for(uow, request.type, request.payload)
            message = Message(
                tenant_id=principal.tenant_id,
                direction=Direction.OUTGOING,
                type=request.type,
                wa_id=meta_id[:64],
                channel_id=channel.id,
                group_id=group.id,
                status=MessageStatus.PENDING,
                text=readable_text(request.type, request.payload),
                content={request.type: request.payload},
                context_wamid=request.context_wamid,
                sent_by_user_id=None if principal.api_key_id else principal.user_id,
            )
            await uow.inbox.add_message(with_stored_media(message, upload))
            await record_sent_media(uow, message, upload, request.payload)
            await uow.commit()
        outgoing = OutgoingMessage(
            to=meta_id,
            type=request.type,
            payload=request.payload,
            context_wamid=request.context_wamid,
            callback_data=str(message.id),
            recipient_type="group",
        )
        return await self._deliver(principal, channel, message, outgoing)

    async def _deliver(
        self, principal: Principal, channel: Channel, message: Message, outgoing: OutgoingMessage
    ) -> SendOutcome:
        try:
            wamid = await self._gateway.send(channel, outgoing)
        except SendRefused as refused:
            self._metrics.send("api", "refused")
            await self._record_failure(principal.tenant_id, channel, message, refused)
            raise
        except GatewayUnreachable:
            self._metrics.send("api", "unknown")
            logger.warning(
                "send outcome unknown; status webhooks will settle it", extra={"message_id": str(message.id)}
            )
            return SendOutcome(message=message, delivered_to_meta=False)
        self._metrics.send("api", "sent")
        async with self._uow_factory(principal.tenant_id) as uow:
            # Only pending becomes sent: a status webhook may already have moved it further.
            sent = await uow.inbox.mark_sent(message.id, wamid) or replace(
                message, wamid=wamid, status=MessageStatus.SENT
            )
            await uow.events.publish(
                RealtimeEvent(EventType.MESSAGE_OUTGOING, principal.tenant_id, message_event_data(sent))
            )
            await uow.commit()
        return SendOutcome(message=sent, delivered_to_meta=True)

    async def _record_failure(
        self, tenant_id: UUID, channel: Channel, message: Message, refused: SendRefused
    ) -> None:
        failed = replace(
            message, status=MessageStatus.FAILED, error_code=refused.code, error_title=refused.title
        )
        async with self._uow_factory(tenant_id) as uow:
            await uow.inbox.update_message(failed)
            if refused.refusal is MetaRefusal.TOKEN_EXPIRED:
                channel.paused_reason = (
                    "Meta refused the access token (190); set a new token to resume sending"
                )
                await uow.channels.update(channel)
            await uow.events.publish(
                RealtimeEvent(EventType.MESSAGE_STATUS, tenant_id, message_event_data(failed))
            )
            await uow.commit()
