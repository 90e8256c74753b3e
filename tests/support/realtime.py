"""Clients of the inbox's `/ws` events: one that reads every frame, one that never reads, and signed webhooks.

`EventStream` connects like a browser would (`?token=`, the `bearer` subprotocol or the session cookie),
waits for the server's `pong` to a `ping` (the server answers only once its subscription is in place, so
no event posted afterwards can be missed) and collects every frame in the background for a test to wait on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from tests.support.meta_samples import messages_change, sign, single_change_body, text_message

Event = dict[str, Any]
EventPredicate = Callable[[Event], bool]


def ws_url(base_url: str, query: str = "") -> str:
    return base_url.replace("http://", "ws://", 1) + "/ws" + (f"?{query}" if query else "")


def of_type(kind: str, **data: Any) -> EventPredicate:
    """Events of this type whose `data` has these values."""

    def matches(event: Event) -> bool:
        payload = event.get("data") or {}
        return event.get("type") == kind and all(payload.get(k) == v for k, v in data.items())

    return matches


class EventStream:
    """A `/ws` client that reads every frame in the background; pongs are counted, events are kept."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.events: list[Event] = []
        self.pongs = 0
        self.closed_with: BaseException | None = None
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls,
        base_url: str,
        *,
        token: str | None = None,
        bearer_subprotocol: str | None = None,
        cookie: str | None = None,
        headers: dict[str, str] | None = None,
        ready: bool = True,
    ) -> EventStream:
        """Connect with one credential (or none) and, unless `ready=False`, wait for the subscription."""
        extra = dict(headers or {})
        if cookie is not None:
            extra["Cookie"] = cookie
        connection = await websockets.connect(
            ws_url(base_url, f"token={token}" if token is not None else ""),
            subprotocols=[Subprotocol("bearer"), Subprotocol(bearer_subprotocol)]
            if bearer_subprotocol
            else None,
            additional_headers=extra,
            open_timeout=10,
            close_timeout=2,
        )
        stream = cls(connection)
        if ready:
            await stream.ready()
        return stream

    async def _read(self) -> None:
        try:
            async for frame in self.connection:
                event = json.loads(frame)
                if event.get("type") == "pong":
                    self.pongs += 1
                else:
                    self.events.append(event)
                self._arrived.set()
        except Exception as error:  # the socket closed: waiters see it through `closed_with`
            self.closed_with = error
        finally:
            self._arrived.set()

    async def _until(self, done: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self._reader.done() and not done()):
                raise AssertionError(f"{what()} (socket error: {self.closed_with!r})")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.25))

    async def ready(self, timeout: float = 10.0) -> None:
        """Ping and wait for the pong: the server's subscription to the tenant's events is in place."""
        expected = self.pongs + 1
        await self.connection.send("ping")
        await self._until(lambda: self.pongs >= expected, timeout, lambda: f"no pong after {timeout}s")

    def matching(self, predicate: EventPredicate) -> list[Event]:
        return [event for event in self.events if predicate(event)]

    async def wait_for(
        self, predicate: EventPredicate, *, count: int = 1, timeout: float = 10.0
    ) -> list[Event]:
        """The events matching `predicate`, once at least `count` of them have arrived."""
        await self._until(
            lambda: len(self.matching(predicate)) >= count,
            timeout,
            lambda: (
                f"{len(self.matching(predicate))} of {count} events after {timeout}s; got {self.events!r}"
            ),
        )
        return self.matching(predicate)

    async def assert_quiet(self, seconds: float = 1.0) -> None:
        """No event arrives for `seconds` (a pong at the end shows the socket was alive all along)."""
        before = len(self.events)
        await asyncio.sleep(seconds)
        await self.ready()
        assert self.events[before:] == [], f"unexpected events: {self.events[before:]!r}"

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.connection.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader

    def abort(self) -> None:
        """Drop the TCP connection without a close frame, as a crashed browser tab would."""
        self.connection.transport.abort()
        self._reader.cancel()


class SilentSocket:
    """A WebSocket client that completes the handshake and then never reads a byte.

    Its receive buffer is tiny, so the server's writes to it soon block: the slowest client there is.
    """

    def __init__(self, base_url: str, token: str, *, receive_buffer: int = 4096) -> None:
        address = urlsplit(base_url)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.socket.settimeout(10)
        self.socket.connect((address.hostname or "127.0.0.1", address.port or 80))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws?token={token} HTTP/1.1\r\nHost: {address.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.socket.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = self.socket.recv(1)  # byte by byte: not one byte of a frame beyond the headers
            if not chunk:
                raise AssertionError(f"the server closed the handshake: {answer!r}")
            answer += chunk
        status_line = answer.split(b"\r\n", 1)[0]
        assert b" 101 " in status_line, answer
        self.local_port: int = self.socket.getsockname()[1]

    def abort(self) -> None:
        """Close with a TCP reset (SO_LINGER 0): no close frame, unread data thrown away."""
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.socket.close()


def text_webhook(
    phone_number_id: str,
    wa_id: str,
    text: str,
    *,
    wamid: str,
    name: str = "Alice",
    waba_id: str = "1234567890987654321",
    timestamp: int | None = None,
) -> dict[str, Any]:
    """Meta's body for one text a customer sent to this phone number id."""
    return single_change_body(
        waba_id,
        messages_change(
            phone_number_id,
            messages=[text_message(wamid, wa_id, text, timestamp=timestamp or int(time.time()))],
            names={wa_id: name},
        ),
    )


async def post_signed(client: httpx.AsyncClient, body: dict[str, Any], app_secret: str) -> httpx.Response:
    """POST /webhooks as Meta does: the raw body, signed with the channel's app secret."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    return await client.post(
        "/webhooks",
        content=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, app_secret)},
    )


# --- which process holds a connection (Linux /proc), to show that sockets landed on different workers -------


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is `parent` (uvicorn's workers under `pywhatsapp serve --workers N`)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == parent:
                children.append(int(stat.parent.name))
    return children


def _tcp_lines(server_port: int, client_port: int) -> list[list[str]]:
    """/proc/net/tcp rows of the server side of 127.0.0.1:client_port -> server_port."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if local_port == server_port and remote_port == client_port:
            rows.append(fields)
    return rows


def unsent_bytes(server_port: int, client_port: int) -> int:
    """Bytes the server has written to this connection that the client has not taken yet (tx_queue)."""
    return sum(int(fields[4].split(":")[0], 16) for fields in _tcp_lines(server_port, client_port))


def process_holding(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """Which of `pids` holds the server side of the TCP connection 127.0.0.1:client_port -> server_port."""
    rows = _tcp_lines(server_port, client_port)
    if not rows:
        return None
    inode = rows[-1][9]
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
    return None
