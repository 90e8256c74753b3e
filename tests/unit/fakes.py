"""In-memory fakes for the ports the use cases depend on.

They implement the same protocols as the real adapters (`application/common/unit_of_work.py`,
`application/identity/ports.py`) and keep the behaviours a use case may rely on:

* a unit of work works on a private copy of the store, taken when it is entered; `commit()` publishes
  that copy, and leaving the `async with` without a commit discards it;
* entities handed out are copies, so changing one changes nothing until it is passed to `update`/`add`;
* tenant-owned records are confined to the unit of work's tenant (reads, counts and writes); a unit of
  work opened without a tenant sees none and may write none;
* unique keys the database enforces (tenant slug, username, membership per tenant and user, ids) are
  enforced here too.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import (
    Memberships,
    TenantRecords,
    Tenants,
    UnitOfWork,
    UnitOfWorkFactory,
    Users,
)
from pywhatsapp.application.identity.ports import LoginAttempts, PasswordHasher
from pywhatsapp.domain.campaigns.campaign import Campaign
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.audience import Audience
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.contacts.group import Group
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.messaging.conversation import Conversation
from pywhatsapp.domain.messaging.message import Message
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.tenancy.membership import Membership
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.domain.webhooks.webhook_log import WebhookLogEntry

RECORD_KINDS: tuple[str, ...] = (
    "channels",
    "contacts",
    "groups",
    "audiences",
    "conversations",
    "messages",
    "templates",
    "campaigns",
    "webhook_logs",
)


class FakeIntegrityError(RuntimeError):
    """What the database would answer to a duplicate key."""


class FakeTenantScopeError(RuntimeError):
    """A tenant-owned record written through a unit of work of another tenant, or of none."""


class _TenantOwned(Protocol):
    @property
    def id(self) -> UUID: ...

    @property
    def tenant_id(self) -> UUID | None: ...

    @property
    def created_at(self) -> datetime: ...


R = TypeVar("R", bound=_TenantOwned)


@dataclass
class FakeStore:
    """Everything the fake database holds; the committed state, or a unit of work's working copy."""

    tenants: dict[UUID, Tenant] = field(default_factory=dict)
    users: dict[UUID, User] = field(default_factory=dict)
    memberships: dict[UUID, Membership] = field(default_factory=dict)
    records: dict[str, dict[UUID, Any]] = field(default_factory=lambda: {kind: {} for kind in RECORD_KINDS})

    def snapshot(self) -> FakeStore:
        return copy.deepcopy(self)


class FakeTenants:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, tenant: Tenant) -> Tenant:
        if tenant.id in self._store.tenants:
            raise FakeIntegrityError(f"duplicate tenant id {tenant.id}")
        if any(t.slug == tenant.slug for t in self._store.tenants.values()):
            raise FakeIntegrityError(f"duplicate tenant slug {tenant.slug!r}")
        self._store.tenants[tenant.id] = copy.deepcopy(tenant)
        return copy.deepcopy(tenant)

    async def get(self, tenant_id: UUID) -> Tenant | None:
        return copy.deepcopy(self._store.tenants.get(tenant_id))

    async def get_by_slug(self, slug: str) -> Tenant | None:
        found = next((t for t in self._store.tenants.values() if t.slug == slug), None)
        return copy.deepcopy(found)

    async def list_all(self) -> Sequence[Tenant]:
        tenants = sorted(self._store.tenants.values(), key=lambda t: (t.created_at, t.slug))
        return copy.deepcopy(tenants)

    async def list_for_user(self, user_id: UUID) -> Sequence[Tenant]:
        tenant_ids = {m.tenant_id for m in self._store.memberships.values() if m.user_id == user_id}
        tenants = [t for t in self._store.tenants.values() if t.id in tenant_ids and t.is_active]
        return copy.deepcopy(sorted(tenants, key=lambda t: t.name))


