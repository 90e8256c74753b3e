"""Faults injected into the next Graph API calls: latency, HTTP 500, a Meta error, a dropped reply."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from pywhatsapp.adapters.whatsapp.simulator.errors import graph_error, server_error
from pywhatsapp.adapters.whatsapp.simulator.state import Fault, SimulatorState

DROPPED_PROMISED_LENGTH = 4096
DROPPED_PREFIX = b'{"messaging_product":"whatsapp",'


async def _discard(_message: Message) -> None:
    return None


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _send_json(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content).encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(end)


async def _send_broken_response(send: Send) -> None:
    """Start a reply, send part of it and stop: the server then closes the connection mid-body, and
    the client sees a failed request (httpx: RemoteProtocolError), never a response."""
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(DROPPED_PROMISED_LENGTH).encode()),
        ],
    }
    part: HTTPResponseBodyEvent = {"type": "http.response.body", "body": DROPPED_PREFIX, "more_body": True}
    await send(start)
    await send(part)


class FaultInjection(ASGIMiddleware):
    """Gives the next Graph API calls (`/v<N>/...`) the faults queued through POST /_simulator/faults.

    - latency: waits `seconds`, then answers normally;
    - http_500: HTTP 500 with Meta's transient-error envelope (code 2); nothing is processed;
    - error: Meta's error envelope for `code` with Meta's HTTP status for it; nothing is processed;
    - drop: the call is processed (a send gets its wamid and its status webhooks) but the reply is cut off
      after a few bytes and the connection closed (uvicorn logs "ASGI callable returned without completing
      response"; the client gets a transport error such as httpx.RemoteProtocolError).

    `match` in a fault limits it to paths containing that text (e.g. "/messages"). Media downloads (the
    attachments URL of a media node) get a fault only when its `match` names them (e.g. "attachments").
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, state: SimulatorState) -> None:
        self._state = state

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        fault = self._state.take_fault(scope["path"])
        if fault is None:
            await next_app(scope, receive, send)
            return
        await self._inject(fault, scope, receive, send, next_app)

    @staticmethod
    async def _inject(fault: Fault, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if fault.kind == "latency":
            await asyncio.sleep(fault.seconds)
            await next_app(scope, receive, send)
        elif fault.kind == "http_500":
            await _drain(receive)
            error = server_error()
            await _send_json(send, fault.http_status or error.status_code, error.body)
        elif fault.kind == "error":
            await _drain(receive)
            error = graph_error(
                fault.code if fault.code is not None else 131000, http_status=fault.http_status
            )
            await _send_json(send, error.status_code, error.body)
        else:
            await next_app(scope, receive, _discard)
            await _send_broken_response(send)
