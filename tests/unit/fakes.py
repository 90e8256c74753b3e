"""In-memory fakes for the ports the use cases depend on.

They implement the same protocols as the real adapters (`application/common/unit_of_work.py`,
`application/identity/ports.py`, `application/messaging/ports.py`) and keep the behaviours a use case may
rely on:

* a unit of work works on a private copy of the store, taken when it is entered; `commit()` publishes
  that copy, and leaving the `async with` without a commit discards it;
* entities handed out are copies, so changing one changes nothing until it is passed to `update`/`add`;
* tenant-owned records are confined to the unit of work's tenant (reads, counts and writes); a unit of
  work opened without a tenant sees none and may write none;
* unique keys the database enforces (tenant slug, username, membership per tenant and user, ids, and the
  unique constraints of the tenant tables: a phone number id across all tenants, a contact's wa_id, a
  message's wamid, one conversation per contact, one reaction per person per message...) are enforced
  here too;
* a unit of work from `for_all_tenants()` sees every tenant's records and writes them as they are (a
  webhook log without tenant stays without one), but cannot do the inbox's stamped upserts, like the real
  session that has no tenant to stamp;
* the inbox writes idempotently, as `adapters/persistence/inbox.py` does in SQL;
* realtime events are held by the unit of work and reach `factory.published` only when it commits (like
  NOTIFY; identical events within one transaction are delivered once, as PostgreSQL folds them);
* the channel directory reads the committed channels of every tenant and caches each answer (also "no
  such channel") until `forget()` or `fresh=True`, so a use case that forgets to call them is caught.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar
from uuid import UUID

from pywhatsapp.application.campaigns.ports import AudienceSpec
from pywhatsapp.application.common.unit_of_work import (
    Memberships,
    TenantRecords,
    Tenants,
    UnitOfWork,
    UnitOfWorkFactory,
    Users,
)
from pywhatsapp.application.identity.ports import LoginAttempts, PasswordHasher
from pywhatsapp.application.messaging.ports import ChannelDirectory, EventPublisher, Inbox
from pywhatsapp.application.templates.ports import TemplateFilter, TemplateRegistry
from pywhatsapp.domain.campaigns.campaign import (
    Campaign,
    CampaignCounts,
    CampaignRecipient,
    RecipientState,
    recipient_can_move,
    recipient_id_from_callback,
)
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.contacts.audience import Audience
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.contacts.group import Group, GroupParticipant
from pywhatsapp.domain.identity.api_key import ApiKey
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.integrations.event_webhook import DeliveryAttempt, EventDelivery
from pywhatsapp.domain.media.inbound import InboundMedia, MediaReference, MediaState
from pywhatsapp.domain.media.outbound import UploadedFile
from pywhatsapp.domain.messaging.conversation import Conversation
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus, status_can_advance
from pywhatsapp.domain.messaging.reaction import Reaction
from pywhatsapp.domain.realtime.event import RealtimeEvent
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.tenancy.membership import Membership
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.domain.webhooks.webhook_log import WebhookLogEntry
from tests.unit.contact_fakes import (
    FakeAudienceMembers,
    FakeContactBook,
    FakeContactImports,
    contact_ports,
)
from tests.unit.flow_fakes import flow_ports
from tests.unit.qr_code_fakes import FakeQrCodes
from tests.unit.template_analytics_fakes import FakeTemplateSendStats

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
    "api_keys",
    "event_endpoints",
    "event_deliveries",
)
STORED_KINDS: tuple[str, ...] = (*RECORD_KINDS, "reactions", "media_files", "campaign_recipients")
"""Every kind of tenant-owned record the fake database holds (reactions only through the inbox)."""

UNIQUE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "channels": (("phone_number_id",),),  # across tenants: it is how a webhook finds its tenant
    "contacts": (("tenant_id", "wa_id"),),
    "groups": (("tenant_id", "group_id"), ("tenant_id", "request_id")),
    "audiences": (("tenant_id", "name"),),
    "conversations": (("tenant_id", "contact_id"),),
    "messages": (("tenant_id", "wamid"),),
    "templates": (("tenant_id", "name", "language"),),
    "reactions": (("tenant_id", "target_wamid", "wa_id"),),
    "media_files": (("tenant_id", "message_id"),),
    "campaign_recipients": (("tenant_id", "campaign_id", "wa_id"),),
}
"""The unique constraints of the tables (`adapters/persistence/models`); NULLs are distinct, as in SQL."""


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
    records: dict[str, dict[UUID, Any]] = field(default_factory=lambda: {kind: {} for kind in STORED_KINDS})

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

    async def get_many(self, user_ids: Sequence[UUID]) -> Sequence[User]:
        users = self._store.users
        return [copy.deepcopy(users[i]) for i in dict.fromkeys(user_ids) if i in users]

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

    async def list_for_tenant(self, tenant_id: UUID) -> Sequence[Membership]:
        members = [m for m in self._store.memberships.values() if m.tenant_id == tenant_id]
        return copy.deepcopy(sorted(members, key=lambda m: (m.created_at, m.id)))

    async def update(self, membership: Membership) -> Membership:
        if membership.id not in self._store.memberships:
            raise LookupError(f"Membership {membership.id} is not stored")
        self._store.memberships[membership.id] = copy.deepcopy(membership)
        return copy.deepcopy(membership)


def _latest(current: datetime | None, new: datetime | None) -> datetime | None:
    """SQL's GREATEST: the later of the two, NULLs ignored."""
    if current is None:
        return new
    if new is None:
        return current
    return max(current, new)


