"""The ports through which use cases read and change stored state, one transaction at a time.

A unit of work is opened for one tenant. Every tenant-owned record it reads, counts, changes or adds is
confined to that tenant by the adapter behind it: a use case cannot forget the filter, because it never
writes one. Identity records (tenants, users, memberships) span tenants and have their own repositories.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self, TypeVar
from uuid import UUID

from pywhatsapp.application.campaigns.ports import CampaignRecipients
from pywhatsapp.application.contacts.ports import AudienceMembers, ContactBook, ContactImports
from pywhatsapp.application.flows.ports import FlowRegistry
from pywhatsapp.application.groups.ports import GroupRegistry
from pywhatsapp.application.media.ports import MediaDownloads
from pywhatsapp.application.messaging.ports import EventPublisher, Inbox
from pywhatsapp.application.qr_codes.ports import QrCodes
from pywhatsapp.application.templates.analytics_ports import TemplateSendStats
from pywhatsapp.application.templates.ports import TemplateRegistry
from pywhatsapp.domain.campaigns.campaign import Campaign
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.audience import Audience
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.contacts.group import Group
from pywhatsapp.domain.flows.flow import FlowKey
from pywhatsapp.domain.identity.api_key import ApiKey
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.integrations.event_webhook import DeliveryAttempt, EventDelivery, EventEndpoint
from pywhatsapp.domain.messaging.conversation import Conversation
from pywhatsapp.domain.messaging.message import Message
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.tenancy.membership import Membership
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.domain.webhooks.webhook_log import WebhookLogEntry

T = TypeVar("T")


class RecordRejected(Exception):
    """The database refused a value itself (too long for its column, characters it cannot hold): the
    input is at fault, not the server, and sending it again cannot help."""


class TenantRecords(Protocol[T]):
    """Records owned by the unit of work's tenant."""

    async def add(self, record: T) -> T: ...

    async def append(self, record: T) -> None:
        """Add without reading the stored record back (cheaper, for write-heavy paths)."""
        ...

    async def get(self, record_id: UUID) -> T | None: ...

    async def list(self, *, limit: int, offset: int = 0) -> Sequence[T]: ...

    async def count(self) -> int: ...

    async def update(self, record: T) -> T: ...


class Tenants(Protocol):
    async def add(self, tenant: Tenant) -> Tenant: ...

    async def get(self, tenant_id: UUID) -> Tenant | None: ...

    async def get_by_slug(self, slug: str) -> Tenant | None: ...

    async def list_all(self) -> Sequence[Tenant]: ...

    async def list_for_user(self, user_id: UUID) -> Sequence[Tenant]: ...


class Users(Protocol):
    async def add(self, user: User) -> User: ...

    async def get(self, user_id: UUID) -> User | None: ...

    async def get_by_username(self, username: str) -> User | None: ...

    async def get_many(self, user_ids: Sequence[UUID]) -> Sequence[User]: ...

    async def update(self, user: User) -> User: ...


class Memberships(Protocol):
    async def add(self, membership: Membership) -> Membership: ...

    async def get(self, *, user_id: UUID, tenant_id: UUID) -> Membership | None: ...

    async def list_for_user(self, user_id: UUID) -> Sequence[Membership]: ...

    async def list_for_tenant(self, tenant_id: UUID) -> Sequence[Membership]:
        """Every membership of the tenant, oldest first."""
        ...

    async def update(self, membership: Membership) -> Membership: ...


class EventDeliveryLog(Protocol):
    async def recent_for(self, endpoint_id: UUID, *, limit: int) -> Sequence[EventDelivery]:
        """An endpoint's deliveries, newest first."""
        ...

    async def get_for(self, endpoint_id: UUID, delivery_id: UUID) -> EventDelivery | None:
        """One delivery of the endpoint (None: not the endpoint's, or not this tenant's)."""
        ...

    async def attempts_of(
        self, delivery_ids: Sequence[UUID], *, recent: int | None = None
    ) -> dict[UUID, list[DeliveryAttempt]]:
        """Each delivery's attempts, oldest first (only the `recent` newest of each, if given); every id is a
        key, with no attempts if it has none."""
        ...


class UnitOfWork(Protocol):
    # Read-only members, so that an adapter may expose more specific repositories than these ports.
    @property
    def tenants(self) -> Tenants: ...
    @property
    def users(self) -> Users: ...
    @property
    def memberships(self) -> Memberships: ...
    @property
    def channels(self) -> TenantRecords[Channel]: ...
    @property
    def contacts(self) -> TenantRecords[Contact]: ...
    @property
    def groups(self) -> TenantRecords[Group]: ...
    @property
    def audiences(self) -> TenantRecords[Audience]: ...
    @property
    def conversations(self) -> TenantRecords[Conversation]: ...
    @property
    def messages(self) -> TenantRecords[Message]: ...
    @property
    def templates(self) -> TenantRecords[MessageTemplate]: ...
    @property
    def campaigns(self) -> TenantRecords[Campaign]: ...
    @property
    def campaign_recipients(self) -> CampaignRecipients: ...
    @property
    def webhook_logs(self) -> TenantRecords[WebhookLogEntry]: ...
    @property
    def api_keys(self) -> TenantRecords[ApiKey]: ...
    @property
    def event_endpoints(self) -> TenantRecords[EventEndpoint]: ...
    @property
    def event_deliveries(self) -> EventDeliveryLog: ...
    @property
    def inbox(self) -> Inbox: ...
    @property
    def media_downloads(self) -> MediaDownloads: ...
    @property
    def template_registry(self) -> TemplateRegistry: ...
    @property
    def template_send_stats(self) -> TemplateSendStats: ...
    @property
    def group_registry(self) -> GroupRegistry: ...
    @property
    def contact_book(self) -> ContactBook: ...
    @property
    def audience_members(self) -> AudienceMembers: ...
    @property
    def contact_imports(self) -> ContactImports: ...
    @property
    def qr_codes(self) -> QrCodes: ...
    @property
    def flows(self) -> FlowRegistry: ...
    @property
    def flow_keys(self) -> TenantRecords[FlowKey]: ...
    @property
    def events(self) -> EventPublisher: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, tenant_id: UUID | None = None) -> UnitOfWork:
        """Open a unit of work for `tenant_id`; without one, no tenant-owned record is visible."""
        ...

    def for_all_tenants(self) -> UnitOfWork:
        """Installation-level work only (webhook bodies that no tenant owns): sees every tenant."""
        ...
