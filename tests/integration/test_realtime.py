"""`/ws` live events across processes and workers, its authentication, and slow or vanished clients.

Webhooks are posted as Meta posts them (raw body, `X-Hub-Signature-256` with the channel's app secret);
the events travel through PostgreSQL NOTIFY from whichever process handled the webhook to the sockets of
every process. Each socket is used only after the server answered its `ping` (its subscription is live).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from tests.integration.conftest import PASSWORD, add_tenant_with_user, token_for
from tests.support.live_server import LiveServer
from tests.support.processes import RunningProcess, command_env, console_script, free_port
from tests.support.realtime import (
    EventStream,
    SilentSocket,
    child_pids,
    of_type,
    post_signed,
    process_holding,
    text_webhook,
    unsent_bytes,
    ws_url,
)

pytestmark = pytest.mark.postgres

JWT_SECRET = "realtime-tests-jwt-secret-0123456789abcdef"
SESSION_SECRET = "realtime-tests-session-secret-0123456789ab"


def digits(length: int = 15) -> str:
    return str(uuid4().int)[:length]


def new_wamid() -> str:
    return f"wamid.test-{uuid4().hex}"


@dataclass
class Tenant:
    tenant_id: UUID
    username: str
    token: str
    phone_number_id: str
    app_secret: str

    def webhook(self, text: str, *, wa_id: str | None = None) -> tuple[dict[str, Any], str, str]:
        """A signed-to-be body of one customer text to this tenant's number: (body, wamid, wa_id)."""
        wamid, customer = new_wamid(), wa_id or "1555" + digits(7)
        return text_webhook(self.phone_number_id, customer, text, wamid=wamid), wamid, customer


async def tenant_with_channel(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, slug: str
) -> Tenant:
    """A tenant, its owner signed in, and a channel with an app secret, made through `client`'s app."""
    member = await add_tenant_with_user(uow_factory, f"{slug}-{uuid4().hex[:6]}")
    token = await token_for(client, member.username)
    tenant = Tenant(member.tenant_id, member.username, token, digits(), f"app-secret-{uuid4().hex}")
    created = await client.post(
        "/api/v1/channels",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "phone_number_id": tenant.phone_number_id,
            "access_token": "EAAG-test-token",
            "app_secret": tenant.app_secret,
            "waba_id": digits(18),
        },
    )
    assert created.status_code == 201, created.text
    return tenant


async def deliver(client: httpx.AsyncClient, tenant: Tenant, text: str) -> tuple[str, str]:
    """POST one customer text to `client`'s app; (wamid, wa_id) once it answered 200 (after commit)."""
    body, wamid, wa_id = tenant.webhook(text)
    response = await post_signed(client, body, tenant.app_secret)
    assert response.status_code == 200, response.text
    return wamid, wa_id


def app_env(database_url: str, log_dir: Path) -> dict[str, str]:
    return command_env(
        DATABASE_URL=database_url,
        JWT_SECRET_KEY=JWT_SECRET,
        SESSION_SECRET_KEY=SESSION_SECRET,
        PASSWORD_HASH_ROUNDS="4",
        WHATSAPP_TOKEN="x",  # not sandbox mode
        PYWHATSAPP_LOG_DIR=str(log_dir),
        LOG_LEVEL="WARNING",
    )


@dataclass
class AppProcess:
    process: RunningProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_uvicorn(name: str, database_url: str, tmp_path: Path) -> AppProcess:
    port = free_port()
    process = RunningProcess(
        [sys.executable, "-m", "uvicorn", "pywhatsapp.entrypoints.http.asgi:app", "--port", str(port)],
        env=app_env(database_url, tmp_path / name),
        cwd=tmp_path,
        log=tmp_path / f"{name}.log",
    )
    return AppProcess(process, port)


@pytest.fixture
def two_processes(database_url: str, tmp_path: Path) -> Iterator[tuple[AppProcess, AppProcess]]:
    """Two separate `uvicorn ...asgi:app` processes on the same database (started side by side)."""
    first, second = start_uvicorn("a", database_url, tmp_path), start_uvicorn("b", database_url, tmp_path)
    try:
        for app in (first, second):
            app.process.wait_ready(f"{app.url}/readyz", timeout=60)
        yield first, second
    finally:
        for app in (first, second):
            assert app.process.stop() == 0, app.process.output()


