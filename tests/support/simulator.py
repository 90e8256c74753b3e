"""The Cloud API simulator on a free local port, and a webhook receiver that records and checks signatures.

Both run under uvicorn in a thread with its own event loop, like `live_server.LiveServer`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import uvicorn
from litestar import Litestar, Request, Response, get, post
from litestar.types import ASGIApp

from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings, create_simulator_app


def customer_number() -> str:
    """A fresh E.164 number (digits only) for a simulated customer."""
    return "1555" + str(uuid4().int)[:7]


class ThreadedServer:
    """An ASGI app served by uvicorn on 127.0.0.1:<free port> in a daemon thread."""

    def __init__(self, app: ASGIApp) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_config=None, lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start; see the log above")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


class SimulatorServer(ThreadedServer):
    def __init__(self, settings: SimulatorSettings) -> None:
        super().__init__(create_simulator_app(settings))
        self.settings = settings
        self._control = httpx.Client(base_url=f"{self.url}/_simulator/", timeout=10)

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._control.close()
        self.stop()

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call to the control API (`/_simulator/...`), synchronous."""
        return self._control.request(method, path.lstrip("/"), **kwargs)

    def reset(self) -> None:
        self.control("POST", "reset").raise_for_status()

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every background webhook (status timelines, template reviews) has gone out."""
        deadline = time.monotonic() + timeout
        while self.control("GET", "health").json()["pending_deliveries"]:
            if time.monotonic() > deadline:
                raise AssertionError(f"webhooks still pending after {timeout}s")
            time.sleep(0.01)


@dataclass(frozen=True)
class ReceivedWebhook:
    raw: bytes
    headers: dict[str, str]
    signature_valid: bool
    at: float

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.raw)
        return data

    @property
    def change(self) -> dict[str, Any]:
        change: dict[str, Any] = self.payload["entry"][0]["changes"][0]
        return change

    @property
    def value(self) -> dict[str, Any]:
        value: dict[str, Any] = self.change["value"]
        return value

    @property
    def status(self) -> dict[str, Any] | None:
        statuses = self.value.get("statuses")
        return statuses[0] if statuses else None

    @property
    def message(self) -> dict[str, Any] | None:
        messages = self.value.get("messages")
        return messages[0] if messages else None


class WebhookReceiver(ThreadedServer):
    """Records every webhook POSTed to `/webhook`, checking `X-Hub-Signature-256` against the app secret.

    It answers 200, or the statuses queued with `fail_next`; GET answers Meta's hub.challenge handshake.
    """

    def __init__(self, app_secret: str, verify_token: str | None = None) -> None:
        self.app_secret = app_secret
        self.verify_token = verify_token
        self._lock = threading.Lock()
        self._received: list[ReceivedWebhook] = []
        self._planned: deque[int] = deque()
        super().__init__(self._build_app())

    def __enter__(self) -> WebhookReceiver:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook"

    def _build_app(self) -> Litestar:
        @post("/webhook", status_code=200)
        async def receive(request: Request[Any, Any, Any]) -> Response[str]:
            raw = await request.body()
            expected = "sha256=" + hmac.new(self.app_secret.encode(), raw, hashlib.sha256).hexdigest()
            signature = request.headers.get("x-hub-signature-256", "")
            with self._lock:
                self._received.append(
                    ReceivedWebhook(
                        raw=raw,
                        headers=dict(request.headers),
                        signature_valid=hmac.compare_digest(expected, signature),
                        at=time.monotonic(),
                    )
                )
                status = self._planned.popleft() if self._planned else 200
            return Response(content="", status_code=status, media_type="text/plain")

        @get("/webhook")
        async def challenge(request: Request[Any, Any, Any]) -> Response[str]:
            params = request.query_params
            if params.get("hub.mode") == "subscribe" and params.get("hub.verify_token") == self.verify_token:
                return Response(content=params.get("hub.challenge", ""), media_type="text/plain")
            return Response(content="forbidden", status_code=403, media_type="text/plain")

        return Litestar([receive, challenge], openapi_config=None)

    def fail_next(self, *statuses: int) -> None:
        """Answer the next webhooks with these statuses (then 200 again)."""
        with self._lock:
            self._planned.extend(statuses)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._planned.clear()

    @property
    def received(self) -> list[ReceivedWebhook]:
        with self._lock:
            return list(self._received)

    async def wait_for(
        self, predicate: Callable[[ReceivedWebhook], bool], *, count: int = 1, timeout: float = 5.0
    ) -> list[ReceivedWebhook]:
        """The received webhooks matching `predicate`, once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [hook for hook in self.received if predicate(hook)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(found)} of {count} expected webhooks after {timeout}s; got {self.received!r}"
                )
            await asyncio.sleep(0.01)

    async def statuses_of(self, wamid: str, *, count: int, timeout: float = 5.0) -> list[ReceivedWebhook]:
        """The status webhooks about `wamid`, once `count` have arrived."""
        return await self.wait_for(
            lambda hook: hook.status is not None and hook.status["id"] == wamid, count=count, timeout=timeout
        )
