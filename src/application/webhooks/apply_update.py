"""Applying one webhook update to a tenant's inbox, idempotently, and announcing what changed."""

from __future__ import annotations

from dataclasses import replace

from pywhatsapp.application.common.unit_of_work import UnitOfWork
from pywhatsapp.application.groups import apply_group_update as group_updates
from pywhatsapp.domain.campaigns.campaign import RecipientState
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.media.inbound import MediaState, media_reference
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from pywhatsapp.domain.messaging.opt_out import OptOutChange, OptOutKeywords
from pywhatsapp.domain.messaging.reaction import Reaction
from pywhatsapp.domain.qr_codes.qr_code import scanned_text
from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent, short
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.webhooks.updates import (
    GroupUpdate,
    InboundMessage,
    MessageDeleted,
    MessageEdited,
    OtherUpdate,
    ReactionUpdate,
    StatusUpdate,
    TemplateUpdate,
    Update,
)

STATUSES = {status.value: status for status in MessageStatus}
RECIPIENT_STATES = {
    state.value: state
    for state in (RecipientState.SENT, RecipientState.DELIVERED, RecipientState.READ, RecipientState.FAILED)
}


def message_event_data(message: Message) -> dict[str, object]:
    return {
        "id": str(message.id),
        "wamid": message.wamid,
        "direction": message.direction.value,
        "type": message.type,
        "status": message.status.value,
        "wa_id": message.wa_id,
        "contact_id": str(message.contact_id) if message.contact_id else None,
        "conversation_id": str(message.conversation_id) if message.conversation_id else None,
        "text": short(message.text),
        "timestamp": message.timestamp.isoformat(),
        "error_code": message.error_code,
        "error_title": message.error_title,
        "media_state": message.media_state,
    }


