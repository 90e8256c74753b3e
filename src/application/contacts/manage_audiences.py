"""Audiences (`/api/v1/audiences`): named contact lists for campaigns.

Static audiences hold the members added to them; dynamic ones are every contact having any of their tags,
resolved when asked. Every answer carries the member count. Campaigns resolve an audience through
`uow.audience_members.contact_ids(audience_id)` (the `AudienceMembers` port).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from pywhatsapp.application.common.list_records import MAX_OFFSET, MAX_PAGE_SIZE, Page
from pywhatsapp.application.common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from pywhatsapp.domain.contacts.audience import (
    MAX_MEMBERS_PER_CALL,
    Audience,
    AudienceKind,
    define_audience,
)
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.errors import Conflict, InvalidInput, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role


@dataclass(frozen=True)
class CountedAudience:
    audience: Audience
    member_count: int


@dataclass(frozen=True)
class MembershipChange:
    audience: CountedAudience
    changed: int
    """Members added or removed by this call."""


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}")


def _check_ids(contact_ids: list[UUID]) -> list[UUID]:
    if len(contact_ids) > MAX_MEMBERS_PER_CALL:
        raise InvalidInput(f"at most {MAX_MEMBERS_PER_CALL} contact ids per call")
    return list(dict.fromkeys(contact_ids))


class ManageAudiences:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def create(
        self,
        principal: Principal,
        *,
        name: str,
        kind: AudienceKind | None = None,
        tags: list[str] | None = None,
        contact_ids: list[UUID] | None = None,
        description: str | None = None,
    ) -> CountedAudience:
        principal.require(Role.AGENT)
        # `{"name", "tags"}` alone means a dynamic audience, as the API contract has it.
        kind = kind or (AudienceKind.DYNAMIC if tags else AudienceKind.STATIC)
        clean_name, clean_tags = define_audience(name, kind, tags or [])
        if kind is AudienceKind.DYNAMIC and contact_ids:
            raise InvalidInput("a dynamic audience's members are its tags' contacts; give no contact_ids")
        members = _check_ids(contact_ids or [])
        async with self._uow_factory(principal.tenant_id) as uow:
            if await uow.audience_members.find_by_name(clean_name) is not None:
                raise Conflict(f"An audience named {clean_name!r} exists already")
            audience = await uow.audiences.add(
                Audience(
                    tenant_id=principal.tenant_id,
                    name=clean_name,
                    kind=kind,
                    tags=clean_tags,
                    description=_description(description),
                )
            )
            if members:
                await self._require_contacts(uow, members)
                await uow.audience_members.add(audience.id, members)
            counted = await self._counted(uow, audience)
            await uow.commit()
        return counted

    async def get(self, principal: Principal, audience_id: UUID) -> CountedAudience:
        principal.require(Role.AGENT)
        async with self._uow_factory(principal.tenant_id) as uow:
            return await self._counted(uow, await self._get(uow, audience_id))

    async def page(self, principal: Principal, *, limit: int = 50, offset: int = 0) -> Page[CountedAudience]:
        principal.require(Role.AGENT)
        _check_page(limit, offset)
        async with self._uow_factory(principal.tenant_id) as uow:
            audiences = list(await uow.audiences.list(limit=limit, offset=offset))
            total = await uow.audiences.count()
            counts = await uow.audience_members.counts(audiences)
        items = [CountedAudience(audience, counts.get(audience.id, 0)) for audience in audiences]
        return Page(items=items, total=total, limit=limit, offset=offset)

    async def update(
        self,
        principal: Principal,
        audience_id: UUID,
        *,
        name: str | None = None,
        tags: list[str] | None = None,
        description: str | None = None,
    ) -> CountedAudience:
        principal.require(Role.AGENT)
        async with self._uow_factory(principal.tenant_id) as uow:
            audience = await self._get(uow, audience_id)
            new_name, new_tags = define_audience(
                audience.name if name is None else name,
                audience.kind,
                audience.tags if tags is None else tags,
            )
            if new_name != audience.name and await uow.audience_members.find_by_name(new_name) is not None:
                raise Conflict(f"An audience named {new_name!r} exists already")
            audience.name, audience.tags = new_name, new_tags
            if description is not None:
                audience.description = _description(description)
            stored = await uow.audiences.update(audience)
            counted = await self._counted(uow, stored)
            await uow.commit()
        return counted

    async def delete(self, principal: Principal, audience_id: UUID) -> None:
        principal.require(Role.AGENT)
        async with self._uow_factory(principal.tenant_id) as uow:
            if not await uow.audience_members.remove_audience(audience_id):
                raise NotFound(f"No audience {audience_id}")
            await uow.commit()

    async def add_members(
        self, principal: Principal, audience_id: UUID, contact_ids: list[UUID]
    ) -> MembershipChange:
        principal.require(Role.AGENT)
        members = _check_ids(contact_ids)
        async with self._uow_factory(principal.tenant_id) as uow:
            audience = await self._static(uow, audience_id)
            await self._require_contacts(uow, members)
            added = await uow.audience_members.add(audience.id, members)
            counted = await self._counted(uow, audience)
            await uow.commit()
        return MembershipChange(counted, added)

    async def remove_members(
        self, principal: Principal, audience_id: UUID, contact_ids: list[UUID]
    ) -> MembershipChange:
        principal.require(Role.AGENT)
        members = _check_ids(contact_ids)
        async with self._uow_factory(principal.tenant_id) as uow:
            audience = await self._static(uow, audience_id)
            removed = await uow.audience_members.discard(audience.id, members)
            counted = await self._counted(uow, audience)
            await uow.commit()
        return MembershipChange(counted, removed)

    async def members(
        self, principal: Principal, audience_id: UUID, *, limit: int = 50, offset: int = 0
    ) -> Page[Contact]:
        principal.require(Role.AGENT)
        _check_page(limit, offset)
        async with self._uow_factory(principal.tenant_id) as uow:
            audience = await self._get(uow, audience_id)
            items, total = await uow.audience_members.page(audience, limit=limit, offset=offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @staticmethod
    async def _get(uow: UnitOfWork, audience_id: UUID) -> Audience:
        audience = await uow.audiences.get(audience_id)
        if audience is None:
            raise NotFound(f"No audience {audience_id}")
        return audience

    async def _static(self, uow: UnitOfWork, audience_id: UUID) -> Audience:
        audience = await self._get(uow, audience_id)
        if audience.kind is not AudienceKind.STATIC:
            raise Conflict("A dynamic audience's members follow its tags: tag the contacts instead")
        return audience

    @staticmethod
    async def _require_contacts(uow: UnitOfWork, contact_ids: list[UUID]) -> None:
        known = await uow.contact_book.existing_ids(contact_ids)
        unknown = [str(contact_id) for contact_id in contact_ids if contact_id not in known]
        if unknown:
            shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            raise InvalidInput(f"No such contacts in this tenant: {shown}")

    @staticmethod
    async def _counted(uow: UnitOfWork, audience: Audience) -> CountedAudience:
        counts = await uow.audience_members.counts([audience])
        return CountedAudience(audience, counts.get(audience.id, 0))


def _description(description: str | None) -> str | None:
    if description is None:
        return None
    description = description.strip()
    if len(description) > 2000 or "\x00" in description:
        raise InvalidInput("description must be at most 2,000 characters of text")
    return description or None