class FakeTenantRecords(Generic[R]):
    """One kind of tenant-owned record, confined to one tenant (or, without one, to nothing).

    `all_tenants` (a unit of work from `for_all_tenants()`) lifts the confinement: every row is visible and
    a record is written with the tenant it carries, even none.
    """

    def __init__(
        self,
        rows: dict[UUID, R],
        tenant_id: UUID | None,
        *,
        all_tenants: bool = False,
        unique: tuple[tuple[str, ...], ...] = (),
    ) -> None:
        self._rows = rows
        self._tenant_id = tenant_id
        self._all_tenants = all_tenants
        self._unique = unique

    def _sees(self, row: R) -> bool:
        if self._all_tenants:
            return True
        return self._tenant_id is not None and row.tenant_id == self._tenant_id

    def _visible(self) -> list[R]:
        return [row for row in self._rows.values() if self._sees(row)]

    def _stamped(self, record: R) -> R:
        """The record as the session would write it: stamped with the tenant, or refused."""
        if self._all_tenants:
            return copy.deepcopy(record)
        if self._tenant_id is None:
            raise FakeTenantScopeError(f"{type(record).__name__} written without a tenant")
        if record.tenant_id is not None and record.tenant_id != self._tenant_id:
            raise FakeTenantScopeError(
                f"{type(record).__name__} of tenant {record.tenant_id} written in {self._tenant_id}"
            )
        # The real adapter stamps the unit of work's tenant on a record that has none (webhook logs).
        return replace(copy.deepcopy(record), tenant_id=self._tenant_id)  # type: ignore[type-var]

    def _check_unique(self, record: R) -> None:
        for key in self._unique:
            values = tuple(getattr(record, name) for name in key)
            if any(value is None for value in values):
                continue
            for row in self._rows.values():
                if row.id != record.id and tuple(getattr(row, name) for name in key) == values:
                    duplicate = dict(zip(key, values, strict=True))
                    raise FakeIntegrityError(f"duplicate {type(record).__name__} {duplicate}")

    def _find(self, predicate: Callable[[R], bool]) -> R | None:
        """The stored row itself (not a copy): for the inbox's statements, which change rows in place."""
        return next((row for row in self._visible() if predicate(row)), None)

    def _put(self, record: R) -> R:
        self._check_unique(record)
        self._rows[record.id] = record
        return copy.deepcopy(record)

    async def add(self, record: R) -> R:
        stored = self._stamped(record)
        if stored.id in self._rows:
            raise FakeIntegrityError(f"duplicate {type(record).__name__} id {record.id}")
        return self._put(stored)

    async def append(self, record: R) -> None:
        await self.add(record)

    async def get(self, record_id: UUID) -> R | None:
        row = self._rows.get(record_id)
        if row is None or not self._sees(row):
            return None
        return copy.deepcopy(row)

    async def list(self, *, limit: int, offset: int = 0) -> Sequence[R]:
        newest_first = sorted(self._visible(), key=lambda row: (row.created_at, row.id), reverse=True)
        return copy.deepcopy(newest_first[offset : offset + limit])

    async def count(self) -> int:
        return len(self._visible())

    async def update(self, record: R) -> R:
        stored = self._rows.get(record.id)
        if stored is None or not self._sees(stored):
            raise LookupError(f"{type(record).__name__} {record.id} is not stored")
        # Every field but the id and the creation time is copied onto the stored row.
        updated = replace(self._stamped(record), created_at=stored.created_at)  # type: ignore[type-var]
        return self._put(updated)