@pytest.fixture
async def streams() -> AsyncIterator[list[EventStream]]:
    """Every stream a test opens goes here, and is closed at the end whatever happened."""
    opened: list[EventStream] = []
    yield opened
    await asyncio.gather(*(stream.close() for stream in opened))


# --- across processes and workers ---------------------------------------------------------------------------


async def test_an_event_handled_by_one_process_reaches_a_subscriber_on_another_and_no_other_tenant(
    two_processes: tuple[AppProcess, AppProcess],
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    streams: list[EventStream],
) -> None:
    a, b = two_processes
    async with httpx.AsyncClient(base_url=a.url, timeout=30) as client_a:
        north = await tenant_with_channel(client_a, uow_factory, "north")
        south = await tenant_with_channel(client_a, uow_factory, "south")
        north_on_b = await EventStream.open(b.url, token=north.token)
        south_on_b = await EventStream.open(b.url, token=south.token)
        south_on_a = await EventStream.open(a.url, token=south.token)
        streams.extend([north_on_b, south_on_b, south_on_a])

        posted = time.monotonic()
        wamid, wa_id = await deliver(client_a, north, "Hello from the north")

        (incoming,) = await north_on_b.wait_for(of_type("message_incoming", wamid=wamid), timeout=5)
        (updated,) = await north_on_b.wait_for(of_type("conversation_updated", wa_id=wa_id), timeout=5)
        assert time.monotonic() - posted < 5
        assert incoming["tenant_id"] == updated["tenant_id"] == str(north.tenant_id)
        assert incoming["data"]["text"] == "Hello from the north" and incoming["data"]["wa_id"] == wa_id
        assert updated["data"]["unread_count"] == 1
        await asyncio.gather(south_on_b.assert_quiet(1.0), south_on_a.assert_quiet(1.0))

        # The other tenant's subscribers were listening all along: they get their own tenant's events.
        south_wamid, _ = await deliver(client_a, south, "Hello from the south")
        for stream in (south_on_b, south_on_a):
            (event,) = await stream.wait_for(of_type("message_incoming", wamid=south_wamid), timeout=5)
            assert event["tenant_id"] == str(south.tenant_id)
            assert event["data"]["text"] == "Hello from the south"
        await north_on_b.assert_quiet(0.3)
        assert [e["type"] for e in north_on_b.events] == ["message_incoming", "conversation_updated"]


async def open_streams(base_url: str, token: str, count: int) -> list[EventStream]:
    """`count` sockets opened at the same moment (so that both workers' accept loops take some)."""
    return list(await asyncio.gather(*(EventStream.open(base_url, token=token) for _ in range(count))))


