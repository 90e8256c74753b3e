"""Sandbox mode: with no WhatsApp token configured, the Cloud API simulator is served at `/_sandbox`.

The app's own gateway talks to it as it would to Meta, and it answers with signed webhooks, so a
newcomer can chat with simulated customers right after install: make one write with
`POST /_sandbox/_simulator/customers/<number>/messages {"type": "text", "text": {"body": "Hi"}}`.
"""

from __future__ import annotations

from litestar.handlers import ASGIRouteHandler, asgi
from litestar.types import Receive, Scope, Send

from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings, create_simulator_app
from pywhatsapp.entrypoints.settings import Settings

SANDBOX_PATH = "/_sandbox"
SANDBOX_PHONE_NUMBER_ID = "1122334455667"
SANDBOX_WABA_ID = "1234567890987654321"
SANDBOX_TOKEN = "sandbox-token"


def sandbox_mount(settings: Settings) -> ASGIRouteHandler:
    simulator = create_simulator_app(
        SimulatorSettings(
            webhook_url=settings.SANDBOX_WEBHOOK_URL,
            app_secret=settings.sandbox_app_secret,
            phone_number_id=SANDBOX_PHONE_NUMBER_ID,
            waba_id=SANDBOX_WABA_ID,
            verified_name="PyWhatsApp Sandbox",
        )
    )

    @asgi(
        SANDBOX_PATH,
        is_mount=True,
        copy_scope=True,
        include_in_schema=False,
        exclude_from_auth=True,
        exclude_from_csrf=True,
    )
    async def cloud_api_simulator(scope: Scope, receive: Receive, send: Send) -> None:
        await simulator(scope, receive, send)

    return cloud_api_simulator
