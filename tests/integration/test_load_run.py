"""A bounded load run: Meta's webhooks and the inbox API at once, on `pywhatsapp serve --workers 2`.

For LOAD_SECONDS (20 by default), 32 keep-alive connections post signed webhook bodies (inbound texts from a
few hundred customers, some posted twice as Meta's at-least-once delivery does, and the sent, delivered and
read statuses of as many outgoing messages) while two readers page the conversation list and threads. Then:
no answer other than 2xx, every inbound message stored exactly once, every outgoing message read. The
figures (requests per second, p50 and p99 latencies) are printed for the README's "Measured" section; they
are never asserted, as they depend on the machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from pywhatsapp.adapters.persistence.database import async_url
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from tests.integration.conftest import add_tenant_with_user, token_for
from tests.support.meta_samples import messages_change, single_change_body, status_item, text_message
from tests.support.processes import RunningProcess, command_env, console_script, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.load]

SECONDS = float(os.environ.get("LOAD_SECONDS", "20"))
CONNECTIONS = 32
READERS = 2
CUSTOMERS = 300
APP_SECRET = "load-run-app-secret"
WABA_ID = "1234567890987654321"


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def line(self, what: str, seconds: float) -> str:
        ordered = sorted(self.latencies)
        if not ordered:
            return f"{what}: no requests"
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
        return (
            f"{what}: {len(ordered)} requests in {seconds:.1f}s = {len(ordered) / seconds:.0f}/s, "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, non-2xx {len(self.failures)}"
        )


@dataclass
class Workload:
    """What the posters send, in order: three statuses per outgoing message mixed with inbound texts (every
    tenth posted twice); once the statuses are all out, inbound texts only."""

    phone_number_id: str
    outgoing: list[tuple[str, str]]
    posted_inbound: set[str] = field(default_factory=set)
    posted_status: dict[str, str] = field(default_factory=dict)
    """The furthest status posted for each outgoing message."""
    _statuses: Iterator[tuple[str, str, str]] = field(init=False)
    _count: int = 0
    _again: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Each status once, in Meta's order per message, messages interleaved: a few arrive out of order.
        self._statuses = iter([(w, c, s) for s in ("sent", "delivered", "read") for w, c in self.outgoing])

    def next_body(self) -> bytes:
        self._count += 1
        if self._again:
            return self._again.pop()
        if self._count % 2 == 0:
            status = next(self._statuses, None)
            if status is not None:
                wamid, customer, state = status
                self.posted_status[wamid] = state  # in Meta's order: each later one is further
                return _raw(
                    single_change_body(
                        WABA_ID,
                        messages_change(self.phone_number_id, statuses=[status_item(wamid, state, customer)]),
                    )
                )
        customer = f"4917{random.randrange(CUSTOMERS):07d}"
        wamid = f"wamid.load-{uuid4().hex}"
        raw = _raw(
            single_change_body(
                WABA_ID,
                messages_change(
                    self.phone_number_id,
                    messages=[text_message(wamid, customer, "hello", timestamp=int(time.time()))],
                    names={customer: f"Customer {customer[-3:]}"},
                ),
            )
        )
        self.posted_inbound.add(wamid)
        if self._count % 10 == 1:
            self._again.append(raw)  # Meta delivers at least once: the same body again
        return raw


def _raw(body: dict[str, object]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _request(raw: bytes, port: int) -> bytes:
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    head = (
        f"POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"X-Hub-Signature-256: {signature}\r\nContent-Length: {len(raw)}\r\n\r\n"
    )
    return head.encode() + raw


async def _poster(port: int, work: Workload, deadline: float, figures: Figures) -> None:
    """One keep-alive connection posting webhook bodies as fast as they are answered (plain HTTP/1.1 on a
    socket: an HTTP client library would cost the shared CPUs more than the server's work)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            writer.write(_request(work.next_body(), port))
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            answer = await reader.readexactly(length)
            figures.latencies.append(time.perf_counter() - started)
            if not status_line.startswith(b"HTTP/1.1 2"):
                figures.failures.append(f"{status_line!r} {answer[:200]!r}")
    finally:
        writer.close()


async def _inbox_reader(base_url: str, token: str, deadline: float, figures: Figures) -> None:
    """An agent's screen: the conversation list page by page, and a thread now and then."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:

        async def get(path: str, **params: str | int) -> dict[str, object]:
            started = time.perf_counter()
            response = await client.get(path, params=params)
            figures.latencies.append(time.perf_counter() - started)
            if not response.is_success:
                figures.failures.append(f"GET {path} {response.status_code} {response.text[:200]}")
                return {}
            data: dict[str, object] = response.json()["data"]
            return data

        while time.monotonic() < deadline:
            cursor: str | None = None
            for _ in range(5):  # the first pages of the list, newest first
                page = await get("/api/v1/conversations", limit=50, **({"cursor": cursor} if cursor else {}))
                items = page.get("items") or []
                assert isinstance(items, list)
                if items:
                    chosen = random.choice(items)
                    await get(f"/api/v1/conversations/{chosen['id']}/messages", limit=50)
                cursor = page.get("next_cursor")  # type: ignore[assignment]
                if not cursor or time.monotonic() >= deadline:
                    break


async def _outgoing_messages(
    uow_factory: SqlAlchemyUnitOfWorkFactory, tenant_id: UUID, channel_id: UUID
) -> list[tuple[str, str]]:
    """Messages we "sent" to every customer, for Meta's statuses to move."""
    outgoing = []
    async with uow_factory(tenant_id) as uow:
        for index in range(CUSTOMERS):
            customer, wamid = f"4917{index:07d}", f"wamid.out-{uuid4().hex}"
            await uow.inbox.add_message(
                Message(
                    tenant_id=tenant_id,
                    direction=Direction.OUTGOING,
                    type="text",
                    wa_id=customer,
                    wamid=wamid,
                    channel_id=channel_id,
                    text="Your order shipped",
                    status=MessageStatus.PENDING,
                )
            )
            outgoing.append((wamid, customer))
        await uow.commit()
    return outgoing


async def test_webhooks_and_the_inbox_under_concurrent_load_lose_nothing(
    database_url: str, uow_factory: SqlAlchemyUnitOfWorkFactory, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = command_env(
        DATABASE_URL=database_url,
        PYWHATSAPP_DATA_DIR=str(tmp_path / "data"),
        PYWHATSAPP_LOG_DIR=str(tmp_path / "logs"),
        PASSWORD_HASH_ROUNDS="4",
        WHATSAPP_TOKEN="not-sandbox-mode",
        GRAPH_API_URL="http://127.0.0.1:9",
        LOG_LEVEL="WARNING",
    )
    server = RunningProcess(
        [console_script(), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        log=tmp_path / "serve.log",
    )
    try:
        server.wait_ready(f"{base_url}/readyz", timeout=90)
        member = await add_tenant_with_user(uow_factory, f"load-{uuid4().hex[:8]}")
        phone_number_id = str(10**12 + uuid4().int % 10**12)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            token = await token_for(client, member.username)
            created = await client.post(
                "/api/v1/channels",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "phone_number_id": phone_number_id,
                    "access_token": "EAAG-load-token",
                    "app_secret": APP_SECRET,
                    "waba_id": WABA_ID,
                },
            )
            assert created.status_code == 201, created.text
        channel_id = UUID(created.json()["data"]["id"])
        work = Workload(phone_number_id, await _outgoing_messages(uow_factory, member.tenant_id, channel_id))

        webhooks, inbox = Figures(), Figures()
        started = time.monotonic()
        deadline = started + SECONDS
        await asyncio.gather(
            *(_poster(port, work, deadline, webhooks) for _ in range(CONNECTIONS)),
            *(_inbox_reader(base_url, token, deadline, inbox) for _ in range(READERS)),
        )
        elapsed = time.monotonic() - started
    finally:
        assert server.stop() == 0, server.output()

    print(f"\nload run, {CONNECTIONS} webhook connections and {READERS} inbox readers, 2 workers:")
    print(webhooks.line("POST /webhooks", elapsed))
    print(inbox.line("inbox API (conversations, threads)", elapsed))
    assert webhooks.failures == [], webhooks.failures[:5]
    assert inbox.failures == [], inbox.failures[:5]

    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as connection:
            stored: dict[str, int] = dict(
                (
                    await connection.execute(
                        sa.text(
                            "SELECT wamid, count(*) FROM messages WHERE tenant_id = :tenant"
                            " AND direction = 'incoming' GROUP BY wamid"
                        ),
                        {"tenant": member.tenant_id},
                    )
                ).all()
            )
            statuses: dict[str, str] = dict(
                (
                    await connection.execute(
                        sa.text(
                            "SELECT wamid, status FROM messages WHERE tenant_id = :tenant"
                            " AND direction = 'outgoing'"
                        ),
                        {"tenant": member.tenant_id},
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    print(f"inbound messages posted {len(work.posted_inbound)}, stored {len(stored)}")
    assert set(stored) == work.posted_inbound, "an inbound message was lost or invented"
    assert set(stored.values()) == {1}, "an inbound message was stored twice"
    posted = sum(1 + ("sent", "delivered", "read").index(state) for state in work.posted_status.values())
    print(f"statuses posted {posted}")
    expected = {wamid: work.posted_status.get(wamid, "pending") for wamid, _ in work.outgoing}
    assert statuses == expected, "a status was lost (each message shows the furthest status posted)"
