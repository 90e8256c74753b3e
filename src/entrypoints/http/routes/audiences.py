"""`/api/v1/audiences`: named contact lists for campaigns, with their member counts.

`POST {"name", "contact_ids"}` makes a static audience; `POST {"name", "tags"}` (or `"kind": "dynamic"`) a
dynamic one: every contact having ANY of the tags, counted and resolved when asked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from pywhatsapp.application.common.list_records import MAX_OFFSET, MAX_PAGE_SIZE
from pywhatsapp.application.contacts.manage_audiences import CountedAudience, ManageAudiences
from pywhatsapp.domain.contacts.audience import MAX_MEMBERS_PER_CALL, AudienceKind
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.envelope import Envelope, ListPage, ok
from pywhatsapp.entrypoints.http.routes.paging import list_page
from pywhatsapp.entrypoints.http.schemas import ContactRead, present
from pywhatsapp.entrypoints.http.security import requires

AGENT = [requires(Role.AGENT)]
AUDIENCES = {"manage_audiences": from_container("manage_audiences")}
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Tags = Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=20)]
ContactIds = Annotated[list[UUID], msgspec.Meta(max_length=MAX_MEMBERS_PER_CALL)]
Description = Annotated[str, msgspec.Meta(max_length=2000)]


class AudienceCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    kind: AudienceKind | None = None
    """static (members) or dynamic (tags); by default dynamic when tags are given."""
    tags: Tags | None = None
    contact_ids: ContactIds | None = None
    description: Description | None = None


class AudienceUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | None = None
    tags: Tags | None = None
    """A dynamic audience's tags (a static one has none)."""
    description: Description | None = None


class Members(msgspec.Struct, forbid_unknown_fields=True):
    contact_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=MAX_MEMBERS_PER_CALL)]


class AudienceRead(msgspec.Struct):
    id: UUID
    name: str
    kind: str
    tags: list[str]
    description: str | None
    member_count: int
    """Static: its members. Dynamic: contacts having any of its tags, now. Opted-out contacts count."""
    created_at: datetime
    updated_at: datetime


class MembershipRead(msgspec.Struct):
    audience: AudienceRead
    changed: int
    """Members added (or removed) by this call; ids already in (or not in) the audience are skipped."""


def _read(counted: CountedAudience) -> AudienceRead:
    audience = counted.audience
    return AudienceRead(
        id=audience.id,
        name=audience.name,
        kind=audience.kind.value,
        tags=audience.tags,
        description=audience.description,
        member_count=counted.member_count,
        created_at=audience.created_at,
        updated_at=audience.updated_at,
    )


@get(
    "/api/v1/audiences",
    tags=["audiences"],
    guards=AGENT,
    operation_id="list_audiences",
    dependencies=AUDIENCES,
    summary="The tenant's audiences, newest first, each with its member count",
)
async def list_audiences(
    principal: NamedDependency[Principal],
    manage_audiences: NamedDependency[ManageAudiences],
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
) -> Envelope[ListPage[AudienceRead]]:
    page = await manage_audiences.page(principal, limit=limit, offset=offset)
    return ok(list_page(page, _read))


@post(
    "/api/v1/audiences",
    tags=["audiences"],
    guards=AGENT,
    status_code=201,
    dependencies=AUDIENCES,
    summary="Create an audience: static with contact_ids, or dynamic with tags; 409 if the name is taken",
)
async def create_audience(
    data: JSONBody[AudienceCreate],
    principal: NamedDependency[Principal],
    manage_audiences: NamedDependency[ManageAudiences],
) -> Envelope[AudienceRead]:
    counted = await manage_audiences.create(
        principal,
        name=data.name,
        kind=data.kind,
        tags=data.tags,
        contact_ids=data.contact_ids,
        description=data.description,
    )
    return ok(_read(counted), message="Created")


@get(
    "/api/v1/audiences/{audience_id:uuid}",
    tags=["audiences"],
    guards=AGENT,
    dependencies=AUDIENCES,
    summary="One audience with its member count",
)
async def get_audience(
    audience_id: UUID,
    principal: NamedDependency[Principal],
    manage_audiences: NamedDependency[ManageAudiences],
) -> Envelope[AudienceRead]:
    return ok(_read(await manage_audiences.get(principal, audience_id)))


@patch(
    "/api/v1/audiences/{audience_id:uuid}",
    tags=["audiences"],
    guards=AGENT,
    dependencies=AUDIENCES,
    summary="Rename an audience, change its description or (dynamic) its tags",
)
async def update_audience(
    audience_id: UUID,
    data: JSONBody[AudienceUpdate],
    principal: NamedDependency[Principal],
    manage_audiences: NamedDependency[ManageAudiences],
) -> Envelope[AudienceRead]:
    counted = await manage_audiences.update(
        principal, audience_id, name=data.name, tags=data.tags, description=data.description
    )
    return ok(_read(counted), message="Updated")


@delete(
    "/api/v1/audiences/{audience_id:uuid}",
    tags=["audiences"],
    guards=AGENT,
    status_code=200,
    dependencies=AUDIENCES,
    summary="Delete an audience (its contacts stay)",
)
async def delete_audience(
    audience_id: UUID,
    principal: NamedDependency[Principal],
    manage_audiences: NamedDependency[ManageAudiences],
) -> Envelope[None]:
    await manage_audiences.delete(principal, audience_id)
    return ok(None, message="Deleted")


@get(
    "/api/v1/audiences/{audience_id:uuid}/members",
    tags=["audiences"],
    guards=AGENT,
    dependencies=AUDIENCES,
    summary="An audience's contacts, newest first",
)
async def list_audience_members(
    audience_id: UUID,
    principal: NamedDependency[Principal],
    manage_audiences: NamedDependency[ManageAudiences],
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
) -> Envelope[ListPage[ContactRead]]:
    page = await manage_audiences.members(principal, audience_id, limit=limit, offset=offset)
    return ok(list_page(page, lambda contact: present(contact, ContactRead)))


@post(
    "/api/v1/audiences/{audience_id:uuid}/members",
    tags=["audiences"],
    guards=AGENT,
    status_code=200,
    dependencies=AUDIENCES,
    summary="Add contacts to a static audience",
)
async def add_audience_members(
    audience_id: UUID,
    data: JSONBody[Members],
    principal: NamedDependency[Principal],
    manage_audiences: NamedDependency[ManageAudiences],
) -> Envelope[MembershipRead]:
    change = await manage_audiences.add_members(principal, audience_id, data.contact_ids)
    return ok(MembershipRead(audience=_read(change.audience), changed=change.changed), message="Added")


@delete(
    "/api/v1/audiences/{audience_id:uuid}/members",
    tags=["audiences"],
    guards=AGENT,
    status_code=200,
    dependencies=AUDIENCES,
    summary='Remove contacts from a static audience (body: {"contact_ids": [...]})',
)
async def remove_audience_members(
    audience_id: UUID,
    data: JSONBody[Members],
    principal: NamedDependency[Principal],
    manage_audiences: NamedDependency[ManageAudiences],
) -> Envelope[MembershipRead]:
    change = await manage_audiences.remove_members(principal, audience_id, data.contact_ids)
    return ok(MembershipRead(audience=_read(change.audience), changed=change.changed), message="Removed")


ROUTES = [
    list_audiences,
    create_audience,
    get_audience,
    update_audience,
    delete_audience,
    list_audience_members,
    add_audience_members,
    remove_audience_members,
]
