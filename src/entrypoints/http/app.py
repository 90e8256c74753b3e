"""The Litestar application, built from the container (the same one the CLI uses)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Response
from litestar.channels import ChannelsPlugin
from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware.session import SessionMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

import pywhatsapp
from pywhatsapp.adapters.metrics.prometheus import http_metrics_config
from pywhatsapp.adapters.persistence.models import WebSessionRow
from pywhatsapp.adapters.realtime.listener import notify_backend
from pywhatsapp.application.campaigns.background import run_campaign_work
from pywhatsapp.entrypoints.container import Container
from pywhatsapp.entrypoints.http.dependencies import DEPENDENCIES
from pywhatsapp.entrypoints.http.envelope import ErrorEnvelope
from pywhatsapp.entrypoints.http.errors import EXCEPTION_HANDLERS
from pywhatsapp.entrypoints.http.pages import auth as auth_pages
from pywhatsapp.entrypoints.http.pages import campaigns as campaign_pages
from pywhatsapp.entrypoints.http.pages import chat as chat_pages
from pywhatsapp.entrypoints.http.pages import contacts as contact_pages
from pywhatsapp.entrypoints.http.pages import dashboard as dashboard_pages
from pywhatsapp.entrypoints.http.pages import flows as flow_pages
from pywhatsapp.entrypoints.http.pages import groups as group_pages
from pywhatsapp.entrypoints.http.pages import logs as logs_pages
from pywhatsapp.entrypoints.http.pages import qr_codes as qr_code_pages
from pywhatsapp.entrypoints.http.pages import settings as settings_pages
from pywhatsapp.entrypoints.http.pages import template_analytics as template_analytics_pages
from pywhatsapp.entrypoints.http.pages import templates as template_pages
from pywhatsapp.entrypoints.http.pages import typing as typing_pages
from pywhatsapp.entrypoints.http.routes import (
    api_keys,
    audiences,
    auth,
    campaigns,
    channels,
    composer,
    contacts,
    credentials,
    event_webhooks,
    flows,
    groups,
    health,
    inbox,
    media,
    messages,
    metrics,
    qr_codes,
    realtime,
    records,
    sandbox,
    template_analytics,
    templates,
    tenants,
    webhooks,
)
from pywhatsapp.entrypoints.http.security import (
    PUBLIC_PATHS,
    AuthenticationMiddleware,
    RotatingSessionBackend,
)
from pywhatsapp.entrypoints.http.security_headers import security_headers

logger = logging.getLogger(__name__)
CAMPAIGN_STOP_SECONDS = 30.0
HERE = Path(__file__).parent
SWEEP_INTERVAL_SECONDS = 15 * 60
DELIVERY_POLL_SECONDS = 0.5
SESSION_COOKIE = "pywhatsapp_session"
MAX_BODY_BYTES = 2 * 1024 * 1024
SESSION_MAX_AGE_SECONDS = 12 * 60 * 60

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000; includeSubDomains"
PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: blob: https:",
        "media-src 'self' blob: https:",
        # htmx adds its indicator styles inline; no script runs unless it is a file of our own.
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self'",
        "connect-src 'self' ws: wss:",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: https:",
        # The OpenAPI viewers at /docs start with an inline script and load their assets from these CDNs.
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com https://fonts.googleapis.com",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com",
        "font-src 'self' data: https://fonts.gstatic.com",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
DOCS_PATH = "/docs"


ERROR_RESPONSES = {
    status: ResponseSpec(data_container=ErrorEnvelope, description=description, generate_examples=False)
    for status, description in (
        (400, "Malformed request (not JSON, bad characters)"),
        (401, "No valid credential"),
        (403, "Not allowed for this user, role or tenant"),
        (404, "Not found in this tenant"),
        (409, "Conflicts with what is stored or with WhatsApp's rules"),
        (413, "Body too large"),
        (422, "Invalid values"),
        (429, "Throttled; see Retry-After"),
        (503, "Database (or Meta) unavailable; try again"),
    )
}


def _document_error_envelope(config: AppConfig) -> AppConfig:
    """Every error answer is the envelope: say so in the OpenAPI document too (Litestar would describe
    its own `{"status_code", "detail"}` shape for validation errors)."""
    for handler in config.route_handlers:
        if isinstance(handler, HTTPRouteHandler) and handler.include_in_schema:
            handler.responses = {**ERROR_RESPONSES, **(handler.responses or {})}
    return config


def _secure_headers(response: Response[Any]) -> Response[Any]:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    # The content security policy is chosen by path in `security_headers`, on every answer.
    if isinstance(response, Template):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def create_app(container: Container) -> Litestar:
    settings = container.settings()
    production = settings.is_production

    async def sweep_expired() -> None:
        """Expired web sessions and login-attempt windows are deleted now and then, by every worker."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
            try:
                await session_backend.delete_expired()
                await container.login_attempts().forget_expired()
            except Exception:  # the database may be briefly away; the next sweep tries again
                logger.warning("could not sweep expired sessions", exc_info=True)

    async def register_callback_url() -> None:
        """With CALLBACK_URL, FB_APP_ID, FB_APP_SECRET and VERIFY_TOKEN set, subscribe Meta's webhooks to this
        app once it serves (Meta verifies the URL by calling it), as PyWA does at start-up."""
        await asyncio.sleep(1.0)
        try:
            await container.register_webhook().execute(
                settings.DEFAULT_TENANT_ID,
                callback_url=str(settings.CALLBACK_URL),
                app_id=str(settings.FB_APP_ID),
                app_secret=str(settings.FB_APP_SECRET),
                verify_token=str(settings.VERIFY_TOKEN),
            )
            logger.info(
                "webhook subscription registered with Meta", extra={"callback_url": settings.CALLBACK_URL}
            )
        except Exception as error:  # start-up goes on: `pywhatsapp webhooks subscribe` can retry by hand
            logger.warning("could not register the webhook subscription", extra={"error": str(error)})

    async def deliver_event_webhooks() -> None:
        """Every worker works the event delivery queue (SKIP LOCKED shares it out)."""
        deliver = container.deliver_events()
        while True:
            sent = await deliver.run_once()
            await asyncio.sleep(0.05 if sent else DELIVERY_POLL_SECONDS)

    async def fetch_inbound_media() -> None:
        """Every worker downloads queued inbound media after the webhooks were answered."""
        fetch = container.fetch_inbound_media()
        while True:
            fetched = await fetch.run_once()
            await asyncio.sleep(0.05 if fetched else DELIVERY_POLL_SECONDS)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        container.init_resources()
        sweeper = asyncio.create_task(sweep_expired())
        deliveries = asyncio.create_task(deliver_event_webhooks())
        media_downloads = (
            asyncio.create_task(fetch_inbound_media()) if settings.MEDIA_DOWNLOADS_IN_SERVE else None
        )
        # Contact imports: run in this process, and resumed here when their runner stopped or died.
        contact_imports = container.contact_import_scheduler()
        import_resumer = asyncio.create_task(contact_imports.run_forever())
        campaigns_stop = asyncio.Event()
        campaign_work = (
            asyncio.create_task(
                run_campaign_work(container.campaign_sender(), container.campaign_progress(), campaigns_stop)
            )
            if settings.CAMPAIGN_SENDER_IN_SERVE
            else None
        )
        subscribing = (
            settings.CALLBACK_URL and settings.FB_APP_ID and settings.FB_APP_SECRET and settings.VERIFY_TOKEN
        )
        registration = asyncio.create_task(register_callback_url()) if subscribing else None
        try:
            yield
        finally:
            sweeper.cancel()
            deliveries.cancel()
            if media_downloads is not None:
                media_downloads.cancel()
            import_resumer.cancel()
            await contact_imports.stop()  # each job gives its lease up at its last committed batch
            if campaign_work is not None:
                campaigns_stop.set()  # in-flight sends finish and are recorded before the gateway closes
                await asyncio.wait({campaign_work}, timeout=CAMPAIGN_STOP_SECONDS)
            await container.event_sender().close()
            if registration is not None:
                registration.cancel()
            await container.gateway().close()
            await container.engine().dispose()
            container.shutdown_resources()

    session_config = ServerSideSessionConfig(
        key=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=production,
        renew_on_access=True,
    )
    session_backend = RotatingSessionBackend(
        config=session_config, alchemy_config=container.alchemy_config(), model=WebSessionRow
    )
    csrf = CSRFConfig(
        secret=settings.SESSION_SECRET_KEY,
        cookie_name="pywhatsapp_csrf",
        cookie_secure=production,
        cookie_samesite="strict",
        header_name="x-csrftoken",
        # The JSON API authenticates with bearer tokens (never cookies) for unsafe methods, and Meta signs
        # its webhooks: neither can be forged cross-site, so only the pages need CSRF tokens.
        exclude=[r"^/api/", r"^/webhooks$", r"^/flows/data/"],
    )
    return Litestar(
        route_handlers=[
            health.healthz,
            health.readyz,
            metrics.metrics,
            auth.login,
            auth.me,
            *credentials.ROUTES,
            tenants.my_tenants,
            *records.ROUTES,
            *contacts.ROUTES,
            *audiences.ROUTES,
            *groups.ROUTES,
            *qr_codes.ROUTES,
            *composer.ROUTES,
            *typing_pages.ROUTES,
            *template_analytics.ROUTES,
            *templates.ROUTES,
            *flows.ROUTES,
            *campaigns.ROUTES,
            webhooks.verify_subscription,
            webhooks.receive_updates,
            channels.create_channel,
            channels.update_channel,
            realtime.events_socket,
            inbox.list_conversations,
            inbox.list_conversations_legacy,
            inbox.get_conversation,
            inbox.conversation_thread,
            inbox.mark_conversation_read,
            inbox.list_messages,
            inbox.list_webhook_logs,
            inbox.replay_webhook_log,
            messages.send_message,
            messages.send_text,
            messages.upload_media,
            media.message_media,
            api_keys.create_api_key,
            api_keys.list_api_keys,
            api_keys.revoke_api_key,
            event_webhooks.create_event_webhook,
            event_webhooks.list_event_webhooks,
            event_webhooks.event_webhook_deliveries,
            event_webhooks.event_webhook_delivery,
            event_webhooks.enable_event_webhook,
            event_webhooks.remove_event_webhook,
            *auth_pages.ROUTES,
            *chat_pages.ROUTES,
            *dashboard_pages.ROUTES,
            *logs_pages.ROUTES,
            *contact_pages.ROUTES,
            *group_pages.ROUTES,
            *template_analytics_pages.ROUTES,
            *template_pages.ROUTES,
            *flow_pages.ROUTES,
            *qr_code_pages.ROUTES,
            *campaign_pages.ROUTES,
            *settings_pages.ROUTES,
            *([sandbox.sandbox_mount(settings)] if settings.sandbox else []),
            create_static_files_router(
                path="/static", directories=[HERE / "static"], include_in_schema=False
            ),
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            http_metrics_config().middleware,  # first: 401s and 403s are counted too
            DefineMiddleware(SessionMiddleware, backend=session_backend),
            DefineMiddleware(AuthenticationMiddleware, exclude=PUBLIC_PATHS),
        ],
        csrf_config=csrf,
        plugins=[
            ChannelsPlugin(
                backend=notify_backend(lambda: container.database_url()),
                arbitrary_channels_allowed=True,
                # A slow socket drops its oldest events instead of holding up the others.
                subscriber_max_backlog=1000,
                subscriber_backlog_strategy="dropleft",
            )
        ],
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
        openapi_config=OpenAPIConfig(
            title="PyWhatsApp",
            version=pywhatsapp.__version__,
            description="Multi-tenant WhatsApp Business platform. Every answer is an envelope: "
            '{"data": ..., "message": ..., "status": "ok"|"error"}.',
            path="/docs",
            render_plugins=[SwaggerRenderPlugin(path="/"), ScalarRenderPlugin(path="/scalar")],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                }
            ),
            security=[{"BearerToken": []}],
        ),
        state=State({"container": container, "session_backend": session_backend}),
        lifespan=[lifespan],
        on_app_init=[_document_error_envelope],
        after_request=_secure_headers,
        # Every answer, also those of middleware and exception handlers (401, CSRF 403, 404, static files).
        before_send=[
            security_headers(
                # Production is served over HTTPS: browsers must never fall back to plain HTTP.
                {**SECURITY_HEADERS, "Content-Security-Policy": PAGE_CSP}
                | ({"Strict-Transport-Security": HSTS} if production else {}),
                by_path={DOCS_PATH: {"Content-Security-Policy": DOCS_CSP}},
            )
        ],
        request_max_body_size=MAX_BODY_BYTES,
        logging_config=None,
        debug=False,
    )
