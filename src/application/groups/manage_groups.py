"""WhatsApp groups through Meta's Groups API: create, list (and sync), get, update settings, delete.

Meta is called outside any transaction; what it answers is then stored. A refusal is Meta's error
(`SendRefused`, a 4xx like a refused send); silence is `MetaUnreachable` (502): the caller may retry.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import TypeVar
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from pywhatsapp.application.groups.ports import GroupGateway, MetaGroup
from pywhatsapp.application.messaging.channels import sending_channel
from pywhatsapp.application.messaging.gateway import GatewayUnreachable
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.group import (
    Group,
    GroupNotReady,
    GroupParticipant,
    GroupState,
    group_description,
    group_subject,
    join_approval_mode,
)
from pywhatsapp.domain.errors import InvalidInput, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.templates.errors import MetaUnreachable

T = TypeVar("T")


async def from_meta(operation: str, call: Awaitable[T]) -> T:
    try:
        return await call
    except GatewayUnreachable as error:
        raise MetaUnreachable(operation) from error


async def stored_group(uow: UnitOfWork, group_id: UUID) -> Group:
    group = await uow.groups.get(group_id)
    if group is None:
        raise NotFound(f"No group {group_id} in this tenant")
    return group


async def group_channel(uow: UnitOfWork, group: Group) -> Channel:
    """The channel the group lives on (its phone number), else the tenant's sending channel."""
    if group.channel_id is not None:
        channel = await uow.channels.get(group.channel_id)
        if channel is not None:
            return channel
    return await sending_channel(uow, None)


async def meta_group(
    uow_factory: UnitOfWorkFactory, principal: Principal, group_id: UUID
) -> tuple[Group, str, Channel]:
    """The stored group, Meta's id for it and its channel; 404 in another tenant, 409 before Meta has it."""
    async with uow_factory(principal.tenant_id) as uow:
        group = await stored_group(uow, group_id)
        if group.state is not GroupState.ACTIVE or not group.group_id:
            raise GroupNotReady(group)
        return group, group.group_id, await group_channel(uow, group)


@dataclass(frozen=True)
class GroupDetails:
    group: Group
    participants: list[GroupParticipant]


@dataclass(frozen=True)
class SyncReport:
    created: int
    updated: int
    channels: int


class ManageGroups:
    def __init__(self, uow_factory: UnitOfWorkFactory, gateway: GroupGateway) -> None:
        self._uow_factory = uow_factory
        self._gateway = gateway

    async def create(
        self,
        principal: Principal,
        *,
        subject: str,
        description: str | None = None,
        approval_mode: str | None = None,
        channel_id: UUID | None = None,
    ) -> Group:
        subject = group_subject(subject)
        description = group_description(description)
        mode = join_approval_mode(approval_mode)
        async with self._uow_factory(principal.tenant_id) as uow:
            channel = await sending_channel(uow, channel_id)
        request_id = await from_meta(
            "create group",
            self._gateway.create_group(
                channel, subject=subject, description=description, join_approval_mode=mode
            ),
        )
        async with self._uow_factory(principal.tenant_id) as uow:
            # Meta's creation webhook may have come first and stored the group already.
            existing = await uow.group_registry.by_request_id(request_id)
            if existing is None:
                group = Group(
                    tenant_id=principal.tenant_id,
                    subject=subject,
                    description=description,
                    join_approval_mode=mode,
                    state=GroupState.PENDING,
                    request_id=request_id,
                    channel_id=channel.id,
                )
            else:
                group = replace(
                    existing,
                    description=existing.description or description,
                    join_approval_mode=mode,
                    channel_id=channel.id,
                )
            group = await uow.group_registry.save(group)
            await uow.commit()
        return group

    async def get(self, principal: Principal, group_id: UUID, *, refresh: bool = False) -> GroupDetails:
        if refresh:
            _, meta_id, channel = await meta_group(self._uow_factory, principal, group_id)
            fresh = await from_meta("get group", self._gateway.get_group(channel, meta_id))
            async with self._uow_factory(principal.tenant_id) as uow:
                group = await stored_group(uow, group_id)
                await uow.group_registry.save(_merged(group, fresh, channel))
                if fresh.participants is not None:
                    await uow.group_registry.replace_participants(group.id, fresh.participants)
                await uow.commit()
        async with self._uow_factory(principal.tenant_id) as uow:
            group = await stored_group(uow, group_id)
            return GroupDetails(group=group, participants=await uow.group_registry.participants(group.id))

    async def sync(self, principal: Principal) -> SyncReport:
        """Pull every active group of the tenant's channels from Meta; stored ones are brought up to date."""
        async with self._uow_factory(principal.tenant_id) as uow:
            channels = [c for c in await uow.channels.list(limit=200) if c.is_active and not c.paused_reason]
        created = updated = 0
        for channel in channels:
            groups = await from_meta("list groups", self._gateway.list_groups(channel))
            async with self._uow_factory(principal.tenant_id) as uow:
                for fresh in groups:
                    stored = await uow.group_registry.by_meta_id(fresh.group_id)
                    if stored is None:
                        stored = Group(tenant_id=principal.tenant_id, subject=fresh.subject)
                        created += 1
                    else:
                        updated += 1
                    saved = await uow.group_registry.save(_merged(stored, fresh, channel))
                    if fresh.participants is not None:
                        await uow.group_registry.replace_participants(saved.id, fresh.participants)
                await uow.commit()
        return SyncReport(created=created, updated=updated, channels=len(channels))

    async def update_settings(
        self, principal: Principal, group_id: UUID, *, subject: str | None, description: str | None
    ) -> Group:
        if subject is None and description is None:
            raise InvalidInput("give a subject or a description to change")
        subject = group_subject(subject) if subject is not None else None
        description = group_description(description)
        _, meta_id, channel = await meta_group(self._uow_factory, principal, group_id)
        await from_meta(
            "update group settings",
            self._gateway.update_settings(channel, meta_id, subject=subject, description=description),
        )
        async with self._uow_factory(principal.tenant_id) as uow:
            group = await stored_group(uow, group_id)
            group = replace(
                group,
                subject=subject if subject is not None else group.subject,
                description=description if description is not None else group.description,
            )
            group = await uow.group_registry.save(group)
            await uow.commit()
        return group

    async def delete(self, principal: Principal, group_id: UUID) -> None:
        async with self._uow_factory(principal.tenant_id) as uow:
            group = await stored_group(uow, group_id)
            if group.state is GroupState.PENDING:
                raise GroupNotReady(group)
            channel = await group_channel(uow, group) if group.group_id else None
        if group.group_id and channel is not None:
            await from_meta("delete group", self._gateway.delete_group(channel, group.group_id))
        async with self._uow_factory(principal.tenant_id) as uow:
            await uow.group_registry.delete(group_id)
            await uow.commit()


def _merged(group: Group, fresh: MetaGroup, channel: Channel) -> Group:
    return replace(
        group,
        group_id=fresh.group_id,
        subject=fresh.subject or group.subject,
        description=fresh.description if fresh.description is not None else group.description,
        suspended=fresh.suspended,
        join_approval_mode=fresh.join_approval_mode or group.join_approval_mode,
        state=GroupState.ACTIVE,
        error=None,
        channel_id=group.channel_id or channel.id,
    )