class FakeInbox:
    """`SqlInbox` in memory: the same upserts, conditional updates and confinement."""

    def __init__(self, store: FakeStore, tenant_id: UUID | None, *, all_tenants: bool = False) -> None:
        def records(kind: str) -> FakeTenantRecords[Any]:
            return FakeTenantRecords(
                store.records[kind], tenant_id, all_tenants=all_tenants, unique=UNIQUE_KEYS[kind]
            )

        self._tenant_id = tenant_id
        self._contacts: FakeTenantRecords[Contact] = records("contacts")
        self._messages: FakeTenantRecords[Message] = records("messages")
        self._conversations: FakeTenantRecords[Conversation] = records("conversations")
        self._reactions: FakeTenantRecords[Reaction] = records("reactions")

    def _stamping_tenant(self) -> UUID:
        """The tenant the upserts stamp on their rows; like `stamped_rows`, none without one."""
        if self._tenant_id is None:
            raise FakeTenantScopeError("Bulk insert through a unit of work without a tenant")
        return self._tenant_id

    def _refuse_other_tenant(self, entity: Message | Reaction) -> None:
        # Stricter than SQL, which would restamp it silently: a use case passing another tenant's entity
        # to an inbox write has a bug worth failing on.
        if entity.tenant_id != self._stamping_tenant():
            raise FakeTenantScopeError(
                f"{type(entity).__name__} of tenant {entity.tenant_id} written in {self._tenant_id}"
            )

    async def record_contact(self, wa_id: str, *, name: str | None, inbound_at: datetime | None) -> Contact:
        tenant_id = self._stamping_tenant()
        stored = self._contacts._find(lambda c: c.wa_id == wa_id)
        if stored is None:
            contact = Contact(tenant_id=tenant_id, wa_id=wa_id, name=name, last_inbound_at=inbound_at)
            return self._contacts._put(contact)
        # A name already stored is kept; the window only moves forward.
        stored.name = stored.name if stored.name is not None else name
        stored.last_inbound_at = _latest(stored.last_inbound_at, inbound_at)
        stored.updated_at = utc_now()
        return copy.deepcopy(stored)

    async def set_opted_out(self, contact_id: UUID, opted_out: bool, at: datetime) -> bool:
        stored = self._contacts._find(lambda c: c.id == contact_id)
        if stored is None:
            return opted_out
        newer = stored.opted_out_changed_at is None or stored.opted_out_changed_at <= at
        if stored.opted_out is not opted_out and newer:
            stored.opted_out = opted_out
            stored.opted_out_changed_at = at
        return stored.opted_out

    async def mark_sent(self, message_id: UUID, wamid: str) -> Message | None:
        stored = self._messages._find(lambda m: m.id == message_id)
        if stored is None:
            return None
        stored.wamid = stored.wamid or wamid
        if stored.status is MessageStatus.PENDING:
            stored.status = MessageStatus.SENT
        return copy.deepcopy(stored)

    async def add_message(self, message: Message) -> bool:
        self._refuse_other_tenant(message)
        if message.wamid is not None and self._messages._find(lambda m: m.wamid == message.wamid):
            return False  # ON CONFLICT (tenant_id, wamid) DO NOTHING
        if message.id in self._messages._rows:
            raise FakeIntegrityError(f"duplicate Message id {message.id}")
        self._messages._put(copy.deepcopy(message))
        return True

    async def find_message(self, wamid: str) -> Message | None:
        return copy.deepcopy(self._messages._find(lambda m: m.wamid == wamid))

    async def update_message(self, message: Message) -> None:
        if self._messages._find(lambda m: m.id == message.id) is not None:
            await self._messages.update(message)

    async def advance_status(
        self,
        wamid: str,
        status: MessageStatus,
        *,
        at: datetime,
        error_code: int | None = None,
        error_title: str | None = None,
        callback_data: str | None = None,
    ) -> Message | None:
        stored = self._messages._find(lambda m: m.wamid == wamid)
        if stored is None and callback_data:
            stored = self._unanswered_send(callback_data)
            if stored is not None:
                stored.wamid = wamid  # kept even when the status itself does not advance, as in SQL
        if stored is None or not status_can_advance(stored.status, status):
            return None
        stored.status = status
        if status is MessageStatus.FAILED:
            stored.error_code = error_code
            stored.error_title = error_title
        content = copy.deepcopy(stored.content or {})
        content.setdefault("status_times", {})[status.value] = at.isoformat()
        stored.content = content
        return copy.deepcopy(stored)

    def _unanswered_send(self, callback_data: str) -> Message | None:
        """The outgoing message whose id went out as biz_opaque_callback_data, still without a wamid."""
        try:
            message_id = UUID(callback_data)
        except ValueError:
            return None
        return self._messages._find(
            lambda m: m.id == message_id and m.wamid is None and m.direction is Direction.OUTGOING
        )

    async def save_reaction(self, reaction: Reaction) -> Reaction:
        self._refuse_other_tenant(reaction)
        target = self._messages._find(lambda m: m.wamid == reaction.target_wamid)
        target_id = target.id if target is not None else None
        stored = self._reactions._find(
            lambda r: r.target_wamid == reaction.target_wamid and r.wa_id == reaction.wa_id
        )
        if stored is None:
            return self._reactions._put(replace(copy.deepcopy(reaction), message_id=target_id))
        stored.emoji = reaction.emoji
        stored.wamid = reaction.wamid
        stored.message_id = stored.message_id if stored.message_id is not None else target_id
        stored.updated_at = utc_now()
        return copy.deepcopy(stored)

    async def attach_reactions(self, target_wamid: str, message_id: UUID) -> int:
        waiting = [
            r for r in self._reactions._visible() if r.target_wamid == target_wamid and r.message_id is None
        ]
        for reaction in waiting:
            reaction.message_id = message_id
        return len(waiting)

    async def touch_conversation(self, contact: Contact, message: Message) -> Conversation:
        tenant_id = self._stamping_tenant()
        inbound = message.direction is Direction.INCOMING
        stored = self._conversations._find(lambda c: c.contact_id == contact.id)
        if stored is None:
            stored = Conversation(
                tenant_id=tenant_id,
                contact_id=contact.id,
                channel_id=message.channel_id,
                last_message_id=message.id,
                last_message_at=message.timestamp,
                last_inbound_at=message.timestamp if inbound else None,
                unread_count=1 if inbound else 0,
            )
            self._conversations._put(stored)
        else:
            # Messages may arrive out of order: only a newer one becomes the conversation's latest.
            if stored.last_message_at is None or stored.last_message_at <= message.timestamp:
                stored.last_message_id = message.id
            stored.last_message_at = _latest(stored.last_message_at, message.timestamp)
            stored.last_inbound_at = _latest(stored.last_inbound_at, message.timestamp if inbound else None)
            stored.channel_id = message.channel_id if message.channel_id is not None else stored.channel_id
            stored.unread_count += 1 if inbound else 0
            stored.updated_at = utc_now()
        stored_message = self._messages._find(lambda m: m.id == message.id)
        if stored_message is not None:
            stored_message.conversation_id = stored.id
        return copy.deepcopy(stored)