class FakeUsers:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, user: User) -> User:
        if user.id in self._store.users:
            raise FakeIntegrityError(f"duplicate user id {user.id}")
        if any(u.username == user.username for u in self._store.users.values()):
            raise FakeIntegrityError(f"duplicate username {user.username!r}")
        if user.tenant_id not in self._store.tenants:
            raise FakeIntegrityError(f"user's tenant {user.tenant_id} does not exist")
        self._store.users[user.id] = copy.deepcopy(user)
        return copy.deepcopy(user)

    async def get(self, user_id: UUID) -> User | None:
        return copy.deepcopy(self._store.users.get(user_id))

    async def get_by_username(self, username: str) -> User | None:
        found = next((u for u in self._store.users.values() if u.username == username), None)
        return copy.deepcopy(found)

    async def update(self, user: User) -> User:
        stored = self._store.users.get(user.id)
        if stored is None:
            raise LookupError(f"User {user.id} is not stored")
        updated = copy.deepcopy(user)
        updated.created_at = stored.created_at
        self._store.users[user.id] = updated
        return copy.deepcopy(updated)


class FakeMemberships:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def add(self, membership: Membership) -> Membership:
        if membership.id in self._store.memberships:
            raise FakeIntegrityError(f"duplicate membership id {membership.id}")
        if await self.get(user_id=membership.user_id, tenant_id=membership.tenant_id) is not None:
            raise FakeIntegrityError("the user is already a member of this tenant")
        if membership.tenant_id not in self._store.tenants or membership.user_id not in self._store.users:
            raise FakeIntegrityError("a membership needs an existing tenant and user")
        self._store.memberships[membership.id] = copy.deepcopy(membership)
        return copy.deepcopy(membership)

    async def get(self, *, user_id: UUID, tenant_id: UUID) -> Membership | None:
        found = next(
            (
                m
                for m in self._store.memberships.values()
                if m.user_id == user_id and m.tenant_id == tenant_id
            ),
            None,
        )
        return copy.deepcopy(found)

    async def list_for_user(self, user_id: UUID) -> Sequence[Membership]:
        mine = [m for m in self._store.memberships.values() if m.user_id == user_id]
        return copy.deepcopy(sorted(mine, key=lambda m: m.created_at))


class FakeTenantRecords(Generic[R]):
    """One kind of tenant-owned record, confined to one tenant (or, without one, to nothing)."""

    def __init__(self, rows: dict[UUID, R], tenant_id: UUID | None) -> None:
        self._rows = rows
        self._tenant_id = tenant_id

    def _visible(self) -> list[R]:
        if self._tenant_id is None:
            return []
        return [row for row in self._rows.values() if row.tenant_id == self._tenant_id]

    async def add(self, record: R) -> R:
        if self._tenant_id is None:
            raise FakeTenantScopeError(f"{type(record).__name__} written without a tenant")
        if record.tenant_id is not None and record.tenant_id != self._tenant_id:
            raise FakeTenantScopeError(
                f"{type(record).__name__} of tenant {record.tenant_id} written in {self._tenant_id}"
            )
        if record.id in self._rows:
            raise FakeIntegrityError(f"duplicate {type(record).__name__} id {record.id}")
        # The real adapter stamps the unit of work's tenant on a record that has none (webhook logs).
        stored = replace(copy.deepcopy(record), tenant_id=self._tenant_id)  # type: ignore[type-var]
        self._rows[stored.id] = stored
        return copy.deepcopy(stored)

    async def get(self, record_id: UUID) -> R | None:
        row = self._rows.get(record_id)
        if row is None or self._tenant_id is None or row.tenant_id != self._tenant_id:
            return None
        return copy.deepcopy(row)

    async def list(self, *, limit: int, offset: int = 0) -> Sequence[R]:
        newest_first = sorted(self._visible(), key=lambda row: (row.created_at, row.id), reverse=True)
        return copy.deepcopy(newest_first[offset : offset + limit])

    async def count(self) -> int:
        return len(self._visible())