async def test_with_two_workers_every_socket_receives_every_event(
    database_url: str,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    tmp_path: Path,
    streams: list[EventStream],
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = RunningProcess(
        [console_script(), "serve", "--port", str(port), "--workers", "2"],
        env=app_env(database_url, tmp_path / "logs"),
        cwd=tmp_path,
        log=tmp_path / "serve.log",
    )
    try:
        server.wait_ready(f"{base}/readyz", timeout=60)
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            shop = await tenant_with_channel(client, uow_factory, "workers")
            # Six sockets at once; if the kernel gave them all to one worker, more while that one is paused.
            workers = child_pids(server.process.pid)
            streams.extend(await open_streams(base, shop.token, 6))
            holders = {process_holding(port, s.connection.local_address[1], workers) for s in streams}
            if len(holders) == 1 and (busy := holders.pop()) is not None:
                os.kill(busy, signal.SIGSTOP)
                try:
                    streams.extend(await open_streams(base, shop.token, 3))
                finally:
                    os.kill(busy, signal.SIGCONT)
            holders = {process_holding(port, s.connection.local_address[1], workers) for s in streams}
            if sys.platform == "linux":  # /proc tells which worker holds each socket
                assert len(holders - {None}) == 2, f"the workers holding the sockets: {holders}"

            sent = [await deliver(client, shop, f"update {n}") for n in range(5)]

            texts = [f"update {n}" for n in range(5)]
            for stream in streams:
                incoming = await stream.wait_for(of_type("message_incoming"), count=5, timeout=5)
                assert [e["data"]["text"] for e in incoming] == texts
                assert [e["data"]["wamid"] for e in incoming] == [wamid for wamid, _ in sent]
                updated = await stream.wait_for(of_type("conversation_updated"), count=5, timeout=5)
                assert {e["data"]["wa_id"] for e in updated} == {wa_id for _, wa_id in sent}
                assert all(e["tenant_id"] == str(shop.tenant_id) for e in stream.events)
    finally:
        assert server.stop() == 0, server.output()


# --- authentication -----------------------------------------------------------------------------------------


def tampered(token: str) -> str:
    """The token with one character of its signature changed."""
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    swapped = "A" if signature[middle] != "A" else "B"
    return ".".join([header, payload, signature[:middle] + swapped + signature[middle + 1 :]])


async def refused_status(url: str, **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(url, open_timeout=10, **kwargs)
    status: int = refused.value.response.status_code
    return status


async def test_sockets_need_a_valid_token_or_session_and_use_its_tenant(
    live_server: LiveServer,
    client: httpx.AsyncClient,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    streams: list[EventStream],
) -> None:
    shop = await tenant_with_channel(client, uow_factory, "auth")

    assert await refused_status(ws_url(live_server.url)) == 403
    assert await refused_status(ws_url(live_server.url, f"token={tampered(shop.token)}")) == 403
    assert await refused_status(ws_url(live_server.url), subprotocols=["bearer", tampered(shop.token)]) == 403
    assert await refused_status(ws_url(live_server.url, "token=not-a-jwt")) == 403
    stranger = await tenant_with_channel(client, uow_factory, "stranger")
    assert (
        await refused_status(
            ws_url(live_server.url, f"token={shop.token}"),
            additional_headers={"X-Tenant-Id": str(stranger.tenant_id)},
        )
        == 403
    )

    by_query = await EventStream.open(live_server.url, token=shop.token)
    by_subprotocol = await EventStream.open(live_server.url, bearer_subprotocol=shop.token)
    streams.extend([by_query, by_subprotocol])
    assert by_subprotocol.connection.subprotocol == "bearer"

    # The session cookie of the login form (a browser's credential); no token, no X-Tenant-Id.
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as browser:
        form = await browser.get("/login")
        csrf = form.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
        signed_in = await browser.post(
            "/login",
            data={"username": shop.username, "password": PASSWORD, "next": "/chat", "_csrf_token": csrf},
        )
        assert signed_in.status_code in (302, 303), signed_in.text
        cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    by_cookie = await EventStream.open(live_server.url, cookie=cookie)
    streams.append(by_cookie)

    wamid, _ = await deliver(client, shop, "Can everyone hear me?")

    for stream in (by_query, by_subprotocol, by_cookie):
        (event,) = await stream.wait_for(of_type("message_incoming", wamid=wamid), timeout=5)
        assert event["tenant_id"] == str(shop.tenant_id)


# --- slow and vanished clients ------------------------------------------------------------------------------


async def test_a_client_that_never_reads_slows_no_one_and_abrupt_closes_leave_the_server_healthy(
    live_server: LiveServer,
    client: httpx.AsyncClient,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    streams: list[EventStream],
) -> None:
    shop = await tenant_with_channel(client, uow_factory, "slow")
    silent = SilentSocket(live_server.url, shop.token)
    reader = await EventStream.open(live_server.url, token=shop.token)
    streams.append(reader)
    customer = "1555" + digits(7)

    total = 300
    for n in range(total):
        body, _, _ = shop.webhook(f"burst {n:03d}", wa_id=customer)
        response = await post_signed(client, body, shop.app_secret)
        assert response.status_code == 200, response.text

    incoming = await reader.wait_for(of_type("message_incoming"), count=total, timeout=20)
    assert [e["data"]["text"] for e in incoming] == [f"burst {n:03d}" for n in range(total)]
    updated = await reader.wait_for(of_type("conversation_updated"), count=total, timeout=5)
    assert [e["data"]["unread_count"] for e in updated] == list(range(1, total + 1))
    if sys.platform == "linux":  # the silent client really held the server's writes to it back
        assert unsent_bytes(live_server.port, silent.local_port) > 0

    silent.abort()
    reader.abort()
    assert (await client.get("/readyz")).status_code == 200
    fresh = await EventStream.open(live_server.url, token=shop.token)
    streams.append(fresh)
    wamid, _ = await deliver(client, shop, "still there?")
    (event,) = await fresh.wait_for(of_type("message_incoming", wamid=wamid), timeout=5)
    assert event["data"]["text"] == "still there?"