class FakeMediaDownloads:
    """`SqlMediaDownloads` in memory: one file per message; a given-up file is queued again; uploaded files
    by media id."""

    def __init__(
        self,
        records: FakeTenantRecords[InboundMedia],
        inbox: FakeInbox,
        uploads: FakeTenantRecords[UploadedFile],
    ) -> None:
        self._records = records
        self._messages = inbox._messages
        self._inbox = inbox
        self._uploads = uploads

    async def request(self, message_id: UUID, channel_id: UUID, reference: MediaReference) -> bool:
        tenant_id = self._inbox._stamping_tenant()
        stored = self._records._find(lambda m: m.message_id == message_id)
        if stored is None:
            self._records._put(
                InboundMedia(
                    tenant_id=tenant_id,
                    message_id=message_id,
                    channel_id=channel_id,
                    media_id=reference.media_id,
                    kind=reference.kind,
                    declared_mime_type=reference.mime_type,
                    declared_sha256=reference.sha256,
                    filename=reference.filename,
                )
            )
        elif stored.state is MediaState.FAILED:
            stored.state, stored.attempts, stored.last_error = MediaState.PENDING, 0, None
            stored.media_id, stored.channel_id = reference.media_id, channel_id
            stored.next_attempt_at = utc_now()
        else:
            return False
        message = self._messages._find(lambda m: m.id == message_id)
        if message is not None:
            message.media_state, message.media_error = MediaState.PENDING.value, None
        return True

    async def for_message(self, message_id: UUID) -> InboundMedia | None:
        return copy.deepcopy(self._records._find(lambda m: m.message_id == message_id))

    async def record(self, media: InboundMedia) -> Message | None:
        if self._records._find(lambda m: m.id == media.id) is not None:
            await self._records.update(media)
        message = self._messages._find(lambda m: m.id == media.message_id)
        if message is None:
            return None
        message.media_state = media.state.value
        message.media_error = None if media.state is MediaState.STORED else media.last_error
        return copy.deepcopy(message)

    async def keep_upload(self, upload: UploadedFile) -> None:
        stored = self._uploads._find(lambda u: u.media_id == upload.media_id)
        if stored is not None:
            await self._uploads.update(replace(upload, id=stored.id, created_at=stored.created_at))
        else:
            await self._uploads.add(upload)

    async def find_upload(self, media_id: str) -> UploadedFile | None:
        return copy.deepcopy(self._uploads._find(lambda u: u.media_id == media_id))

    async def attach_upload(
        self, message_id: UUID, channel_id: UUID | None, upload: UploadedFile, filename: str | None
    ) -> None:
        tenant_id = self._inbox._stamping_tenant()
        media = InboundMedia(
            tenant_id=tenant_id,
            message_id=message_id,
            channel_id=channel_id,
            media_id=upload.media_id,
            kind=upload.kind,
            declared_mime_type=upload.mime_type,
            declared_sha256=upload.sha256,
            filename=filename,
            state=MediaState.STORED,
            mime_type=upload.mime_type,
            size=upload.size,
            sha256=upload.sha256,
            storage_path=upload.storage_path,
            stored_at=upload.created_at,
        )
        self._records._put(media)


