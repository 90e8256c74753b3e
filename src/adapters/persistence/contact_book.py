"""Contacts, audience membership and import jobs in SQL (the ports of `application/contacts/ports.py`).

Like every repository, these never write the tenant filter: `scoping.py` adds it to each statement, and
bulk inserts carry rows stamped by `stamped_rows`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from pywhatsapp.adapters.persistence.mapping import column_values, to_entity
from pywhatsapp.adapters.persistence.models import (
    AudienceMemberRow,
    AudienceRow,
    ContactImportRow,
    ContactRow,
)
from pywhatsapp.adapters.persistence.scoping import TRUSTED_WRITE, stamped_rows
from pywhatsapp.application.contacts.ports import ContactQuery, UpsertCounts
from pywhatsapp.domain.contacts.audience import Audience, AudienceKind
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.contacts.contact_import import BatchResult, ContactDraft, ContactImport, ImportStatus
from pywhatsapp.domain.errors import NotFound

STAMPED = {TRUSTED_WRITE: True}
UNFINISHED = (ImportStatus.QUEUED, ImportStatus.RUNNING)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlContactBook:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def search(self, query: ContactQuery, *, limit: int, offset: int) -> tuple[list[Contact], int]:
        conditions: list[Any] = []
        if query.text:
            pattern = f"%{_like_escape(query.text)}%"
            matches: list[Any] = [ContactRow.name.ilike(pattern, escape="\\")]
            digits = "".join(ch for ch in query.text if ch.isdigit())
            if digits:
                matches.append(ContactRow.wa_id.contains(digits, autoescape=True))
            conditions.append(sa.or_(*matches))
        if query.tag:
            conditions.append(ContactRow.tags.contains([query.tag]))  # @> uses the GIN index
        if query.opted_out is not None:
            conditions.append(ContactRow.opted_out.is_(query.opted_out))
        rows = await self._session.scalars(
            sa.select(ContactRow)
            .where(*conditions)
            .order_by(ContactRow.created_at.desc(), ContactRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        items = [to_entity(row, Contact) for row in rows]
        total = await self._session.scalar(
            sa.select(sa.func.count()).select_from(ContactRow).where(*conditions)
        )
        return items, int(total or 0)

    async def find_by_wa_id(self, wa_id: str) -> Contact | None:
        row = await self._session.scalar(sa.select(ContactRow).where(ContactRow.wa_id == wa_id))
        return None if row is None else to_entity(row, Contact)

    async def insert_new(self, contact: Contact) -> Contact | None:
        (values,) = stamped_rows(self._session.sync_session, [column_values(contact, ContactRow)])
        statement = (
            insert(ContactRow)
            .values(values)
            .on_conflict_do_nothing(index_elements=[ContactRow.tenant_id, ContactRow.wa_id])
            .returning(ContactRow)
        )
        row = (await self._session.scalars(statement, execution_options=STAMPED)).one_or_none()
        return None if row is None else to_entity(row, Contact)

    async def existing_ids(self, contact_ids: Collection[UUID]) -> set[UUID]:
        if not contact_ids:
            return set()
        found = await self._session.scalars(
            sa.select(ContactRow.id).where(ContactRow.id.in_(list(contact_ids)))
        )
        return set(found)

    async def remove(self, contact_id: UUID) -> bool:
        result = await self._session.execute(sa.delete(ContactRow).where(ContactRow.id == contact_id))
        return bool(getattr(result, "rowcount", 0))

    async def upsert_drafts(self, drafts: Sequence[ContactDraft]) -> UpsertCounts:
        if not drafts:
            return UpsertCounts(created=0, updated=0)
        rows = stamped_rows(
            self._session.sync_session,
            [
                {
                    "id": uuid4(),
                    "wa_id": draft.wa_id,
                    "name": draft.name,
                    "tags": draft.tags,
                    "attributes": draft.attributes,
                }
                for draft in drafts
            ],
        )
        statement = insert(ContactRow).values(rows)
        excluded = statement.excluded
        upsert = statement.on_conflict_do_update(
            index_elements=[ContactRow.tenant_id, ContactRow.wa_id],
            set_={
                "name": sa.func.coalesce(excluded.name, ContactRow.name),
                # The stored tags, then the file's new ones, each once.
                "tags": sa.literal_column(
                    "ARRAY(SELECT tag FROM unnest(contacts.tags || excluded.tags)"
                    " WITH ORDINALITY AS t(tag, n) GROUP BY tag ORDER BY min(n))",
                    type_=ContactRow.tags.type,
                ),
                "attributes": ContactRow.attributes.op("||")(excluded.attributes),
                "updated_at": sa.func.now(),
            },
        ).returning(sa.literal_column("xmax = 0", type_=sa.Boolean).label("inserted"))
        inserted = (await self._session.execute(upsert, execution_options=STAMPED)).scalars().all()
        created = sum(1 for flag in inserted if flag)
        return UpsertCounts(created=created, updated=len(inserted) - created)

    async def page_after(self, after: UUID | None, *, limit: int) -> list[Contact]:
        query = sa.select(ContactRow).order_by(ContactRow.id).limit(limit)
        if after is not None:
            query = query.where(ContactRow.id > after)
        return [to_entity(row, Contact) for row in await self._session.scalars(query)]

    async def attribute_names(self) -> list[str]:
        keys = sa.func.jsonb_object_keys(ContactRow.attributes)
        names = await self._session.scalars(sa.select(keys).distinct())
        return sorted(names)


def in_audiences(audiences: Collection[Audience]) -> sa.ColumnElement[bool]:
    """Who is in any of these audiences, as a condition on `contacts`: the members of a static audience,
    and every contact having any of a dynamic audience's tags. The one definition of audience membership,
    for audience pages and counts and for campaigns' recipients alike."""
    static = [audience.id for audience in audiences if audience.kind is AudienceKind.STATIC]
    # Any tag of any of the dynamic audiences: one overlap, which the GIN index on tags answers.
    tags = list(dict.fromkeys(tag for a in audiences if a.kind is AudienceKind.DYNAMIC for tag in a.tags))
    conditions: list[sa.ColumnElement[bool]] = []
    if static:
        members = sa.select(AudienceMemberRow.contact_id).where(AudienceMemberRow.audience_id.in_(static))
        conditions.append(ContactRow.id.in_(members))
    if tags:
        conditions.append(ContactRow.tags.overlap(tags))
    return sa.or_(*conditions) if conditions else sa.false()


