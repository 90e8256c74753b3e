"""In-memory fakes of the contact ports (`application/contacts/ports.py`), as
`adapters/persistence/contact_book.py` does them in SQL: confined to the unit of work's tenant, wa_ids
unique per tenant, membership unique per audience and contact, import jobs leased to one runner and moved
one batch at a time."""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pywhatsapp.application.contacts.ports import ContactQuery, UpsertCounts
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.contacts.audience import Audience, AudienceKind, AudienceMember
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.contacts.contact_import import BatchResult, ContactDraft, ContactImport, ImportStatus
from pywhatsapp.domain.errors import NotFound


class _Scope:
    def __init__(
        self, records: dict[str, dict[UUID, Any]], tenant_id: UUID | None, all_tenants: bool
    ) -> None:
        self._records = records
        self._tenant_id = tenant_id
        self._all_tenants = all_tenants

    def rows(self, kind: str) -> dict[UUID, Any]:
        return self._records.setdefault(kind, {})

    def sees(self, row: Any) -> bool:
        return self._all_tenants or (self._tenant_id is not None and self._tenant_id == row.tenant_id)

    def visible(self, kind: str) -> list[Any]:
        return [row for row in self.rows(kind).values() if self.sees(row)]

    @property
    def tenant_id(self) -> UUID:
        if self._tenant_id is None:
            raise RuntimeError("written through a unit of work without a tenant")
        return self._tenant_id


def _newest_first(rows: list[Any]) -> list[Any]:
    return sorted(rows, key=lambda row: (row.created_at, row.id), reverse=True)


class FakeContactBook:
    def __init__(self, scope: _Scope) -> None:
        self._scope = scope

    def _contacts(self) -> list[Contact]:
        return self._scope.visible("contacts")

    async def search(self, query: ContactQuery, *, limit: int, offset: int) -> tuple[list[Contact], int]:
        def matches(contact: Contact) -> bool:
            if query.text:
                digits = "".join(ch for ch in query.text if ch.isdigit())
                by_name = query.text.lower() in (contact.name or "").lower()
                if not by_name and not (digits and digits in contact.wa_id):
                    return False
            if query.tag and query.tag not in contact.tags:
                return False
            return query.opted_out is None or contact.opted_out is query.opted_out

        found = _newest_first([c for c in self._contacts() if matches(c)])
        return copy.deepcopy(found[offset : offset + limit]), len(found)

    async def find_by_wa_id(self, wa_id: str) -> Contact | None:
        return copy.deepcopy(next((c for c in self._contacts() if c.wa_id == wa_id), None))

    async def insert_new(self, contact: Contact) -> Contact | None:
        if await self.find_by_wa_id(contact.wa_id) is not None:
            return None
        stored = replace(copy.deepcopy(contact), tenant_id=self._scope.tenant_id)
        self._scope.rows("contacts")[stored.id] = stored
        return copy.deepcopy(stored)

    async def existing_ids(self, contact_ids: Collection[UUID]) -> set[UUID]:
        return {c.id for c in self._contacts() if c.id in set(contact_ids)}

    async def remove(self, contact_id: UUID) -> bool:
        contact = self._scope.rows("contacts").get(contact_id)
        if contact is None or not self._scope.sees(contact):
            return False
        del self._scope.rows("contacts")[contact_id]
        members = self._scope.rows("audience_members")
        for member_id in [m.id for m in members.values() if m.contact_id == contact_id]:
            del members[member_id]
        return True

    async def upsert_drafts(self, drafts: Sequence[ContactDraft]) -> UpsertCounts:
        created = updated = 0
        for draft in drafts:
            stored = next((c for c in self._contacts() if c.wa_id == draft.wa_id), None)
            if stored is None:
                contact = Contact(
                    tenant_id=self._scope.tenant_id,
                    wa_id=draft.wa_id,
                    name=draft.name,
                    tags=list(draft.tags),
                    attributes=dict(draft.attributes),
                )
                self._scope.rows("contacts")[contact.id] = contact
                created += 1
            else:
                stored.name = draft.name if draft.name is not None else stored.name
                stored.tags = list(dict.fromkeys([*stored.tags, *draft.tags]))
                stored.attributes = {**stored.attributes, **draft.attributes}
                stored.updated_at = utc_now()
                updated += 1
        return UpsertCounts(created=created, updated=updated)

    async def page_after(self, after: UUID | None, *, limit: int) -> list[Contact]:
        ordered = sorted(self._contacts(), key=lambda c: c.id)
        return copy.deepcopy([c for c in ordered if after is None or c.id > after][:limit])

    async def attribute_names(self) -> list[str]:
        return sorted({name for c in self._contacts() for name in c.attributes})