class FakeGroupRegistry:
    """`SqlGroupRegistry` in memory: groups by Meta's ids, participants kept per group of the tenant."""

    def __init__(self, records: FakeTenantRecords[Group], participants: dict[UUID, GroupParticipant]) -> None:
        self._records = records
        self._participants = participants

    async def by_meta_id(self, group_id: str) -> Group | None:
        return copy.deepcopy(self._records._find(lambda g: g.group_id == group_id))

    async def by_request_id(self, request_id: str) -> Group | None:
        return copy.deepcopy(self._records._find(lambda g: g.request_id == request_id))

    async def save(self, group: Group) -> Group:
        if await self._records.get(group.id) is None:
            return await self._records.add(group)
        return await self._records.update(group)

    async def delete(self, group_id: UUID) -> bool:
        if await self._records.get(group_id) is None:
            return False
        del self._records._rows[group_id]
        for key in [k for k, p in self._participants.items() if p.group_id == group_id]:
            del self._participants[key]  # ON DELETE CASCADE
        return True

    def _of(self, group_id: UUID) -> list[GroupParticipant]:
        return [p for p in self._participants.values() if p.group_id == group_id]

    async def participants(self, group_id: UUID) -> list[GroupParticipant]:
        if await self._records.get(group_id) is None:
            return []
        return copy.deepcopy(sorted(self._of(group_id), key=lambda p: (p.created_at, p.wa_id)))

    async def add_participants(self, group_id: UUID, wa_ids: Sequence[str]) -> None:
        group = await self._records.get(group_id)
        if group is None:
            raise FakeTenantScopeError(f"group {group_id} is not in this tenant")
        present = {p.wa_id for p in self._of(group_id)}
        for wa_id in dict.fromkeys(wa_ids):
            if wa_id not in present:
                participant = GroupParticipant(tenant_id=group.tenant_id, group_id=group_id, wa_id=wa_id)
                self._participants[participant.id] = participant

    async def remove_participants(self, group_id: UUID, wa_ids: Sequence[str]) -> None:
        if await self._records.get(group_id) is None:
            return
        for participant in self._of(group_id):
            if participant.wa_id in wa_ids:
                del self._participants[participant.id]

    async def replace_participants(self, group_id: UUID, wa_ids: Sequence[str]) -> None:
        gone = [p.wa_id for p in self._of(group_id) if p.wa_id not in wa_ids]
        await self.remove_participants(group_id, gone)
        await self.add_participants(group_id, wa_ids)


