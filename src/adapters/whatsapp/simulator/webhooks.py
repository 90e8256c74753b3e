"""Signed webhook deliveries, retried like Meta's, and the status timeline that follows each send."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from pywhatsapp.adapters.whatsapp.simulator import payloads
from pywhatsapp.adapters.whatsapp.simulator.state import SentMessage, SimulatorState, WebhookAttempt

USER_AGENT = "facebookexternalua"


def encode_body(payload: dict[str, Any]) -> bytes:
    """Compact JSON with non-ASCII escaped (`\\ud83d` style), the form Meta signs."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign(app_secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` header value: `sha256=` + HMAC-SHA256 hexdigest of the raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def is_retryable(status_code: int | None) -> bool:
    return status_code is None or status_code >= 500 or status_code in (408, 429)


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    status_code: int | None
    attempts: int


class WebhookSender:
    """POSTs webhooks to the configured URL, signed, retrying failures; every attempt is recorded."""

    def __init__(self, state: SimulatorState) -> None:
        self._state = state
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def deliver(
        self, payload: dict[str, Any], *, kind: str, body_type: str, wamid: str | None = None
    ) -> Delivery:
        settings = self._state.settings
        url = settings.webhook_url
        if not url:
            return Delivery(delivered=False, status_code=None, attempts=0)
        body = encode_body(payload)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if settings.app_secret:
            headers["X-Hub-Signature-256"] = sign(settings.app_secret, body)
            headers["X-Hub-Signature"] = (
                "sha1=" + hmac.new(settings.app_secret.encode(), body, hashlib.sha1).hexdigest()
            )
        max_attempts = max(1, settings.webhook_max_attempts)
        delay = settings.webhook_retry_delay
        attempt = 0
        while True:
            attempt += 1
            status_code: int | None = None
            error: str | None = None
            try:
                # Like Meta, webhooks wait their turn for a connection however long the receiver takes:
                # only the request itself times out (a pool wait counted against it dropped hundreds of a
                # campaign's statuses when the app took them in slowly).
                response = await self._http().post(
                    url,
                    content=body,
                    headers=headers,
                    timeout=httpx.Timeout(settings.webhook_timeout, pool=None),
                )
                status_code = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            delivered = status_code is not None and 200 <= status_code < 300
            self._state.webhooks.append(
                WebhookAttempt(
                    url=url,
                    kind=kind,
                    body_type=body_type,
                    attempt=attempt,
                    status_code=status_code,
                    error=error,
                    delivered=delivered,
                    signed=bool(settings.app_secret),
                    wamid=wamid,
                    at=time.time(),
                    payload=payload,
                )
            )
            if delivered or not is_retryable(status_code) or attempt >= max_attempts:
                return Delivery(delivered=delivered, status_code=status_code, attempts=attempt)
            await asyncio.sleep(delay)
            delay *= 2

    async def send_status(
        self, message: SentMessage, status: str, *, errors: list[dict[str, Any]] | None = None
    ) -> Delivery:
        settings = self._state.settings
        value = payloads.status_value(
            phone_number_id=message.phone_number_id,
            display_phone_number=settings.display_number_for(message.phone_number_id),
            wamid=message.wamid,
            status=status,
            recipient_wa_id=message.wa_id,
            recipient_user_id=message.user_id,
            timestamp=payloads.now(),
            category=message.category,
            biz_opaque_callback_data=message.biz_opaque_callback_data,
            errors=errors,
        )
        return await self.deliver(
            payloads.envelope(settings.waba_id, "messages", value),
            kind="status",
            body_type=f"statuses.{status}",
            wamid=message.wamid,
        )

    async def status_timeline(self, message: SentMessage) -> None:
        """sent, delivered, read at `status_delays` after the send.

        A reaction only gets `sent`, as at Meta."""
        settings = self._state.settings
        statuses = ["sent"] if message.type == "reaction" else ["sent", "delivered"]
        if settings.auto_read and message.type != "reaction":
            statuses.append("read")
        for status, delay in zip(statuses, settings.status_delays, strict=False):
            await asyncio.sleep(max(0.0, message.received_at + delay - time.time()))
            await self.send_status(message, status)

    async def review_template(self, template: dict[str, Any], delay: float) -> None:
        """Approve a PENDING template after `delay`, announcing it like Meta does."""
        await asyncio.sleep(delay)
        if template.get("status") != "PENDING" or self._state.template(template["id"]) is not template:
            return
        template["status"] = "APPROVED"
        await self.send_template_status(template, "APPROVED")

    async def send_template_status(
        self, template: dict[str, Any], event: str, reason: str | None = None
    ) -> Delivery:
        return await self.deliver(
            payloads.envelope(
                self._state.waba_of(template),
                "message_template_status_update",
                payloads.template_status_value(template, event, reason),
            ),
            kind="template_status",
            body_type=f"message_template_status_update.{event}",
        )