class SqlAudienceMembers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _contacts_of(self, audience: Audience) -> sa.Select[Any]:
        """The audience's contacts as a query on `contacts`."""
        return sa.select(ContactRow).where(in_audiences([audience]))

    async def _audience(self, audience_id: UUID) -> Audience | None:
        row = await self._session.scalar(sa.select(AudienceRow).where(AudienceRow.id == audience_id))
        return None if row is None else to_entity(row, Audience)

    async def contact_ids(self, audience_id: UUID, *, include_opted_out: bool = False) -> list[UUID]:
        audience = await self._audience(audience_id)
        if audience is None:
            raise NotFound(f"No audience {audience_id}")
        query = self._contacts_of(audience).with_only_columns(ContactRow.id).order_by(ContactRow.id)
        if not include_opted_out:
            query = query.where(ContactRow.opted_out.is_(False))
        return list(await self._session.scalars(query))

    async def counts(self, audiences: Sequence[Audience]) -> dict[UUID, int]:
        counts: dict[UUID, int] = {}
        static = [a.id for a in audiences if a.kind is AudienceKind.STATIC]
        if static:
            rows = await self._session.execute(
                sa.select(AudienceMemberRow.audience_id, sa.func.count())
                .where(AudienceMemberRow.audience_id.in_(static))
                .group_by(AudienceMemberRow.audience_id)
            )
            counts.update({audience_id: int(count) for audience_id, count in rows.tuples()})
        for audience in audiences:
            if audience.kind is AudienceKind.DYNAMIC:
                subquery = self._contacts_of(audience).with_only_columns(ContactRow.id).subquery()
                total = await self._session.scalar(sa.select(sa.func.count()).select_from(subquery))
                counts[audience.id] = int(total or 0)
            counts.setdefault(audience.id, 0)
        return counts

    async def page(self, audience: Audience, *, limit: int, offset: int) -> tuple[list[Contact], int]:
        query = self._contacts_of(audience)
        rows = await self._session.scalars(
            query.order_by(ContactRow.created_at.desc(), ContactRow.id.desc()).limit(limit).offset(offset)
        )
        items = [to_entity(row, Contact) for row in rows]
        total = (await self.counts([audience]))[audience.id]
        return items, total

    async def add(self, audience_id: UUID, contact_ids: Collection[UUID]) -> int:
        if not contact_ids:
            return 0
        rows = stamped_rows(
            self._session.sync_session,
            [{"id": uuid4(), "audience_id": audience_id, "contact_id": cid} for cid in contact_ids],
        )
        statement = (
            insert(AudienceMemberRow)
            .values(rows)
            .on_conflict_do_nothing(
                index_elements=[
                    AudienceMemberRow.tenant_id,
                    AudienceMemberRow.audience_id,
                    AudienceMemberRow.contact_id,
                ]
            )
            .returning(AudienceMemberRow.id)
        )
        return len((await self._session.execute(statement, execution_options=STAMPED)).all())

    async def discard(self, audience_id: UUID, contact_ids: Collection[UUID]) -> int:
        if not contact_ids:
            return 0
        result = await self._session.execute(
            sa.delete(AudienceMemberRow).where(
                AudienceMemberRow.audience_id == audience_id,
                AudienceMemberRow.contact_id.in_(list(contact_ids)),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def remove_audience(self, audience_id: UUID) -> bool:
        result = await self._session.execute(sa.delete(AudienceRow).where(AudienceRow.id == audience_id))
        return bool(getattr(result, "rowcount", 0))

    async def find_by_name(self, name: str) -> Audience | None:
        row = await self._session.scalar(sa.select(AudienceRow).where(AudienceRow.name == name))
        return None if row is None else to_entity(row, Audience)


class SqlContactImports:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, job: ContactImport, source: str, *, owner: UUID, lease_seconds: float) -> None:
        row = ContactImportRow(
            **column_values(job, ContactImportRow),
            source=source,
            lease_owner=owner,
            lease_until=sa.func.now() + timedelta(seconds=lease_seconds),
        )
        self._session.add(row)
        await self._session.flush()

    async def get(self, job_id: UUID) -> ContactImport | None:
        row = await self._session.scalar(
            sa.select(ContactImportRow)
            .where(ContactImportRow.id == job_id)
            .execution_options(populate_existing=True)
        )
        return None if row is None else to_entity(row, ContactImport)

    async def recent(self, *, limit: int, offset: int) -> tuple[list[ContactImport], int]:
        rows = await self._session.scalars(
            sa.select(ContactImportRow)
            .order_by(ContactImportRow.created_at.desc(), ContactImportRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        items = [to_entity(row, ContactImport) for row in rows]
        total = await self._session.scalar(sa.select(sa.func.count()).select_from(ContactImportRow))
        return items, int(total or 0)

    async def source(self, job_id: UUID) -> str | None:
        return await self._session.scalar(
            sa.select(ContactImportRow.source).where(ContactImportRow.id == job_id)
        )

    async def claim(
        self, owner: UUID, *, lease_seconds: float, job_id: UUID | None = None
    ) -> ContactImport | None:
        free = sa.or_(ContactImportRow.lease_until.is_(None), ContactImportRow.lease_until < sa.func.now())
        candidate = (
            sa.select(ContactImportRow.id)
            .where(ContactImportRow.status.in_(UNFINISHED), free)
            .order_by(ContactImportRow.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if job_id is not None:
            candidate = candidate.where(ContactImportRow.id == job_id)
        claimed = (
            sa.update(ContactImportRow)
            .where(ContactImportRow.id == candidate.scalar_subquery())
            .values(
                lease_owner=owner,
                lease_until=sa.func.now() + timedelta(seconds=lease_seconds),
                updated_at=sa.func.now(),
            )
            .returning(ContactImportRow)
        )
        row = (await self._session.scalars(claimed, execution_options={"populate_existing": True})).first()
        return None if row is None else to_entity(row, ContactImport)

    async def record_batch(
        self, job: ContactImport, result: BatchResult, *, owner: UUID, lease_seconds: float
    ) -> ContactImport | None:
        moved = result.progress_of(_copy(job))
        new_entries = moved.report[len(job.report) :]
        statement = (
            sa.update(ContactImportRow)
            .where(
                ContactImportRow.id == job.id,
                ContactImportRow.lease_owner == owner,
                # The position this run read: a batch is recorded once, on top of the one before it.
                ContactImportRow.processed == job.processed,
                ContactImportRow.status.in_(UNFINISHED),
            )
            .values(
                status=ImportStatus.RUNNING,
                processed=ContactImportRow.processed + result.processed,
                created=ContactImportRow.created + result.created,
                updated=ContactImportRow.updated + result.updated,
                rejected=ContactImportRow.rejected + len(result.rejected),
                report=ContactImportRow.report.op("||")(sa.bindparam(None, new_entries, type_=JSONB)),
                started_at=sa.func.coalesce(ContactImportRow.started_at, sa.func.now()),
                lease_until=sa.func.now() + timedelta(seconds=lease_seconds),
                updated_at=sa.func.now(),
            )
            .returning(ContactImportRow)
        )
        row = (await self._session.scalars(statement, execution_options={"populate_existing": True})).first()
        return None if row is None else to_entity(row, ContactImport)

    async def finish(
        self, job_id: UUID, status: ImportStatus, *, owner: UUID, error: str | None = None
    ) -> ContactImport | None:
        statement = (
            sa.update(ContactImportRow)
            .where(
                ContactImportRow.id == job_id,
                ContactImportRow.lease_owner == owner,
                ContactImportRow.status.in_(UNFINISHED),
            )
            .values(
                status=status,
                error=error,
                started_at=sa.func.coalesce(ContactImportRow.started_at, sa.func.now()),
                finished_at=sa.func.now(),
                lease_owner=None,
                lease_until=None,
                updated_at=sa.func.now(),
            )
            .returning(ContactImportRow)
        )
        row = (await self._session.scalars(statement, execution_options={"populate_existing": True})).first()
        return None if row is None else to_entity(row, ContactImport)

    async def release(self, job_id: UUID, owner: UUID) -> None:
        await self._session.execute(
            sa.update(ContactImportRow)
            .where(ContactImportRow.id == job_id, ContactImportRow.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


def _copy(job: ContactImport) -> ContactImport:
    return replace(job, report=list(job.report))