class FakeTemplates:
    """`SqlTemplates` in memory: found by Meta's id, else by name (and language); saved by id."""

    def __init__(self, records: FakeTenantRecords[MessageTemplate]) -> None:
        self._records = records

    async def find(
        self, *, meta_template_id: str | None, name: str | None, language: str | None
    ) -> MessageTemplate | None:
        found = None
        if meta_template_id:
            found = self._records._find(lambda t: t.meta_template_id == meta_template_id)
        if found is None and name:
            found = self._records._find(lambda t: t.name == name and (not language or t.language == language))
        return copy.deepcopy(found)

    async def save(self, template: MessageTemplate) -> MessageTemplate:
        if await self._records.get(template.id) is None:
            return await self._records.add(template)
        return await self._records.update(template)

    async def search(
        self, where: TemplateFilter, *, limit: int, offset: int
    ) -> tuple[Sequence[MessageTemplate], int]:
        def matches(t: MessageTemplate) -> bool:
            return (
                (not where.status or t.status == where.status.upper())
                and (not where.category or t.category == where.category.upper())
                and (not where.language or t.language == where.language)
                and (not where.name or where.name.lower() in t.name.lower())
            )

        found = [t for t in self._records._visible() if matches(t)]
        found.sort(key=lambda t: (t.name, t.language))
        return copy.deepcopy(found[offset : offset + limit]), len(found)

    async def every(self) -> Sequence[MessageTemplate]:
        return copy.deepcopy(sorted(self._records._visible(), key=lambda t: t.name))

    async def remove(self, template_id: UUID) -> None:
        if await self._records.get(template_id) is not None:
            del self._records._rows[template_id]


class FakeCampaignRecipients:
    """`SqlCampaignRecipients` over the fake store: one recipient per number per campaign, forward-only."""

    def __init__(
        self,
        records: FakeTenantRecords[CampaignRecipient],
        contacts: FakeTenantRecords[Contact],
        campaigns: FakeTenantRecords[Campaign],
    ) -> None:
        self._records = records
        self._contacts = contacts
        self._campaigns = campaigns

    async def add_many(self, recipients: Sequence[CampaignRecipient]) -> int:
        added = 0
        for recipient in recipients:
            stored = {(r.campaign_id, r.wa_id) for r in self._records._visible()}
            if (recipient.campaign_id, recipient.wa_id) not in stored:
                await self._records.add(recipient)
                added += 1
        return added

    async def counts(self, campaign_id: UUID) -> CampaignCounts:
        by_state: dict[str, int] = {}
        for recipient in self._records._visible():
            if recipient.campaign_id == campaign_id:
                by_state[recipient.state.value] = by_state.get(recipient.state.value, 0) + 1
        campaign = await self._campaigns.get(campaign_id)
        return CampaignCounts(by_state, duplicates_skipped=campaign.duplicates_skipped if campaign else 0)

    async def page(
        self, campaign_id: UUID, *, state: RecipientState | None, limit: int, offset: int
    ) -> Sequence[CampaignRecipient]:
        rows = [
            r
            for r in self._records._visible()
            if r.campaign_id == campaign_id and (state is None or r.state == state)
        ]
        rows.sort(key=lambda r: (r.created_at, r.id))
        return copy.deepcopy(rows[offset : offset + limit])

    async def advance(
        self,
        wamid: str,
        state: RecipientState,
        *,
        callback_data: str | None,
        error_code: int | None = None,
        error_title: str | None = None,
    ) -> CampaignRecipient | None:
        row = self._records._find(lambda r: r.wamid == wamid)
        recipient_id = recipient_id_from_callback(callback_data)
        if row is None and recipient_id is not None:
            row = self._records._find(lambda r: r.id == recipient_id and r.wamid in (None, wamid))
        if row is None or not recipient_can_move(row.state, state):
            return None
        row.state, row.wamid, row.next_attempt_at = state, wamid, None
        if state is RecipientState.FAILED:
            row.error_code, row.error_title = error_code, error_title
        return copy.deepcopy(row)

    async def audience_contacts(self, spec: AudienceSpec) -> Sequence[Contact]:
        return [
            c for c in self._contacts._visible() if c.id in spec.contact_ids or set(c.tags) & set(spec.tags)
        ]

    async def cancel_open(self, campaign_id: UUID) -> int:
        cancelled = 0
        for row in self._records._visible():
            if row.campaign_id == campaign_id and row.state is RecipientState.PENDING:
                row.state, row.error_title = RecipientState.SKIPPED, "campaign cancelled"
                cancelled += 1
        return cancelled


