"""One transaction on one AsyncSession, opened for one tenant (see `scoping.py`)."""

from __future__ import annotations

from types import TracebackType
from typing import Self
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pywhatsapp.adapters.persistence import models
from pywhatsapp.adapters.persistence.campaigns import SqlCampaignRecipients
from pywhatsapp.adapters.persistence.contact_book import SqlAudienceMembers, SqlContactBook, SqlContactImports
from pywhatsapp.adapters.persistence.errors import is_unstorable_value
from pywhatsapp.adapters.persistence.flows import SqlFlowRegistry
from pywhatsapp.adapters.persistence.groups import SqlGroupRegistry
from pywhatsapp.adapters.persistence.inbox import SqlInbox
from pywhatsapp.adapters.persistence.media_files import SqlMediaDownloads
from pywhatsapp.adapters.persistence.qr_codes import SqlQrCodes
from pywhatsapp.adapters.persistence.repositories import (
    SqlEventDeliveries,
    SqlMemberships,
    SqlRecords,
    SqlTenants,
    SqlUsers,
)
from pywhatsapp.adapters.persistence.scoping import open_scope
from pywhatsapp.adapters.persistence.template_analytics import SqlTemplateSendStats
from pywhatsapp.adapters.persistence.templates import SqlTemplateRegistry
from pywhatsapp.adapters.realtime.pg_notify import PgNotifyPublisher
from pywhatsapp.application.common.unit_of_work import RecordRejected
from pywhatsapp.domain.campaigns.campaign import Campaign
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.audience import Audience
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.contacts.group import Group
from pywhatsapp.domain.flows.flow import FlowKey
from pywhatsapp.domain.identity.api_key import ApiKey
from pywhatsapp.domain.integrations.event_webhook import EventEndpoint
from pywhatsapp.domain.messaging.conversation import Conversation
from pywhatsapp.domain.messaging.message import Message
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.webhooks.webhook_log import WebhookLogEntry


class SqlAlchemyUnitOfWork:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], tenant_id: UUID | None, *, all_tenants: bool
    ) -> None:
        self._session_factory = session_factory
        self._tenant_id = tenant_id
        self._all_tenants = all_tenants

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        open_scope(self.session.sync_session, self._tenant_id, all_tenants=self._all_tenants)
        s = self.session
        self.tenants = SqlTenants(s)
        self.users = SqlUsers(s)
        self.memberships = SqlMemberships(s)
        self.channels = SqlRecords(s, models.ChannelRow, Channel)
        self.contacts = SqlRecords(s, models.ContactRow, Contact)
        self.groups = SqlRecords(s, models.GroupRow, Group)
        self.audiences = SqlRecords(s, models.AudienceRow, Audience)
        self.conversations = SqlRecords(s, models.ConversationRow, Conversation)
        self.messages = SqlRecords(s, models.MessageRow, Message)
        self.templates = SqlRecords(s, models.MessageTemplateRow, MessageTemplate)
        self.campaigns = SqlRecords(s, models.CampaignRow, Campaign)
        self.campaign_recipients = SqlCampaignRecipients(s)
        self.webhook_logs = SqlRecords(s, models.WebhookLogRow, WebhookLogEntry)
        self.api_keys = SqlRecords(s, models.ApiKeyRow, ApiKey)
        self.event_endpoints = SqlRecords(s, models.EventEndpointRow, EventEndpoint)
        self.event_deliveries = SqlEventDeliveries(s)
        self.inbox = SqlInbox(s)
        self.media_downloads = SqlMediaDownloads(s)
        self.template_registry = SqlTemplateRegistry(s)
        self.template_send_stats = SqlTemplateSendStats(s)
        self.group_registry = SqlGroupRegistry(s)
        self.contact_book = SqlContactBook(s)
        self.audience_members = SqlAudienceMembers(s)
        self.contact_imports = SqlContactImports(s)
        self.qr_codes = SqlQrCodes(s)
        self.flows = SqlFlowRegistry(s)
        self.flow_keys = SqlRecords(s, models.FlowKeyRow, FlowKey)
        self.events = PgNotifyPublisher(s)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            await self.session.rollback()  # a no-op after commit; undoes whatever was not committed
        finally:
            await self.session.close()
        if exc is not None and not isinstance(exc, RecordRejected) and is_unstorable_value(exc):
            # Use cases hear of a refused value in their own terms (the input, not the database, failed).
            raise RecordRejected(f"a value cannot be stored: {type(exc).__name__}") from exc

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class SqlAlchemyUnitOfWorkFactory:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    def __call__(self, tenant_id: UUID | None = None) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self._session_factory, tenant_id, all_tenants=False)

    def for_all_tenants(self) -> SqlAlchemyUnitOfWork:
        """Installation maintenance only: sees and writes every tenant's rows."""
        return SqlAlchemyUnitOfWork(self._session_factory, None, all_tenants=True)
