"""Tell Meta where to send a tenant's webhooks (the app subscription), as PyWA does with a callback URL.

Meta verifies the URL at once (GET /webhooks with hub.challenge and the verify token), so the app must
already be serving when this runs.
"""

from __future__ import annotations

from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.messaging.gateway import WhatsAppGateway
from pywhatsapp.domain.errors import InvalidInput, NotFound

WEBHOOK_FIELDS = (
    "messages",
    "message_template_status_update",
    "message_template_quality_update",
    "template_category_update",
    "account_update",
)


class RegisterWebhook:
    def __init__(self, uow_factory: UnitOfWorkFactory, gateway: WhatsAppGateway) -> None:
        self._uow_factory = uow_factory
        self._gateway = gateway

    async def execute(
        self, tenant_id: UUID, *, callback_url: str, app_id: str, app_secret: str, verify_token: str
    ) -> None:
        if not callback_url.startswith("https://") and not callback_url.startswith("http://127.0.0.1"):
            raise InvalidInput("CALLBACK_URL must be an https:// URL that Meta can reach")
        async with self._uow_factory(tenant_id) as uow:
            channels = [c for c in await uow.channels.list(limit=50) if c.is_active]
        if not channels:
            raise NotFound("The tenant has no active WhatsApp channel to register the webhook with")
        await self._gateway.register_webhook(
            channels[0],
            app_id=app_id,
            app_secret=app_secret,
            callback_url=callback_url,
            verify_token=verify_token,
            fields=WEBHOOK_FIELDS,
        )