class FakeEventPublisher:
    """Holds a unit of work's events; `published` gets them only on commit, rollback drops them."""

    def __init__(self, published: list[RealtimeEvent] | None = None) -> None:
        self.pending: list[RealtimeEvent] = []
        self.published: list[RealtimeEvent] = published if published is not None else []

    async def publish(self, event: RealtimeEvent) -> None:
        self.pending.append(event)

    def deliver(self) -> None:
        """What COMMIT does to NOTIFY: every pending event, in order, identical ones once."""
        seen: set[str] = set()
        for event in self.pending:
            key = json.dumps(event.as_json_object(), sort_keys=True, default=str)
            if key not in seen:
                seen.add(key)
                self.published.append(event)
        self.pending.clear()

    def discard(self) -> None:
        self.pending.clear()


class FakeUnitOfWork:
    """A transaction over a private copy of the store, opened for one tenant (or none, or all)."""

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
    campaign_recipients: FakeCampaignRecipients
    webhook_logs: TenantRecords[WebhookLogEntry]
    inbox: FakeInbox
    media_downloads: FakeMediaDownloads
    template_registry: FakeTemplates
    group_registry: FakeGroupRegistry
    contact_book: FakeContactBook
    audience_members: FakeAudienceMembers
    contact_imports: FakeContactImports
    events: FakeEventPublisher

    def __init__(
        self, factory: FakeUnitOfWorkFactory, tenant_id: UUID | None, *, all_tenants: bool = False
    ) -> None:
        self._factory = factory
        self.tenant_id = tenant_id
        self.all_tenants = all_tenants
        self.commits = 0
        self._working: FakeStore | None = None

    async def __aenter__(self) -> Self:
        self._factory.units.append(self)
        self._open()
        return self

    def _open(self) -> None:
        working = self._factory.store.snapshot()
        self._working = working
        self.tenants = FakeTenants(working)
        self.users = FakeUsers(working)
        self.memberships = FakeMemberships(working)
        tid = self.tenant_id
        every = self.all_tenants

        def records(kind: str) -> FakeTenantRecords[Any]:
            return FakeTenantRecords(
                working.records[kind], tid, all_tenants=every, unique=UNIQUE_KEYS.get(kind, ())
            )

        self.channels = records("channels")
        self.contacts = records("contacts")
        self.groups = records("groups")
        self.audiences = records("audiences")
        self.conversations = records("conversations")
        self.messages = records("messages")
        self.templates = records("templates")
        self.campaigns = records("campaigns")
        self.campaign_recipients = FakeCampaignRecipients(
            records("campaign_recipients"), self.contacts, self.campaigns
        )
        self.webhook_logs = records("webhook_logs")
        self.api_keys = records("api_keys")
        self.event_endpoints = records("event_endpoints")
        self.event_deliveries = FakeEventDeliveries(records("event_deliveries"))
        self.inbox = FakeInbox(working, tid, all_tenants=every)
        self.media_downloads = FakeMediaDownloads(
            records("media_files"),
            self.inbox,
            FakeTenantRecords(working.records.setdefault("uploaded_media", {}), tid, all_tenants=every),
        )
        self.template_registry = FakeTemplates(records("templates"))
        self.template_send_stats = FakeTemplateSendStats(self.messages)
        self.group_registry = FakeGroupRegistry(
            records("groups"), working.records.setdefault("group_participants", {})
        )
        self.contact_book, self.audience_members, self.contact_imports = contact_ports(
            working.records, tid, all_tenants=every
        )
        self.flows, self.flow_keys = flow_ports(working.records, tid, all_tenants=every)
        self.qr_codes = FakeQrCodes(
            FakeTenantRecords(working.records.setdefault("qr_codes", {}), tid, all_tenants=every)
        )
        self.events = FakeEventPublisher(self._factory.published)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Whatever was not committed is dropped with the working copy, events included.
        if self._working is not None:
            self.events.discard()
        self._working = None

    async def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit() outside of `async with`")
        self._factory.store = self._working.snapshot()
        self.events.deliver()
        self.commits += 1

    async def rollback(self) -> None:
        if self._working is None:
            raise RuntimeError("rollback() outside of `async with`")
        # Start over from what is committed, as a rolled-back session would.
        self.events.discard()
        self._open()


class FakeUnitOfWorkFactory:
    """`factory(tenant_id=None)` opens a unit of work, like `SqlAlchemyUnitOfWorkFactory`.

    `units` lists every unit of work entered, in order; `published` every event that was committed.
    """

    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store if store is not None else FakeStore()
        self.units: list[FakeUnitOfWork] = []
        self.published: list[RealtimeEvent] = []

    def __call__(self, tenant_id: UUID | None = None) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, tenant_id)

    def for_all_tenants(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, None, all_tenants=True)

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

    # Reading the committed state back in tests.

    def committed(self, kind: str) -> list[Any]:
        """Every committed record of a kind, of every tenant, oldest first; copies."""
        rows = sorted(self.store.records[kind].values(), key=lambda row: row.created_at)
        return copy.deepcopy(rows)


