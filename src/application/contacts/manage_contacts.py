"""Create, read, change, delete and search a tenant's contacts (`/api/v1/contacts`).

A contact is one person whatever format their number came in: every number is normalized to the
WhatsApp id (E.164 digits, as Meta writes `wa_id` in webhooks), so a contact created here is the one an
inbound message from that number lands on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pywhatsapp.application.common.list_records import MAX_OFFSET, MAX_PAGE_SIZE, Page
from pywhatsapp.application.common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from pywhatsapp.application.contacts.ports import ContactQuery
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.contacts.contact import (
    Contact,
    change_opt_out,
    clean_attributes,
    clean_name,
    clean_tags,
)
from pywhatsapp.domain.contacts.phone import normalize_phone
from pywhatsapp.domain.errors import Conflict, InvalidInput, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role

MAX_SEARCH_LENGTH = 100


@dataclass(frozen=True)
class NewContact:
    phone: str
    name: str | None = None
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    opted_out: bool = False


@dataclass(frozen=True)
class ContactChanges:
    """Only the fields given change; `name=""` clears the name, `attributes` replaces them all."""

    phone: str | None = None
    name: str | None = None
    tags: list[str] | None = None
    attributes: dict[str, Any] | None = None
    opted_out: bool | None = None


def duplicate(wa_id: str, existing: Contact | None) -> Conflict:
    where = f" ({existing.id})" if existing is not None else ""
    return Conflict(f"A contact with the number +{wa_id} exists already{where}")


class ManageContacts:
    def __init__(self, uow_factory: UnitOfWorkFactory, default_region: str) -> None:
        self._uow_factory = uow_factory
        self._region = default_region

    async def create(self, principal: Principal, new: NewContact) -> Contact:
        principal.require(Role.AGENT)
        now = utc_now()
        contact = Contact(
            tenant_id=principal.tenant_id,
            wa_id=normalize_phone(new.phone, self._region),
            name=clean_name(new.name),
            tags=clean_tags(new.tags),
            attributes=clean_attributes(new.attributes),
            opted_out=new.opted_out,
            opted_out_changed_at=now if new.opted_out else None,
        )
        async with self._uow_factory(principal.tenant_id) as uow:
            stored = await uow.contact_book.insert_new(contact)
            if stored is None:
                raise duplicate(contact.wa_id, await uow.contact_book.find_by_wa_id(contact.wa_id))
            await uow.commit()
        return stored

    async def get(self, principal: Principal, contact_id: UUID) -> Contact:
        principal.require(Role.AGENT)
        async with self._uow_factory(principal.tenant_id) as uow:
            return await self._get(uow, contact_id)

    async def update(self, principal: Principal, contact_id: UUID, changes: ContactChanges) -> Contact:
        principal.require(Role.AGENT)
        async with self._uow_factory(principal.tenant_id) as uow:
            contact = await self._get(uow, contact_id)
            if changes.phone is not None:
                wa_id = normalize_phone(changes.phone, self._region)
                if wa_id != contact.wa_id:
                    holder = await uow.contact_book.find_by_wa_id(wa_id)
                    if holder is not None:
                        raise duplicate(wa_id, holder)
                    contact.wa_id = wa_id
            if changes.name is not None:
                contact.name = clean_name(changes.name)
            if changes.tags is not None:
                contact.tags = clean_tags(changes.tags)
            if changes.attributes is not None:
                contact.attributes = clean_attributes(changes.attributes)
            if changes.opted_out is not None:
                change_opt_out(contact, changes.opted_out, utc_now())
            stored = await uow.contacts.update(contact)
            await uow.commit()
        return stored

    async def delete(self, principal: Principal, contact_id: UUID) -> None:
        principal.require(Role.ADMIN)
        async with self._uow_factory(principal.tenant_id) as uow:
            if not await uow.contact_book.remove(contact_id):
                raise NotFound(f"No contact {contact_id}")
            await uow.commit()

    async def search(
        self, principal: Principal, query: ContactQuery, *, limit: int = 50, offset: int = 0
    ) -> Page[Contact]:
        principal.require(Role.AGENT)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        if not 0 <= offset <= MAX_OFFSET:
            raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}")
        text = (query.text or "").strip() or None
        if text is not None and (len(text) > MAX_SEARCH_LENGTH or "\x00" in text):
            raise InvalidInput(f"q must be at most {MAX_SEARCH_LENGTH} characters of text")
        tag = (query.tag or "").strip() or None
        if tag is not None:
            (tag,) = clean_tags([tag])
        async with self._uow_factory(principal.tenant_id) as uow:
            items, total = await uow.contact_book.search(
                ContactQuery(text=text, tag=tag, opted_out=query.opted_out), limit=limit, offset=offset
            )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @staticmethod
    async def _get(uow: UnitOfWork, contact_id: UUID) -> Contact:
        contact = await uow.contacts.get(contact_id)
        if contact is None:
            raise NotFound(f"No contact {contact_id}")
        return contact
