"""What the contact, import and audience use cases need from storage, beyond plain records.

Each port is reached through the unit of work (`uow.contact_book`, `uow.audience_members`,
`uow.contact_imports`), so it is confined to the unit of work's tenant and commits with it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from pywhatsapp.domain.contacts.audience import Audience
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.contacts.contact_import import BatchResult, ContactDraft, ContactImport, ImportStatus


@dataclass(frozen=True)
class ContactQuery:
    text: str | None = None
    """A substring of the name (any case) or of the wa_id (digits)."""
    tag: str | None = None
    opted_out: bool | None = None


@dataclass(frozen=True)
class UpsertCounts:
    created: int
    updated: int


class ContactBook(Protocol):
    async def search(self, query: ContactQuery, *, limit: int, offset: int) -> tuple[list[Contact], int]:
        """A page of matching contacts, newest first, and how many match in all."""
        ...

    async def find_by_wa_id(self, wa_id: str) -> Contact | None: ...

    async def insert_new(self, contact: Contact) -> Contact | None:
        """Store a new contact; None (nothing stored) when its wa_id is taken."""
        ...

    async def existing_ids(self, contact_ids: Collection[UUID]) -> set[UUID]:
        """Which of these ids are contacts of the tenant."""
        ...

    async def remove(self, contact_id: UUID) -> bool:
        """Delete a contact (its audience memberships go with it); False if there was none."""
        ...

    async def upsert_drafts(self, drafts: Sequence[ContactDraft]) -> UpsertCounts:
        """Create each draft's contact, or merge it into the stored one with its wa_id: a name given
        replaces the stored one, tags are added, attributes given replace those of the same name.
        The drafts' wa_ids are distinct."""
        ...

    async def page_after(self, after: UUID | None, *, limit: int) -> list[Contact]:
        """Contacts in id order, after `after`: a stable walk over every contact (exports)."""
        ...

    async def attribute_names(self) -> list[str]:
        """Every custom attribute name any contact has, sorted."""
        ...


class AudienceMembers(Protocol):
    """Who belongs to an audience. Campaigns resolve audiences through `contact_ids`."""

    async def contact_ids(self, audience_id: UUID, *, include_opted_out: bool = False) -> list[UUID]:
        """Every contact of the audience (static: its members; dynamic: contacts having any of its
        tags), opted-out contacts left out unless asked for; NotFound if the tenant has no such audience."""
        ...

    async def counts(self, audiences: Sequence[Audience]) -> dict[UUID, int]:
        """Member count of each audience (dynamic ones counted now), opted-out contacts included."""
        ...

    async def page(self, audience: Audience, *, limit: int, offset: int) -> tuple[list[Contact], int]: ...

    async def add(self, audience_id: UUID, contact_ids: Collection[UUID]) -> int:
        """Add members (already members are skipped); how many were added."""
        ...

    async def discard(self, audience_id: UUID, contact_ids: Collection[UUID]) -> int:
        """Remove members; how many were removed."""
        ...

    async def remove_audience(self, audience_id: UUID) -> bool: ...

    async def find_by_name(self, name: str) -> Audience | None: ...


class ContactImports(Protocol):
    """Import jobs: the file, the position reached and the counts, leased to one runner at a time.

    A runner holds a job's lease while it works on it and renews it with every batch; a job whose lease
    ran out (its runner stopped or died) may be claimed by another runner, which resumes it."""

    async def add(self, job: ContactImport, source: str, *, owner: UUID, lease_seconds: float) -> None:
        """Store a new job and its file, leased to `owner`."""
        ...

    async def get(self, job_id: UUID) -> ContactImport | None: ...

    async def recent(self, *, limit: int, offset: int) -> tuple[list[ContactImport], int]: ...

    async def source(self, job_id: UUID) -> str | None:
        """The stored CSV text of a job."""
        ...

    async def claim(
        self, owner: UUID, *, lease_seconds: float, job_id: UUID | None = None
    ) -> ContactImport | None:
        """Lease an unfinished job whose lease is free or ran out (this one, or the oldest such)."""
        ...

    async def record_batch(
        self, job: ContactImport, result: BatchResult, *, owner: UUID, lease_seconds: float
    ) -> ContactImport | None:
        """Move the job's position and counts by `result` and renew the lease, in the caller's transaction;
        None (and nothing changed) when `owner` no longer holds the lease."""
        ...

    async def finish(
        self, job_id: UUID, status: ImportStatus, *, owner: UUID, error: str | None = None
    ) -> ContactImport | None:
        """Mark the job completed or failed and free its lease; None when `owner` does not hold it."""
        ...

    async def release(self, job_id: UUID, owner: UUID) -> None:
        """Give the lease up (the runner is stopping), so another runner may resume the job at once."""
        ...