class FakeAudienceMembers:
    def __init__(self, scope: _Scope) -> None:
        self._scope = scope

    def _members_of(self, audience: Audience) -> list[Contact]:
        contacts = self._scope.visible("contacts")
        if audience.kind is AudienceKind.DYNAMIC:
            return [c for c in contacts if set(c.tags) & set(audience.tags)]
        ids = {m.contact_id for m in self._scope.visible("audience_members") if m.audience_id == audience.id}
        return [c for c in contacts if c.id in ids]

    def _audience(self, audience_id: UUID) -> Audience | None:
        audience = self._scope.rows("audiences").get(audience_id)
        return audience if audience is not None and self._scope.sees(audience) else None

    async def contact_ids(self, audience_id: UUID, *, include_opted_out: bool = False) -> list[UUID]:
        audience = self._audience(audience_id)
        if audience is None:
            raise NotFound(f"No audience {audience_id}")
        return sorted(c.id for c in self._members_of(audience) if include_opted_out or not c.opted_out)

    async def counts(self, audiences: Sequence[Audience]) -> dict[UUID, int]:
        return {a.id: len(self._members_of(a)) for a in audiences}

    async def page(self, audience: Audience, *, limit: int, offset: int) -> tuple[list[Contact], int]:
        members = _newest_first(self._members_of(audience))
        return copy.deepcopy(members[offset : offset + limit]), len(members)

    async def add(self, audience_id: UUID, contact_ids: Collection[UUID]) -> int:
        rows = self._scope.rows("audience_members")
        present = {
            m.contact_id for m in rows.values() if m.audience_id == audience_id and self._scope.sees(m)
        }
        added = 0
        for contact_id in contact_ids:
            if contact_id not in present:
                member = AudienceMember(
                    tenant_id=self._scope.tenant_id, audience_id=audience_id, contact_id=contact_id
                )
                rows[member.id] = member
                present.add(contact_id)
                added += 1
        return added

    async def discard(self, audience_id: UUID, contact_ids: Collection[UUID]) -> int:
        rows = self._scope.rows("audience_members")
        gone = [
            m.id
            for m in rows.values()
            if self._scope.sees(m) and m.audience_id == audience_id and m.contact_id in set(contact_ids)
        ]
        for member_id in gone:
            del rows[member_id]
        return len(gone)

    async def remove_audience(self, audience_id: UUID) -> bool:
        if self._audience(audience_id) is None:
            return False
        del self._scope.rows("audiences")[audience_id]
        rows = self._scope.rows("audience_members")
        for member_id in [m.id for m in rows.values() if m.audience_id == audience_id]:
            del rows[member_id]
        return True

    async def find_by_name(self, name: str) -> Audience | None:
        return copy.deepcopy(next((a for a in self._scope.visible("audiences") if a.name == name), None))


@dataclass
class FakeImportRow:
    job: ContactImport
    source: str
    lease_owner: UUID | None = None
    lease_until: datetime | None = None

    @property
    def id(self) -> UUID:
        return self.job.id

    @property
    def tenant_id(self) -> UUID:
        return self.job.tenant_id


UNFINISHED = (ImportStatus.QUEUED, ImportStatus.RUNNING)


class FakeContactImports:
    def __init__(self, scope: _Scope) -> None:
        self._scope = scope

    def _row(self, job_id: UUID) -> FakeImportRow | None:
        row: FakeImportRow | None = self._scope.rows("contact_imports").get(job_id)
        return row if row is not None and self._scope.sees(row) else None

    async def add(self, job: ContactImport, source: str, *, owner: UUID, lease_seconds: float) -> None:
        stored = replace(copy.deepcopy(job), tenant_id=self._scope.tenant_id)
        until = utc_now() + timedelta(seconds=lease_seconds)
        self._scope.rows("contact_imports")[job.id] = FakeImportRow(stored, source, owner, until)

    async def get(self, job_id: UUID) -> ContactImport | None:
        row = self._row(job_id)
        return None if row is None else copy.deepcopy(row.job)

    async def recent(self, *, limit: int, offset: int) -> tuple[list[ContactImport], int]:
        jobs = _newest_first([row.job for row in self._scope.visible("contact_imports")])
        return copy.deepcopy(jobs[offset : offset + limit]), len(jobs)

    async def source(self, job_id: UUID) -> str | None:
        row = self._row(job_id)
        return None if row is None else row.source

    async def claim(
        self, owner: UUID, *, lease_seconds: float, job_id: UUID | None = None
    ) -> ContactImport | None:
        now = utc_now()
        free = [
            row
            for row in self._scope.visible("contact_imports")
            if row.job.status in UNFINISHED
            and (row.lease_until is None or row.lease_until < now)
            and (job_id is None or row.id == job_id)
        ]
        if not free:
            return None
        row: FakeImportRow = min(free, key=lambda r: r.job.created_at)
        row.lease_owner, row.lease_until = owner, now + timedelta(seconds=lease_seconds)
        return copy.deepcopy(row.job)

    async def record_batch(
        self, job: ContactImport, result: BatchResult, *, owner: UUID, lease_seconds: float
    ) -> ContactImport | None:
        row = self._row(job.id)
        if (
            row is None
            or row.lease_owner != owner
            or row.job.processed != job.processed
            or row.job.status not in UNFINISHED
        ):
            return None
        moved = result.progress_of(copy.deepcopy(row.job))
        moved.status = ImportStatus.RUNNING
        moved.started_at = moved.started_at or utc_now()
        row.job, row.lease_until = moved, utc_now() + timedelta(seconds=lease_seconds)
        return copy.deepcopy(moved)

    async def finish(
        self, job_id: UUID, status: ImportStatus, *, owner: UUID, error: str | None = None
    ) -> ContactImport | None:
        row = self._row(job_id)
        if row is None or row.lease_owner != owner or row.job.status not in UNFINISHED:
            return None
        now = utc_now()
        row.job = replace(
            row.job, status=status, error=error, finished_at=now, started_at=row.job.started_at or now
        )
        row.lease_owner = row.lease_until = None
        return copy.deepcopy(row.job)

    async def release(self, job_id: UUID, owner: UUID) -> None:
        row = self._row(job_id)
        if row is not None and row.lease_owner == owner:
            row.lease_owner = row.lease_until = None


def contact_ports(
    records: dict[str, dict[UUID, Any]], tenant_id: UUID | None, *, all_tenants: bool
) -> tuple[FakeContactBook, FakeAudienceMembers, FakeContactImports]:
    scope = _Scope(records, tenant_id, all_tenants)
    return FakeContactBook(scope), FakeAudienceMembers(scope), FakeContactImports(scope)