class UpdateApplier:
    def __init__(self, opt_out: OptOutKeywords) -> None:
        self._opt_out = opt_out

    async def apply(self, uow: UnitOfWork, channel: Channel, update: Update) -> None:
        match update:
            case InboundMessage():
                await self._inbound(uow, channel, update)
            case StatusUpdate():
                await self._status(uow, channel, update)
            case ReactionUpdate():
                await self._reaction(uow, channel, update)
            case MessageEdited():
                await self._edited(uow, channel, update)
            case MessageDeleted():
                await self._deleted(uow, channel, update)
            case TemplateUpdate():
                await self._template(uow, channel, update)
            case GroupUpdate():
                await group_updates.apply_group_update(uow, channel, update)
            case OtherUpdate():
                pass  # kept in the webhook log, nothing to change

    async def _inbound(self, uow: UnitOfWork, channel: Channel, update: InboundMessage) -> None:
        if update.group_id:
            await group_updates.record_group_message(uow, channel, update)
            return
        contact = await uow.inbox.record_contact(
            update.wa_id, name=update.profile_name, inbound_at=update.timestamp
        )
        content = dict(update.content)
        if update.forwarded:
            content["forwarded"] = True
        if update.frequently_forwarded:
            content["frequently_forwarded"] = True
        scanned = scanned_text(update.text) if update.type == "text" else None
        qr_code = await uow.qr_codes.matching(channel.id, scanned) if scanned else None
        if qr_code is not None:
            content["qr_code"] = qr_code.code  # the customer scanned this code (its prefilled message)
        message = Message(
            tenant_id=channel.tenant_id,
            direction=Direction.INCOMING,
            type=update.type,
            wa_id=update.wa_id,
            wamid=update.wamid,
            channel_id=channel.id,
            contact_id=contact.id,
            status=MessageStatus.RECEIVED,
            text=update.text,
            content=content,
            context_wamid=update.context_wamid,
            timestamp=update.timestamp,
        )
        media = media_reference(update.type, content)
        if media is not None:
            message.media_state = MediaState.PENDING.value
        if not await uow.inbox.add_message(message):
            # Delivered before: stored once, announced once; but a file still missing is fetched again.
            stored = await uow.inbox.find_message(update.wamid) if media is not None else None
            if stored is not None and media is not None:
                await uow.media_downloads.request(stored.id, channel.id, media)
            return
        if media is not None:
            # Queued in this transaction, downloaded after the webhook is answered (FetchInboundMedia).
            await uow.media_downloads.request(message.id, channel.id, media)
        await uow.inbox.attach_reactions(update.wamid, message.id)
        if qr_code is not None:
            await uow.qr_codes.count_message(qr_code.id, update.timestamp)
        change = self._opt_out.change_for(update.text) if update.type == "text" else None
        opted_out = contact.opted_out
        if change is not None:
            opted_out = await uow.inbox.set_opted_out(
                contact.id, change is OptOutChange.OPT_OUT, update.timestamp
            )
        conversation = await uow.inbox.touch_conversation(contact, message)
        message = replace(message, conversation_id=conversation.id)
        await uow.events.publish(
            RealtimeEvent(EventType.MESSAGE_INCOMING, channel.tenant_id, message_event_data(message))
        )
        await uow.events.publish(
            RealtimeEvent(
                EventType.CONVERSATION_UPDATED,
                channel.tenant_id,
                {
                    "id": str(conversation.id),
                    "contact_id": str(contact.id),
                    "wa_id": contact.wa_id,
                    "name": contact.name,
                    "unread_count": conversation.unread_count,
                    "last_message_id": str(message.id),
                    "last_message_at": message.timestamp.isoformat(),
                    "opted_out": opted_out,
                },
            )
        )

    async def _status(self, uow: UnitOfWork, channel: Channel, update: StatusUpdate) -> None:
        status = STATUSES.get(update.status)
        if status is None:
            return
        message = await uow.inbox.advance_status(
            update.wamid,
            status,
            at=update.timestamp,
            error_code=update.error_code,
            error_title=update.error_title,
            callback_data=update.biz_opaque_callback_data,
        )
        from_campaign = message is None or bool(message.content.get("campaign_recipient_id"))
        if message is not None and not from_campaign:
            await uow.events.publish(
                RealtimeEvent(EventType.MESSAGE_STATUS, channel.tenant_id, message_event_data(message))
            )
        if from_campaign and update.status in RECIPIENT_STATES:
            # A campaign send: its recipient moves too; progress is announced by PublishCampaignProgress
            # about once a second rather than per status (a campaign's statuses come by the thousand).
            await uow.campaign_recipients.advance(
                update.wamid,
                RECIPIENT_STATES[update.status],
                callback_data=update.biz_opaque_callback_data,
                error_code=update.error_code,
                error_title=update.error_title,
            )

    async def _reaction(self, uow: UnitOfWork, channel: Channel, update: ReactionUpdate) -> None:
        reaction = await uow.inbox.save_reaction(
            Reaction(
                tenant_id=channel.tenant_id,
                target_wamid=update.target_wamid,
                wa_id=update.wa_id,
                direction=Direction.INCOMING,
                emoji=update.emoji,
                wamid=update.wamid,
            )
        )
        await uow.events.publish(
            RealtimeEvent(
                EventType.REACTION,
                channel.tenant_id,
                {
                    "id": str(reaction.id),
                    "message_id": str(reaction.message_id) if reaction.message_id else None,
                    "target_wamid": reaction.target_wamid,
                    "wa_id": reaction.wa_id,
                    "emoji": reaction.emoji,
                    "direction": reaction.direction.value,
                },
            )
        )

    async def _edited(self, uow: UnitOfWork, channel: Channel, update: MessageEdited) -> None:
        original = await uow.inbox.find_message(update.original_wamid)
        if original is None or original.status is MessageStatus.DELETED:
            return  # nothing to edit, or deleted: a late edit must not bring the text back
        if any(edit.get("wamid") == update.wamid for edit in original.content.get("edits", [])):
            return  # Meta delivered this edit before
        history = [
            *original.content.get("edits", []),
            {"text": original.text, "at": update.timestamp.isoformat(), "wamid": update.wamid},
        ]
        edited = replace(
            original,
            text=update.new_text,
            content={**original.content, **update.new_content, "edited": True, "edits": history},
        )
        await uow.inbox.update_message(edited)
        await uow.events.publish(
            RealtimeEvent(
                EventType.MESSAGE_INCOMING, channel.tenant_id, message_event_data(edited) | {"edited": True}
            )
        )

    async def _deleted(self, uow: UnitOfWork, channel: Channel, update: MessageDeleted) -> None:
        original = await uow.inbox.find_message(update.original_wamid)
        if original is None:
            return
        deleted = replace(
            original,
            status=MessageStatus.DELETED,
            text=None,
            content={"deleted": True, "type": original.type},
        )
        await uow.inbox.update_message(deleted)
        await uow.events.publish(
            RealtimeEvent(EventType.MESSAGE_STATUS, channel.tenant_id, message_event_data(deleted))
        )

    async def _template(self, uow: UnitOfWork, channel: Channel, update: TemplateUpdate) -> None:
        registry = uow.template_registry
        template = await registry.find(
            meta_template_id=update.template_id, name=update.name, language=update.language
        ) or MessageTemplate(
            tenant_id=channel.tenant_id,
            channel_id=channel.id,
            name=update.name or f"template-{update.template_id}",
            language=update.language or "und",
            meta_template_id=update.template_id,
        )
        if update.kind == "status" and update.status:
            template.status = update.status
            template.rejected_reason = update.reason if update.reason not in (None, "NONE") else None
        if update.category:
            template.category = update.category
        if update.quality_score:
            template.quality_score = update.quality_score
        template.meta_template_id = template.meta_template_id or update.template_id
        saved = await registry.save(template)
        await uow.events.publish(
            RealtimeEvent(
                EventType.TEMPLATE_STATUS,
                channel.tenant_id,
                {
                    "id": str(saved.id),
                    "name": saved.name,
                    "language": saved.language,
                    "status": saved.status,
                    "category": saved.category,
                    "quality_score": saved.quality_score,
                    "kind": update.kind,
                },
            )
        )