class FakeUnitOfWork:
    """A transaction over a private copy of the store, opened for one tenant (or none)."""

    tenants: Tenants
    users: Users
    memberships: Memberships
    channels: TenantRecords[Channel]
    contacts: TenantRecords[Contact]
    groups: TenantRecords[Group]
    audiences: TenantRecords[Audience]
    conversations: TenantRecords[Conversation]
    messages: TenantRecords[Message]
    templates: TenantRecords[MessageTemplate]
    campaigns: TenantRecords[Campaign]
    webhook_logs: TenantRecords[WebhookLogEntry]

    def __init__(self, factory: FakeUnitOfWorkFactory, tenant_id: UUID | None) -> None:
        self._factory = factory
        self.tenant_id = tenant_id
        self._working: FakeStore | None = None

    async def __aenter__(self) -> Self:
        self._open()
        return self

    def _open(self) -> None:
        working = self._factory.store.snapshot()
        self._working = working
        self.tenants = FakeTenants(working)
        self.users = FakeUsers(working)
        self.memberships = FakeMemberships(working)
        tid = self.tenant_id
        rec = working.records
        self.channels = FakeTenantRecords(rec["channels"], tid)
        self.contacts = FakeTenantRecords(rec["contacts"], tid)
        self.groups = FakeTenantRecords(rec["groups"], tid)
        self.audiences = FakeTenantRecords(rec["audiences"], tid)
        self.conversations = FakeTenantRecords(rec["conversations"], tid)
        self.messages = FakeTenantRecords(rec["messages"], tid)
        self.templates = FakeTenantRecords(rec["templates"], tid)
        self.campaigns = FakeTenantRecords(rec["campaigns"], tid)
        self.webhook_logs = FakeTenantRecords(rec["webhook_logs"], tid)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Whatever was not committed is dropped with the working copy.
        self._working = None

    async def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit() outside of `async with`")
        self._factory.store = self._working.snapshot()

    async def rollback(self) -> None:
        if self._working is None:
            raise RuntimeError("rollback() outside of `async with`")
        # Start over from what is committed, as a rolled-back session would.
        self._open()


class FakeUnitOfWorkFactory:
    """`factory(tenant_id=None)` opens a unit of work, like `SqlAlchemyUnitOfWorkFactory`."""

    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store if store is not None else FakeStore()

    def __call__(self, tenant_id: UUID | None = None) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, tenant_id)

    # Seeding helpers for tests: write straight into the committed state.

    def put_tenant(self, tenant: Tenant) -> Tenant:
        self.store.tenants[tenant.id] = copy.deepcopy(tenant)
        return tenant

    def put_user(self, user: User) -> User:
        self.store.users[user.id] = copy.deepcopy(user)
        return user

    def put_membership(self, membership: Membership) -> Membership:
        self.store.memberships[membership.id] = copy.deepcopy(membership)
        return membership

    def put_record(self, kind: str, record: _TenantOwned) -> None:
        self.store.records[kind][record.id] = copy.deepcopy(record)

    def remove_membership(self, *, user_id: UUID, tenant_id: UUID) -> None:
        self.store.memberships = {
            key: m
            for key, m in self.store.memberships.items()
            if not (m.user_id == user_id and m.tenant_id == tenant_id)
        }


class FakePasswordHasher:
    PREFIX = "hashed:"

    async def hash(self, password: str) -> str:
        return self.PREFIX + password

    async def verify(self, password: str, password_hash: str) -> bool:
        return password_hash == self.PREFIX + password


class FakeLoginAttempts:
    """Attempt counters in a dict; the window is remembered but never runs out by itself."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.windows: dict[str, int] = {}

    async def failures(self, key: str) -> int:
        return self.counts.get(key, 0)

    async def register_attempt(self, key: str, *, window_seconds: int) -> int:
        self.counts[key] = self.counts.get(key, 0) + 1
        self.windows[key] = window_seconds
        return self.counts[key]

    async def clear(self, key: str) -> None:
        self.counts.pop(key, None)
        self.windows.pop(key, None)


# Static checks that the fakes implement the ports (mypy verifies these assignments).
def _conformance(
    factory: FakeUnitOfWorkFactory, uow: FakeUnitOfWork, store: FakeStore
) -> tuple[UnitOfWorkFactory, UnitOfWork, PasswordHasher, LoginAttempts, TenantRecords[Channel]]:
    channels: FakeTenantRecords[Channel] = FakeTenantRecords(store.records["channels"], None)
    return factory, uow, FakePasswordHasher(), FakeLoginAttempts(), channels
