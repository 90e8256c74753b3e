"""Who is in a group: its invite link, the join requests waiting for approval, removing participants.

Nobody is added to a WhatsApp group by the business: people join through the invite link (or ask to,
when the group requires approval). Meta reports joins and departures with `group_participants_update`
webhooks (`application/groups/apply_group_update.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.groups.manage_groups import from_meta, meta_group, stored_group
from pywhatsapp.application.groups.ports import GroupGateway, JoinRequest, JoinRequestOutcome
from pywhatsapp.domain.contacts.group import MAX_PARTICIPANTS
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.sending import whatsapp_id

MAX_JOIN_REQUESTS = 100


def _ids(values: Sequence[str], what: str, most: int) -> list[str]:
    cleaned = list(dict.fromkeys(value.strip() for value in values if value.strip()))
    if not cleaned:
        raise InvalidInput(f"give at least one {what}")
    if len(cleaned) > most:
        raise InvalidInput(f"at most {most} {what}s at a time")
    return cleaned


class GroupMembership:
    def __init__(self, uow_factory: UnitOfWorkFactory, gateway: GroupGateway) -> None:
        self._uow_factory = uow_factory
        self._gateway = gateway

    async def invite_link(self, principal: Principal, group_id: UUID, *, reset: bool = False) -> str:
        """The group's invite link from Meta (a new one when `reset`: the old link stops working)."""
        _, meta_id, channel = await meta_group(self._uow_factory, principal, group_id)
        link = await from_meta(
            "reset invite link" if reset else "get invite link",
            self._gateway.invite_link(channel, meta_id, reset=reset),
        )
        async with self._uow_factory(principal.tenant_id) as uow:
            group = await stored_group(uow, group_id)
            await uow.group_registry.save(replace(group, invite_link=link))
            await uow.commit()
        return link

    async def join_requests(self, principal: Principal, group_id: UUID) -> list[JoinRequest]:
        _, meta_id, channel = await meta_group(self._uow_factory, principal, group_id)
        return await from_meta("get join requests", self._gateway.join_requests(channel, meta_id))

    async def answer_join_requests(
        self, principal: Principal, group_id: UUID, request_ids: Sequence[str], *, approve: bool
    ) -> JoinRequestOutcome:
        ids = _ids(request_ids, "join request id", MAX_JOIN_REQUESTS)
        _, meta_id, channel = await meta_group(self._uow_factory, principal, group_id)
        return await from_meta(
            "approve join requests" if approve else "reject join requests",
            self._gateway.answer_join_requests(channel, meta_id, ids, approve=approve),
        )

    async def remove_participants(
        self, principal: Principal, group_id: UUID, wa_ids: Sequence[str]
    ) -> list[str]:
        """Remove these people from the group; the WhatsApp ids removed."""
        numbers = [whatsapp_id(wa_id) for wa_id in _ids(wa_ids, "participant", MAX_PARTICIPANTS)]
        _, meta_id, channel = await meta_group(self._uow_factory, principal, group_id)
        await from_meta("remove participants", self._gateway.remove_participants(channel, meta_id, numbers))
        async with self._uow_factory(principal.tenant_id) as uow:
            await uow.group_registry.remove_participants(group_id, numbers)
            await uow.commit()
        return numbers
