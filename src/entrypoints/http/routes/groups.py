"""`/api/v1/groups`: real WhatsApp groups through the Cloud API's Groups API.

Reading (list, one group, its messages, invite link, join requests) is for agents; changing a group
(create, sync, settings, delete, participants, join requests, a new invite link) for administrators.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from pywhatsapp.application.common.list_records import MAX_OFFSET, MAX_PAGE_SIZE, ListRecords
from pywhatsapp.application.groups.group_membership import MAX_JOIN_REQUESTS, GroupMembership
from pywhatsapp.application.groups.manage_groups import GroupDetails, ManageGroups
from pywhatsapp.application.inbox.read_models import InboxReader, MessageFilters
from pywhatsapp.domain.contacts.group import MAX_DESCRIPTION, MAX_PARTICIPANTS, MAX_SUBJECT, Group
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.envelope import Envelope, ListPage, ok
from pywhatsapp.entrypoints.http.routes.inbox import (
    CursorParam,
    Limit,
    MessagePage,
    cursor_page,
    decode_cursor,
)
from pywhatsapp.entrypoints.http.routes.paging import list_page
from pywhatsapp.entrypoints.http.schemas import NO_NUL, GroupRead, MessageRead, present
from pywhatsapp.entrypoints.http.security import requires

TAGS = ["groups"]
ADMIN = [requires(Role.ADMIN)]
AGENT = [requires(Role.AGENT)]
DEPENDENCIES = {
    "manage_groups": from_container("manage_groups"),
    "group_membership": from_container("group_membership"),
    "records": from_container("list_groups"),
}

Subject = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SUBJECT * 2, pattern=NO_NUL)]
Description = Annotated[str, msgspec.Meta(max_length=MAX_DESCRIPTION, pattern=NO_NUL)]
WaId = Annotated[str, msgspec.Meta(min_length=5, max_length=32, pattern=NO_NUL)]
RequestId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_NUL)]


class GroupCreate(msgspec.Struct, forbid_unknown_fields=True):
    subject: Subject
    description: Description | None = None
    join_approval_mode: Annotated[str, msgspec.Meta(pattern="^(auto_approve|approval_required)$")] | None = (
        None
    )
    channel_id: UUID | None = None


class GroupSettings(msgspec.Struct, forbid_unknown_fields=True):
    subject: Subject | None = None
    description: Description | None = None


class ParticipantsRemoval(msgspec.Struct, forbid_unknown_fields=True):
    wa_ids: Annotated[list[WaId], msgspec.Meta(min_length=1, max_length=MAX_PARTICIPANTS)]


class JoinRequestIds(msgspec.Struct, forbid_unknown_fields=True):
    join_request_ids: Annotated[list[RequestId], msgspec.Meta(min_length=1, max_length=MAX_JOIN_REQUESTS)]


class ParticipantRead(msgspec.Struct):
    wa_id: str
    is_admin: bool
    joined_at: datetime


class GroupDetailRead(GroupRead):
    participants: list[ParticipantRead] = []
    participant_count: int = 0


class InviteLinkRead(msgspec.Struct):
    group_id: UUID
    invite_link: str


class JoinRequestRead(msgspec.Struct):
    id: str
    wa_id: str
    created_at: datetime | None


class JoinRequestList(msgspec.Struct):
    items: list[JoinRequestRead]
    total: int


class JoinRequestAnswer(msgspec.Struct):
    done: list[str]
    failed: dict[str, str]


class SyncRead(msgspec.Struct):
    created: int
    updated: int
    channels: int


def _group(group: Group) -> GroupRead:
    return present(group, GroupRead)


def _details(details: GroupDetails) -> GroupDetailRead:
    base = msgspec.structs.asdict(_group(details.group))
    participants = [
        ParticipantRead(wa_id=p.wa_id, is_admin=p.is_admin, joined_at=p.created_at)
        for p in details.participants
    ]
    return GroupDetailRead(**base, participants=participants, participant_count=len(participants))


@post(
    "/api/v1/groups",
    tags=TAGS,
    summary="Create a WhatsApp group (pending until Meta confirms it by webhook; admin role)",
    guards=ADMIN,
    dependencies=DEPENDENCIES,
    status_code=HTTP_201_CREATED,
)
async def create_group(
    data: JSONBody[GroupCreate],
    principal: NamedDependency[Principal],
    manage_groups: NamedDependency[ManageGroups],
) -> Envelope[GroupRead]:
    group = await manage_groups.create(
        principal,
        subject=data.subject,
        description=data.description,
        approval_mode=data.join_approval_mode,
        channel_id=data.channel_id,
    )
    return ok(_group(group), message="Requested; Meta confirms the group by webhook")


@get(
    "/api/v1/groups",
    tags=TAGS,
    summary="The tenant's groups, newest first (`sync=true` pulls the active groups from Meta first)",
    guards=AGENT,
    dependencies=DEPENDENCIES,
    operation_id="list_groups",
)
async def list_groups(
    principal: NamedDependency[Principal],
    records: NamedDependency[ListRecords[Group]],
    manage_groups: NamedDependency[ManageGroups],
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
    sync: Annotated[bool, QueryParameter(description="Pull the active groups from Meta first")] = False,
) -> Envelope[ListPage[GroupRead]]:
    if sync:
        await manage_groups.sync(principal)
    page = await records.execute(principal, limit=limit, offset=offset)
    return ok(list_page(page, _group))


@post(
    "/api/v1/groups/sync",
    tags=TAGS,
    summary="Pull the active groups of every channel from Meta (admin role)",
    guards=ADMIN,
    dependencies=DEPENDENCIES,
    status_code=200,
)
async def sync_groups(
    principal: NamedDependency[Principal], manage_groups: NamedDependency[ManageGroups]
) -> Envelope[SyncRead]:
    report = await manage_groups.sync(principal)
    return ok(
        SyncRead(created=report.created, updated=report.updated, channels=report.channels), message="Synced"
    )


@get(
    "/api/v1/groups/{group_id:uuid}",
    tags=TAGS,
    summary="One group with its participants (`refresh=true` asks Meta first)",
    guards=AGENT,
    dependencies=DEPENDENCIES,
)
async def get_group(
    group_id: UUID,
    principal: NamedDependency[Principal],
    manage_groups: NamedDependency[ManageGroups],
    refresh: Annotated[
        bool, QueryParameter(description="Read the group and its participants from Meta")
    ] = False,
) -> Envelope[GroupDetailRead]:
    return ok(_details(await manage_groups.get(principal, group_id, refresh=refresh)))


@patch(
    "/api/v1/groups/{group_id:uuid}/settings",
    tags=TAGS,
    summary="Change the group's subject or description (admin role)",
    guards=ADMIN,
    dependencies=DEPENDENCIES,
)
async def update_group_settings(
    group_id: UUID,
    data: JSONBody[GroupSettings],
    principal: NamedDependency[Principal],
    manage_groups: NamedDependency[ManageGroups],
) -> Envelope[GroupRead]:
    group = await manage_groups.update_settings(
        principal, group_id, subject=data.subject, description=data.description
    )
    return ok(_group(group), message="Updated")


@delete(
    "/api/v1/groups/{group_id:uuid}",
    tags=TAGS,
    summary="Delete the group at Meta (every participant is removed) and here (admin role)",
    guards=ADMIN,
    dependencies=DEPENDENCIES,
    status_code=200,
)
async def delete_group(
    group_id: UUID, principal: NamedDependency[Principal], manage_groups: NamedDependency[ManageGroups]
) -> Envelope[dict[str, Any]]:
    await manage_groups.delete(principal, group_id)
    return ok({"id": str(group_id), "deleted": True}, message="Deleted")


@get(
    "/api/v1/groups/{group_id:uuid}/invite-link",
    tags=TAGS,
    summary="The group's invite link, from Meta",
    guards=AGENT,
    dependencies=DEPENDENCIES,
)
async def get_invite_link(
    group_id: UUID, principal: NamedDependency[Principal], group_membership: NamedDependency[GroupMembership]
) -> Envelope[InviteLinkRead]:
    link = await group_membership.invite_link(principal, group_id)
    return ok(InviteLinkRead(group_id=group_id, invite_link=link))


@post(
    "/api/v1/groups/{group_id:uuid}/invite-link/reset",
    tags=TAGS,
    summary="A new invite link; the old one stops working (admin role)",
    guards=ADMIN,
    dependencies=DEPENDENCIES,
    status_code=200,
)
async def reset_invite_link(
    group_id: UUID, principal: NamedDependency[Principal], group_membership: NamedDependency[GroupMembership]
) -> Envelope[InviteLinkRead]:
    link = await group_membership.invite_link(principal, group_id, reset=True)
    return ok(InviteLinkRead(group_id=group_id, invite_link=link), message="Reset")


@get(
    "/api/v1/groups/{group_id:uuid}/join-requests",
    tags=TAGS,
    summary="People asking to join (groups with join_approval_mode approval_required)",
    guards=AGENT,
    dependencies=DEPENDENCIES,
)
async def list_join_requests(
    group_id: UUID, principal: NamedDependency[Principal], group_membership: NamedDependency[GroupMembership]
) -> Envelope[JoinRequestList]:
    requests = await group_membership.join_requests(principal, group_id)
    items = [JoinRequestRead(id=r.id, wa_id=r.wa_id, created_at=r.created_at) for r in requests]
    return ok(JoinRequestList(items=items, total=len(items)))


async def _answer(
    membership: GroupMembership, principal: Principal, group_id: UUID, data: JoinRequestIds, *, approve: bool
) -> Envelope[JoinRequestAnswer]:
    outcome = await membership.answer_join_requests(
        principal, group_id, data.join_request_ids, approve=approve
    )
    return ok(
        JoinRequestAnswer(done=list(outcome.done), failed=outcome.failed),
        message="Approved" if approve else "Rejected",
    )


@post(
    "/api/v1/groups/{group_id:uuid}/join-requests/approve",
    tags=TAGS,
    summary="Let people in (admin role)",
    guards=ADMIN,
    dependencies=DEPENDENCIES,
    status_code=200,
)
async def approve_join_requests(
    group_id: UUID,
    data: JSONBody[JoinRequestIds],
    principal: NamedDependency[Principal],
    group_membership: NamedDependency[GroupMembership],
) -> Envelope[JoinRequestAnswer]:
    return await _answer(group_membership, principal, group_id, data, approve=True)


@post(
    "/api/v1/groups/{group_id:uuid}/join-requests/reject",
    tags=TAGS,
    summary="Turn join requests down (admin role)",
    guards=ADMIN,
    dependencies=DEPENDENCIES,
    status_code=200,
)
async def reject_join_requests(
    group_id: UUID,
    data: JSONBody[JoinRequestIds],
    principal: NamedDependency[Principal],
    group_membership: NamedDependency[GroupMembership],
) -> Envelope[JoinRequestAnswer]:
    return await _answer(group_membership, principal, group_id, data, approve=False)


@delete(
    "/api/v1/groups/{group_id:uuid}/participants",
    tags=TAGS,
    summary='Remove participants: {"wa_ids": [...]} (admin role)',
    guards=ADMIN,
    dependencies=DEPENDENCIES,
    status_code=200,
)
async def remove_participants(
    group_id: UUID,
    data: JSONBody[ParticipantsRemoval],
    principal: NamedDependency[Principal],
    group_membership: NamedDependency[GroupMembership],
) -> Envelope[dict[str, Any]]:
    removed = await group_membership.remove_participants(principal, group_id, data.wa_ids)
    return ok({"id": str(group_id), "removed": removed}, message="Removed")


@get(
    "/api/v1/groups/{group_id:uuid}/messages",
    tags=TAGS,
    summary="The group's messages (in and out), newest first; pass next_cursor to page back",
    guards=AGENT,
    dependencies=DEPENDENCIES,
)
async def group_messages(
    group_id: UUID,
    principal: NamedDependency[Principal],
    manage_groups: NamedDependency[ManageGroups],
    inbox_reader: NamedDependency[InboxReader],
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Envelope[MessagePage]:
    await manage_groups.get(principal, group_id)  # 404 for a group of another tenant
    page = await inbox_reader.messages(
        principal.tenant_id, MessageFilters(group_id=group_id), limit=limit, before=decode_cursor(cursor)
    )
    return ok(cursor_page(MessagePage, page, lambda message: present(message, MessageRead), limit))


ROUTES = [
    create_group,
    list_groups,
    sync_groups,
    get_group,
    update_group_settings,
    delete_group,
    get_invite_link,
    reset_invite_link,
    list_join_requests,
    approve_join_requests,
    reject_join_requests,
    remove_participants,
    group_messages,
]
