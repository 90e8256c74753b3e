"""The composition root: the only place that knows which adapter implements which port.

Both the Litestar app and the CLI are built from this container, so every route and every command
sees the same services. Everything here is synchronous to build; the embedded database is a Resource
started by `init_resources()` and stopped by `shutdown_resources()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from dependency_injector import containers, providers

from pywhatsapp.adapters.auth.login_attempts import SqlLoginAttempts
from pywhatsapp.adapters.auth.passwords import BcryptPasswordHasher
from pywhatsapp.adapters.auth.tokens import JwtAccessTokens
from pywhatsapp.adapters.auth.web_sessions import SqlWebSessions
from pywhatsapp.adapters.embedded_postgres.server import EmbeddedPostgres
from pywhatsapp.adapters.integrations.destinations import PublicDestinations
from pywhatsapp.adapters.integrations.http_sender import HttpEventSender
from pywhatsapp.adapters.media.object_storage import ObjectMediaStorage
from pywhatsapp.adapters.media.thumbnails import PillowThumbnails
from pywhatsapp.adapters.metrics.prometheus import PrometheusMetrics
from pywhatsapp.adapters.persistence.api_key_directory import SqlApiKeyDirectory
from pywhatsapp.adapters.persistence.campaigns import SqlCampaignQueue
from pywhatsapp.adapters.persistence.channel_directory import SqlChannelDirectory
from pywhatsapp.adapters.persistence.dashboard import SqlDashboardQueries
from pywhatsapp.adapters.persistence.database import create_engine, create_session_factory
from pywhatsapp.adapters.persistence.delivery_queue import SqlDeliveryQueue
from pywhatsapp.adapters.persistence.encryption import configure_secret_key
from pywhatsapp.adapters.persistence.inbox_reader import SqlInboxReader
from pywhatsapp.adapters.persistence.media_files import SqlMediaClaims
from pywhatsapp.adapters.persistence.queue_depth import SqlQueueDepths
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.spreadsheets.xlsx import OpenpyxlReader
from pywhatsapp.adapters.whatsapp.flow_crypto import PywaFlowCrypto
from pywhatsapp.adapters.whatsapp.flows import PywaFlows
from pywhatsapp.adapters.whatsapp.groups import PywaGroupGateway
from pywhatsapp.adapters.whatsapp.pywa_gateway import PywaGateway
from pywhatsapp.adapters.whatsapp.qr_codes import PywaQrCodes
from pywhatsapp.adapters.whatsapp.template_analytics import PywaTemplateAnalytics
from pywhatsapp.adapters.whatsapp.templates import PywaTemplates
from pywhatsapp.application.campaigns.manage_campaigns import ManageCampaigns
from pywhatsapp.application.campaigns.publish_progress import PublishCampaignProgress
from pywhatsapp.application.campaigns.send_campaigns import CampaignSender, SenderSettings
from pywhatsapp.application.channels.configure_channel import ConfigureChannel
from pywhatsapp.application.channels.register_webhook import RegisterWebhook
from pywhatsapp.application.common.list_records import ListRecords
from pywhatsapp.application.contacts.export_contacts import ExportContacts
from pywhatsapp.application.contacts.import_contacts import (
    ContactImportJobs,
    ContactImportScheduler,
    RunContactImport,
    StartContactImport,
)
from pywhatsapp.application.contacts.manage_audiences import ManageAudiences
from pywhatsapp.application.contacts.manage_contacts import ManageContacts
from pywhatsapp.application.flows.answer_flow_request import AnswerFlowRequest
from pywhatsapp.application.flows.flow_keys import ManageFlowKeys
from pywhatsapp.application.flows.manage_flows import ManageFlows
from pywhatsapp.application.groups.group_membership import GroupMembership
from pywhatsapp.application.groups.manage_groups import ManageGroups
from pywhatsapp.application.identity.api_keys import ManageApiKeys
from pywhatsapp.application.identity.authenticate import Authenticate
from pywhatsapp.application.identity.create_user import CreateUser
from pywhatsapp.application.identity.log_in import LogIn
from pywhatsapp.application.identity.manage_members import ManageMembers
from pywhatsapp.application.identity.revoke_credentials import ChangePassword, LogOut
from pywhatsapp.application.inbox.dashboard import ShowDashboard
from pywhatsapp.application.inbox.indicate_typing import IndicateTyping
from pywhatsapp.application.inbox.mark_conversation_read import GatewayReadReceipts, MarkConversationRead
from pywhatsapp.application.installation.set_up_installation import SetUpInstallation
from pywhatsapp.application.integrations.deliver_events import DeliverEvents
from pywhatsapp.application.integrations.manage_endpoints import ManageEventEndpoints
from pywhatsapp.application.media.fetch_inbound_media import FetchInboundMedia
from pywhatsapp.application.media.outbound_media import KeepUploadedMedia
from pywhatsapp.application.media.read_message_media import ReadMessageMedia
from pywhatsapp.application.messaging.send_message import SendMessage
from pywhatsapp.application.messaging.upload_media import UploadMedia
from pywhatsapp.application.qr_codes.manage_qr_codes import ManageQrCodes
from pywhatsapp.application.templates.manage_templates import ManageTemplates
from pywhatsapp.application.templates.migrate_templates import MigrateTemplates
from pywhatsapp.application.templates.sync_templates import SyncTemplates
from pywhatsapp.application.templates.template_analytics import TemplateAnalytics
from pywhatsapp.application.tenancy.create_tenant import CreateTenant
from pywhatsapp.application.tenancy.list_tenants import ListTenants
from pywhatsapp.application.webhooks.apply_update import UpdateApplier
from pywhatsapp.application.webhooks.ingest_webhook import IngestWebhook
from pywhatsapp.application.webhooks.replay_webhook import ReplayWebhook
from pywhatsapp.domain.identity.login_throttle import LoginThrottlePolicy
from pywhatsapp.domain.media.inbound import RetryPolicy
from pywhatsapp.domain.messaging.opt_out import OptOutKeywords
from pywhatsapp.entrypoints.settings import Settings


def database_url(settings: Settings) -> Iterator[str]:
    """The configured PostgreSQL, or the embedded one, started here and stopped on shutdown."""
    if settings.external_database_url:
        yield settings.external_database_url
        return
    server = EmbeddedPostgres(settings.data_dir)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    secrets_key = providers.Resource(configure_secret_key, settings.provided.secrets_encryption_key)
    database_url = providers.Resource(database_url, settings)
    engine = providers.Singleton(create_engine, database_url)
    session_factory = providers.Singleton(create_session_factory, engine)
    uow_factory = providers.Singleton(SqlAlchemyUnitOfWorkFactory, session_factory)

    # advanced-alchemy's session backend opens its own sessions through this config;
    # the session maker is looked up late so that the app can be built before the database starts.
    alchemy_config = providers.Singleton(
        SQLAlchemyAsyncConfig,
        session_maker=providers.Callable(lambda factory: lambda: factory()(), session_factory.provider),
    )

    passwords = providers.Singleton(BcryptPasswordHasher, settings.provided.PASSWORD_HASH_ROUNDS)
    access_tokens = providers.Singleton(
        JwtAccessTokens,
        secret=settings.provided.JWT_SECRET_KEY,
        algorithm=settings.provided.JWT_ALGORITHM,
        lifetime=providers.Factory(timedelta, minutes=settings.provided.JWT_ACCESS_TOKEN_LIFETIME_MINUTES),
    )
    login_attempts = providers.Singleton(SqlLoginAttempts, session_factory)
    login_policy = providers.Singleton(LoginThrottlePolicy)

    log_in = providers.Singleton(LogIn, uow_factory, passwords, access_tokens, login_attempts, login_policy)
    # Logout and password changes revoke tokens (tokens_valid_after) and delete the user's page sessions.
    web_sessions = providers.Singleton(SqlWebSessions, session_factory)
    log_out = providers.Factory(LogOut, uow_factory, web_sessions)
    change_password = providers.Factory(
        ChangePassword, uow_factory, passwords, web_sessions, login_attempts, login_policy
    )
    api_key_directory = providers.Singleton(SqlApiKeyDirectory, session_factory)
    authenticate = providers.Factory(Authenticate, uow_factory, access_tokens, api_key_directory)
    manage_api_keys = providers.Factory(ManageApiKeys, uow_factory)
    create_user = providers.Factory(CreateUser, uow_factory, passwords)
    manage_members = providers.Factory(ManageMembers, uow_factory, create_user)
    create_tenant = providers.Factory(CreateTenant, uow_factory)
    list_tenants = providers.Factory(ListTenants, uow_factory)
    set_up_installation = providers.Factory(SetUpInstallation, uow_factory, passwords)

    # Prometheus counters (webhook events, sends) for `/metrics`; queue depths read at scrape time.
    metrics = providers.Singleton(PrometheusMetrics)
    queue_depths = providers.Singleton(SqlQueueDepths, engine)

    channel_directory = providers.Singleton(SqlChannelDirectory, session_factory)
    opt_out_keywords = providers.Singleton(
        OptOutKeywords.from_setting, settings.provided.OPT_OUT_KEYWORDS, settings.provided.OPT_IN_KEYWORDS
    )
    update_applier = providers.Singleton(UpdateApplier, opt_out_keywords)
    ingest_webhook = providers.Singleton(
        IngestWebhook,
        uow_factory,
        channel_directory,
        update_applier,
        validate_signatures=settings.provided.VALIDATE_UPDATES,
        metrics=metrics,
    )
    configure_channel = providers.Factory(ConfigureChannel, uow_factory, channel_directory)
    inbox_reader = providers.Singleton(SqlInboxReader, session_factory)
    show_dashboard = providers.Factory(
        ShowDashboard, providers.Singleton(SqlDashboardQueries, session_factory), uow_factory
    )
    replay_webhook = providers.Factory(ReplayWebhook, inbox_reader, ingest_webhook)
    gateway = providers.Singleton(PywaGateway, settings.provided.GRAPH_API_URL)
    read_receipts = providers.Singleton(GatewayReadReceipts, uow_factory, gateway)
    mark_conversation_read = providers.Factory(MarkConversationRead, inbox_reader, read_receipts)
    indicate_typing = providers.Factory(IndicateTyping, inbox_reader, uow_factory, gateway)
    send_message = providers.Factory(SendMessage, uow_factory, gateway, metrics)
    group_gateway = providers.Singleton(PywaGroupGateway, gateway)
    meta_qr_codes = providers.Singleton(PywaQrCodes, gateway)
    manage_qr_codes = providers.Factory(ManageQrCodes, uow_factory, meta_qr_codes)
    manage_groups = providers.Factory(ManageGroups, uow_factory, group_gateway)
    group_membership = providers.Factory(GroupMembership, uow_factory, group_gateway)
    meta_templates = providers.Singleton(PywaTemplates, gateway)
    manage_templates = providers.Factory(ManageTemplates, uow_factory, meta_templates)
    sync_templates = providers.Factory(SyncTemplates, uow_factory, meta_templates)
    migrate_templates = providers.Factory(MigrateTemplates, uow_factory, meta_templates, sync_templates)
    meta_template_analytics = providers.Singleton(PywaTemplateAnalytics, gateway)
    template_analytics = providers.Factory(TemplateAnalytics, uow_factory, meta_template_analytics)
    meta_flows = providers.Singleton(PywaFlows, gateway)
    flow_crypto = providers.Singleton(PywaFlowCrypto)
    manage_flows = providers.Factory(ManageFlows, uow_factory, meta_flows)
    manage_flow_keys = providers.Factory(ManageFlowKeys, uow_factory, meta_flows, flow_crypto)
    answer_flow_request = providers.Factory(AnswerFlowRequest, uow_factory, flow_crypto)
    register_webhook = providers.Factory(RegisterWebhook, uow_factory, gateway)
    # Event webhook URLs may not point into the server's own network (SSRF), unless the operator allows it.
    event_destinations = providers.Singleton(
        PublicDestinations, settings.provided.EVENT_WEBHOOKS_ALLOW_PRIVATE
    )
    manage_event_endpoints = providers.Factory(ManageEventEndpoints, uow_factory, event_destinations)
    event_sender = providers.Singleton(HttpEventSender, 10.0, event_destinations)
    deliver_events = providers.Singleton(
        DeliverEvents,
        providers.Callable(lambda factory: lambda: SqlDeliveryQueue(factory), session_factory),
        event_sender,
    )

    # Inbound media: downloaded after the webhook is answered, kept in MEDIA_STORAGE_URL.
    media_storage = providers.Singleton(
        ObjectMediaStorage, settings.provided.media_storage_url, settings.provided.media_storage_options
    )
    media_retry_policy = providers.Singleton(
        RetryPolicy,
        max_attempts=settings.provided.MEDIA_DOWNLOAD_ATTEMPTS,
        first_delay=providers.Factory(timedelta, seconds=settings.provided.MEDIA_RETRY_SECONDS),
    )
    fetch_inbound_media = providers.Singleton(
        FetchInboundMedia,
        uow_factory,
        providers.Callable(lambda factory: lambda: SqlMediaClaims(factory), session_factory),
        gateway,
        media_storage,
        media_retry_policy,
    )
    read_message_media = providers.Factory(
        ReadMessageMedia, uow_factory, media_storage, providers.Singleton(PillowThumbnails)
    )
    # Files uploaded for sending are kept in the same storage, so the agent's own messages show them too.
    upload_media = providers.Factory(
        UploadMedia, uow_factory, gateway, providers.Factory(KeepUploadedMedia, uow_factory, media_storage)
    )

    # Campaigns: managed through the API, sent by a CampaignSender in every worker (one driver per channel).
    manage_campaigns = providers.Factory(ManageCampaigns, uow_factory, settings.provided.DEFAULT_PHONE_REGION)
    campaign_queue = providers.Singleton(SqlCampaignQueue, session_factory)
    campaign_sender = providers.Singleton(
        CampaignSender,
        campaign_queue,
        gateway,
        providers.Factory(
            SenderSettings, reconcile_seconds=settings.provided.CAMPAIGN_RECONCILE_SECONDS, metrics=metrics
        ),
    )
    campaign_progress = providers.Singleton(PublishCampaignProgress, campaign_queue, uow_factory)

    # Contacts, their CSV imports (run in the background, resumed after a stop) and audiences.
    manage_contacts = providers.Factory(ManageContacts, uow_factory, settings.provided.DEFAULT_PHONE_REGION)
    manage_audiences = providers.Factory(ManageAudiences, uow_factory)
    start_contact_import = providers.Factory(
        StartContactImport,
        uow_factory,
        settings.provided.DEFAULT_PHONE_REGION,
        spreadsheets=providers.Singleton(OpenpyxlReader),
        lease_seconds=settings.provided.CONTACT_IMPORT_LEASE_SECONDS,
    )
    contact_import_jobs = providers.Factory(ContactImportJobs, uow_factory)
    run_contact_import = providers.Factory(
        RunContactImport,
        uow_factory,
        settings.provided.CONTACT_IMPORT_BATCH_SIZE,
        settings.provided.CONTACT_IMPORT_LEASE_SECONDS,
    )
    contact_import_scheduler = providers.Singleton(ContactImportScheduler, uow_factory, run_contact_import)
    export_contacts = providers.Factory(ExportContacts, uow_factory)

    list_conversations = providers.Factory(ListRecords, uow_factory, lambda uow: uow.conversations)
    list_contacts = providers.Factory(ListRecords, uow_factory, lambda uow: uow.contacts)
    list_groups = providers.Factory(ListRecords, uow_factory, lambda uow: uow.groups)
    list_audiences = providers.Factory(ListRecords, uow_factory, lambda uow: uow.audiences)
    list_campaigns = providers.Factory(ListRecords, uow_factory, lambda uow: uow.campaigns)
    list_channels = providers.Factory(ListRecords, uow_factory, lambda uow: uow.channels)


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)
