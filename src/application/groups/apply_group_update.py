"""Meta's news about groups, applied idempotently: lifecycle, participants, settings, suspension, and
the messages people write in a group."""

from __future__ import annotations

from dataclasses import replace

from pywhatsapp.application.common.unit_of_work import UnitOfWork

# The module, not its names: `apply_update` imports this module while it is being initialised.
from pywhatsapp.application.webhooks import apply_update
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.group import Group, GroupState, JoinApprovalMode
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent
from pywhatsapp.domain.webhooks.updates import GroupUpdate, InboundMessage

UNNAMED = "WhatsApp group"
"""The subject of a group we learn of from a webhook that does not name it."""


async def _known_group(uow: UnitOfWork, channel: Channel, meta_id: str) -> Group:
    """The stored group with Meta's id; one is stored when Meta tells of a group we never saw."""
    group = await uow.group_registry.by_meta_id(meta_id)
    if group is None:
        group = await uow.group_registry.save(
            Group(tenant_id=channel.tenant_id, subject=UNNAMED, group_id=meta_id, channel_id=channel.id)
        )
    return group


def _mode(value: str | None) -> JoinApprovalMode | None:
    try:
        return JoinApprovalMode(value) if value else None
    except ValueError:
        return None


async def apply_group_update(uow: UnitOfWork, channel: Channel, update: GroupUpdate) -> None:
    if update.kind == "group_create":
        await _created(uow, channel, update)
        return
    if update.group_id is None:
        return
    if update.kind == "group_delete":
        if update.error_code is None:
            group = await uow.group_registry.by_meta_id(update.group_id)
            if group is not None:
                await uow.group_registry.delete(group.id)
        return
    if update.error_code is not None and not (update.added or update.removed):
        return  # a request Meta could not carry out: nothing changed
    group = await _known_group(uow, channel, update.group_id)
    if update.added:
        await uow.group_registry.add_participants(group.id, update.added)
    if update.removed:
        await uow.group_registry.remove_participants(group.id, update.removed)
    changed = group
    if update.kind == "group_settings_update":
        changed = replace(
            changed,
            subject=update.subject or changed.subject,
            description=update.description if update.description is not None else changed.description,
        )
    elif update.kind == "group_suspend":
        changed = replace(changed, suspended=True)
    elif update.kind == "group_suspend_cleared":
        changed = replace(changed, suspended=False)
    if changed != group:
        await uow.group_registry.save(changed)


async def _created(uow: UnitOfWork, channel: Channel, update: GroupUpdate) -> None:
    group = (await uow.group_registry.by_request_id(update.request_id) if update.request_id else None) or (
        await uow.group_registry.by_meta_id(update.group_id) if update.group_id else None
    )
    if group is None:
        # Created by us but not stored yet (the answer is still on its way), or created elsewhere.
        group = Group(
            tenant_id=channel.tenant_id,
            subject=update.subject or UNNAMED,
            description=update.description,
            channel_id=channel.id,
            request_id=update.request_id,
        )
    if update.error_code is not None:
        group = replace(
            group, state=GroupState.FAILED, error=f"({update.error_code}) {update.error_title or ''}"
        )
    else:
        group = replace(
            group,
            state=GroupState.ACTIVE,
            group_id=update.group_id or group.group_id,
            subject=update.subject or group.subject,
            invite_link=update.invite_link or group.invite_link,
            join_approval_mode=_mode(update.join_approval_mode) or group.join_approval_mode,
            error=None,
        )
    await uow.group_registry.save(group)


async def record_group_message(uow: UnitOfWork, channel: Channel, update: InboundMessage) -> None:
    """A message someone wrote in one of our groups: stored with the group, not in a 1:1 conversation."""
    assert update.group_id is not None
    group = await _known_group(uow, channel, update.group_id)
    # A group message does not open the writer's one-to-one customer service window.
    contact = await uow.inbox.record_contact(update.wa_id, name=update.profile_name, inbound_at=None)
    if update.wa_id:
        await uow.group_registry.add_participants(group.id, [update.wa_id])
    content = dict(update.content)
    if update.forwarded:
        content["forwarded"] = True
    message = Message(
        tenant_id=channel.tenant_id,
        direction=Direction.INCOMING,
        type=update.type,
        wa_id=update.wa_id,
        wamid=update.wamid,
        channel_id=channel.id,
        contact_id=contact.id,
        group_id=group.id,
        status=MessageStatus.RECEIVED,
        text=update.text,
        content=content,
        context_wamid=update.context_wamid,
        timestamp=update.timestamp,
    )
    if not await uow.inbox.add_message(message):
        return  # delivered before
    await uow.inbox.attach_reactions(update.wamid, message.id)
    await uow.events.publish(
        RealtimeEvent(
            EventType.MESSAGE_INCOMING,
            channel.tenant_id,
            apply_update.message_event_data(message)
            | {"group_id": str(group.id), "group_subject": group.subject},
        )
    )