class FakeChannelDirectory:
    """`SqlChannelDirectory` over the factory's committed channels, with a cache that never runs out.

    Every answer (also "no such channel") is kept in a dict until `forget()`, or, for one phone number,
    until a lookup with `fresh=True`; `forgotten` counts the `forget()` calls.
    """

    def __init__(self, factory: FakeUnitOfWorkFactory) -> None:
        self._factory = factory
        self._cache: dict[tuple[str, str], Channel | None] = {}
        self.forgotten = 0

    def _channels(self) -> list[Channel]:
        channels: list[Channel] = self._factory.committed("channels")
        return channels

    def _lookup(self, kind: str, key: str, matches: Callable[[Channel], bool]) -> Channel | None:
        if (kind, key) not in self._cache:
            self._cache[(kind, key)] = next((c for c in self._channels() if matches(c)), None)
        return copy.deepcopy(self._cache[(kind, key)])

    def forget(self) -> None:
        self._cache.clear()
        self.forgotten += 1

    async def by_phone_number_id(self, phone_number_id: str, *, fresh: bool = False) -> Channel | None:
        if fresh:
            self._cache.pop(("phone", phone_number_id), None)
        return self._lookup("phone", phone_number_id, lambda c: c.phone_number_id == phone_number_id)

    async def by_waba_id(self, waba_id: str) -> Channel | None:
        return self._lookup("waba", waba_id, lambda c: c.waba_id == waba_id)

    async def verify_tokens(self) -> set[str]:
        return {c.verify_token for c in self._channels() if c.is_active and c.verify_token}


class FakePasswordHasher:
    PREFIX = "hashed:"

    async def hash(self, password: str) -> str:
        return self.PREFIX + password

    async def verify(self, password: str, password_hash: str) -> bool:
        return password_hash == self.PREFIX + password


class FakeEventDeliveries:
    def __init__(self, records: FakeTenantRecords[EventDelivery]) -> None:
        self._records = records

    async def recent_for(self, endpoint_id: UUID, *, limit: int) -> Sequence[EventDelivery]:
        everything = await self._records.list(limit=100_000)
        return [d for d in everything if d.endpoint_id == endpoint_id][:limit]

    async def get_for(self, endpoint_id: UUID, delivery_id: UUID) -> EventDelivery | None:
        found = await self._records.get(delivery_id)
        return found if found is not None and found.endpoint_id == endpoint_id else None

    async def attempts_of(
        self, delivery_ids: Sequence[UUID], *, recent: int | None = None
    ) -> dict[UUID, list[DeliveryAttempt]]:
        return {delivery_id: [] for delivery_id in delivery_ids}  # the fake queue records no attempts


class FakeApiKeyDirectory:
    """API keys looked up across tenants in the factory's committed store."""

    def __init__(self, factory: FakeUnitOfWorkFactory) -> None:
        self._factory = factory
        self.touched: list[UUID] = []

    async def by_prefix(self, prefix: str) -> ApiKey | None:
        async with self._factory.for_all_tenants() as uow:
            keys = await uow.api_keys.list(limit=10_000)
        return next((key for key in keys if key.prefix == prefix), None)

    async def touch(self, key: ApiKey, at: datetime) -> None:
        self.touched.append(key.id)
        async with self._factory(key.tenant_id) as uow:
            stored = await uow.api_keys.get(key.id)
            if stored is not None:
                stored.last_used_at = at
                await uow.api_keys.update(stored)
                await uow.commit()


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
) -> tuple[
    UnitOfWorkFactory,
    UnitOfWork,
    PasswordHasher,
    LoginAttempts,
    TenantRecords[Channel],
    Inbox,
    TemplateRegistry,
    EventPublisher,
    ChannelDirectory,
]:
    channels: FakeTenantRecords[Channel] = FakeTenantRecords(store.records["channels"], None)
    templates: FakeTenantRecords[MessageTemplate] = FakeTenantRecords(store.records["templates"], None)
    return (
        factory,
        uow,
        FakePasswordHasher(),
        FakeLoginAttempts(),
        channels,
        FakeInbox(store, None),
        FakeTemplates(templates),
        FakeEventPublisher(),
        FakeChannelDirectory(factory),
    )
