"""Faults, each stated as what was lost: nothing.

- PostgreSQL restarted while Meta delivers a few hundred messages at once: every webhook answered during
  the outage is a 503 (never a 500), Meta's retries go on until they get a 200, and every message ends up
  stored exactly once (one row, one unread count).
- The app's process killed (SIGKILL) in the middle of a CSV import: the job keeps exactly the rows of its
  committed batches (its `processed` position and report say which), a new app process resumes it once the
  dead one's lease ran out, and at the end every row is stored once: none lost, none doubled.
- Meta slow to answer during a campaign (the simulator holds some sends' answers for 1.5 s): every recipient
  is sent exactly once, counted at the simulator, with one attempt each (a slow answer is not a lost one).

The other faults of the list are tested where their feature is: the simulator's 5xx, throttling and dropped
replies during a campaign in `test_campaigns.py`, a worker killed mid-campaign in `test_campaign_workers.py`.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pywhatsapp.adapters.persistence import migrations
from pywhatsapp.adapters.persistence.database import async_url, create_session_factory
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from tests.integration.conftest import add_tenant_with_user, make_settings, token_for
from tests.integration.test_contact_import import MAPPING, big_csv, poll_until_finished, start_import
from tests.support import campaigns
from tests.support.live_server import LiveServer
from tests.support.meta_samples import sign
from tests.support.postgres import create_database
from tests.support.private_postgres import PrivatePostgres
from tests.support.processes import RunningProcess, command_env, free_port
from tests.support.realtime import text_webhook
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres

APP_SECRET = "faults-app-secret-0123456789abcdef"


def digits(length: int = 15) -> str:
    return str(uuid4().int)[:length]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(sa.text(sql), params)).scalar()


# --- PostgreSQL restarted during webhook load ----------------------------------------------------------


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    with PrivatePostgres() as server:
        yield server


@pytest.fixture
def private_database(private_postgres: PrivatePostgres) -> str:
    url = create_database(private_postgres.url, prefix="pywhatsapp_faults")
    migrations.upgrade(url)
    return url


class Meta:
    """Meta's delivery of webhooks: each body is posted until it gets a 2xx, backing off between tries."""

    def __init__(self, client: httpx.AsyncClient, app_secret: str, *, milestone: int) -> None:
        self.client = client
        self.app_secret = app_secret
        self.answers: Counter[int] = Counter()
        self.delivered = 0
        self._milestone = milestone
        self.milestone_reached = asyncio.Event()

    async def deliver(self, body: dict[str, Any], deadline: float) -> None:
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, self.app_secret)}
        backoff = 0.1
        while True:
            response = await self.client.post("/webhooks", content=raw, headers=headers)
            self.answers[response.status_code] += 1
            if response.is_success:
                self.delivered += 1
                if self.delivered >= self._milestone:
                    self.milestone_reached.set()
                return
            assert time.monotonic() < deadline, (
                f"still {response.status_code} at the deadline: {response.text}"
            )
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 1.0)


async def test_postgresql_restarted_during_webhook_load_loses_no_message_and_stores_none_twice(
    private_postgres: PrivatePostgres, private_database: str
) -> None:
    messages, customers, concurrency = 300, 12, 16
    settings = make_settings(private_database)
    engine = create_async_engine(async_url(private_database), pool_size=2)
    with LiveServer(settings) as server:
        try:
            # The test's own connections: the server's pool belongs to the server thread's event loop.
            uow_factory = SqlAlchemyUnitOfWorkFactory(create_session_factory(engine))
            member = await add_tenant_with_user(uow_factory, f"restart-{uuid4().hex[:6]}")
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
                token = await token_for(client, member.username)
                phone_number_id = digits()
                created = await client.post(
                    "/api/v1/channels",
                    headers=bearer(token),
                    json={
                        "phone_number_id": phone_number_id,
                        "access_token": "EAAG-test-token",
                        "app_secret": APP_SECRET,
                        "waba_id": digits(18),
                    },
                )
                assert created.status_code == 201, created.text

                wa_ids = [f"4917{n:08d}" for n in range(customers)]
                wamids = [f"wamid.restart.{uuid4().hex}" for _ in range(messages)]
                bodies = [
                    text_webhook(
                        phone_number_id,
                        wa_ids[n % customers],
                        f"message {n}",
                        wamid=wamid,
                        timestamp=1_700_000_000 + n,
                    )
                    for n, wamid in enumerate(wamids)
                ]
                meta = Meta(client, APP_SECRET, milestone=messages // 3)
                gate = asyncio.Semaphore(concurrency)
                deadline = time.monotonic() + 120

                async def one(body: dict[str, Any]) -> None:
                    async with gate:
                        await meta.deliver(body, deadline)

                load = [asyncio.create_task(one(body)) for body in bodies]
                await meta.milestone_reached.wait()
                # The restart, in the middle of the load: a fast shutdown ends every session at once.
                await asyncio.to_thread(private_postgres.stop)
                stopped_at = meta.delivered
                await asyncio.sleep(3)
                await asyncio.to_thread(private_postgres.start)
                await asyncio.gather(*load)
        finally:
            server_log = private_postgres.log()
        await engine.dispose()  # the test's own pooled connections did not survive the restart either
        try:
            assert stopped_at < messages, "the load was over before the restart"
            assert meta.delivered == messages
            # During the outage the app said "try again later", never "I failed".
            assert set(meta.answers) <= {200, 503}, (meta.answers, server_log[-2000:])
            assert meta.answers[503] > 0, "no webhook came while PostgreSQL was down"

            stored = await scalar(
                engine,
                "SELECT count(*) FROM messages WHERE tenant_id = :t AND wamid = ANY(:w)",
                t=member.tenant_id,
                w=wamids,
            )
            distinct = await scalar(
                engine,
                "SELECT count(DISTINCT wamid) FROM messages WHERE tenant_id = :t",
                t=member.tenant_id,
            )
            assert (stored, distinct) == (messages, messages), "a message was lost or stored twice"
            # Side effects once per message too: the inbox counts each message unread exactly once.
            unread = await scalar(
                engine, "SELECT sum(unread_count) FROM conversations WHERE tenant_id = :t", t=member.tenant_id
            )
            assert unread == messages
            conversations = await scalar(
                engine, "SELECT count(*) FROM conversations WHERE tenant_id = :t", t=member.tenant_id
            )
            assert conversations == customers
        finally:
            await engine.dispose()


# --- the app killed during a CSV import ----------------------------------------------------------------


def start_app(name: str, database_url: str, tmp_path: Path, **env: str) -> tuple[RunningProcess, str]:
    """`uvicorn pywhatsapp.entrypoints.http.asgi:app`, as an installation runs it, in its own process."""
    port = free_port()
    process = RunningProcess(
        [sys.executable, "-m", "uvicorn", "pywhatsapp.entrypoints.http.asgi:app", "--port", str(port)],
        env=command_env(
            DATABASE_URL=database_url,
            JWT_SECRET_KEY="faults-tests-jwt-secret-0123456789abcdef",
            SESSION_SECRET_KEY="faults-tests-session-secret-0123456789ab",
            PASSWORD_HASH_ROUNDS="4",
            WHATSAPP_TOKEN="x",
            GRAPH_API_URL="http://127.0.0.1:9",
            CAMPAIGN_SENDER_IN_SERVE="false",
            PYWHATSAPP_LOG_DIR=str(tmp_path / name),
            LOG_LEVEL="WARNING",
            **env,
        ),
        cwd=tmp_path,
        log=tmp_path / f"{name}.log",
    )
    url = f"http://127.0.0.1:{port}"
    process.wait_ready(f"{url}/readyz", timeout=90)
    return process, url


async def import_state(engine: AsyncEngine, tenant_id: UUID) -> tuple[dict[str, Any], set[str]]:
    """The job's stored position and counts, and the numbers of the contacts stored."""
    async with engine.connect() as connection:
        job = (
            await connection.execute(
                sa.text(
                    "SELECT status, processed, created, updated, rejected, lease_owner, report"
                    " FROM contact_imports WHERE tenant_id = :t"
                ),
                {"t": tenant_id},
            )
        ).one()
        numbers = (
            await connection.execute(
                sa.text("SELECT wa_id FROM contacts WHERE tenant_id = :t"), {"t": tenant_id}
            )
        ).scalars()
        return dict(job._mapping), set(numbers)


def stored_number(n: int) -> str:
    """The WhatsApp id the good data row `n` of `big_csv` stores (each is `phone(n)`, in some format)."""
    return f"1415555{n:04d}"


async def test_the_app_killed_mid_import_keeps_its_committed_rows_and_a_new_process_finishes_it(
    database_url: str, uow_factory: SqlAlchemyUnitOfWorkFactory, tmp_path: Path
) -> None:
    rows = 3000
    env = {"CONTACT_IMPORT_BATCH_SIZE": "20", "CONTACT_IMPORT_LEASE_SECONDS": "3"}
    member = await add_tenant_with_user(uow_factory, f"killed-{uuid4().hex[:6]}")
    text, expected_report = big_csv(rows)
    rejected_rows = {r["row"] for r in expected_report}
    engine = create_async_engine(async_url(database_url), pool_size=2)
    try:
        first, first_url = start_app("first", database_url, tmp_path, **env)
        try:
            async with httpx.AsyncClient(base_url=first_url, timeout=30) as client:
                headers = bearer(await token_for(client, member.username))
                job = await start_import(client, headers, text, MAPPING)
                while True:
                    current = (
                        await client.get(f"/api/v1/contacts/imports/{job['id']}", headers=headers)
                    ).json()
                    if current["data"]["processed"] >= 400:
                        break
                    await asyncio.sleep(0.01)
            first.process.send_signal(signal.SIGKILL)  # no shutdown at all: the lease stays taken
            first.process.wait(timeout=10)
        finally:
            first.stop()

        halfway, stored = await import_state(engine, member.tenant_id)
        assert halfway["status"] == "running" and halfway["lease_owner"] is not None, halfway
        processed = halfway["processed"]
        assert 400 <= processed < rows, halfway
        # The job says exactly which rows are stored: every good row before its position, no other.
        stored_by_position = {stored_number(n) for n in range(processed) if n + 2 not in rejected_rows}
        assert stored == stored_by_position
        assert halfway["created"] == len(stored)
        assert [r["row"] for r in halfway["report"]] == sorted(r for r in rejected_rows if r - 2 < processed)

        second, second_url = start_app("second", database_url, tmp_path, **env)
        try:
            async with httpx.AsyncClient(base_url=second_url, timeout=30) as client:
                headers = bearer(await token_for(client, member.username))
                done, seen = await poll_until_finished(client, headers, job["id"], timeout=90)
        finally:
            assert second.stop() == 0, second.output()
        assert min(seen) >= processed, "the resumed import started over"
        assert done["status"] == "completed", done
        assert (done["processed"], done["created"], done["updated"], done["rejected"]) == (
            rows,
            rows - len(expected_report),
            0,  # no row was written twice: a second write of a row would count as an update
            len(expected_report),
        )
        assert [r["row"] for r in done["report"]] == [r["row"] for r in expected_report]
        _, stored = await import_state(engine, member.tenant_id)
        assert stored == {stored_number(n) for n in range(rows) if n + 2 not in rejected_rows}
        assert len(stored) == rows - len(expected_report)
    finally:
        await engine.dispose()


# --- Meta slow to answer during a campaign ------------------------------------------------------------------


@pytest.fixture
def slow_meta(database_url: str) -> Iterator[tuple[SimulatorServer, LiveServer]]:
    """The simulator as Meta, and an app that sends campaigns (inside `serve`) through it."""
    with SimulatorServer(SimulatorSettings(app_secret=campaigns.APP_SECRET, auto_read=True)) as simulator:
        settings = make_settings(database_url, GRAPH_API_URL=simulator.url, CAMPAIGN_SENDER_IN_SERVE="true")
        with LiveServer(settings) as app:
            simulator.control(
                "POST", "config", json={"webhook_url": f"{app.url}/webhooks"}
            ).raise_for_status()
            yield simulator, app
            simulator.settle(timeout=60)  # no status webhook may outlive the app


async def test_meta_slow_to_answer_during_a_campaign_still_sends_every_recipient_exactly_once(
    slow_meta: tuple[SimulatorServer, LiveServer], uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    simulator, app = slow_meta
    member = await add_tenant_with_user(uow_factory, f"slow-{uuid4().hex[:6]}")
    recipients, slow, seconds = campaigns.numbers(40), 6, 1.5
    async with httpx.AsyncClient(base_url=app.url, timeout=60) as client:
        token = await token_for(client, member.username)
        shop = await campaigns.open_shop(client, simulator, app.url, token, member.tenant_id, rate=1000)
        shop.fault(kind="latency", seconds=seconds, count=slow)  # the next 6 sends: answered after 1.5 s
        started = time.monotonic()
        campaign = await shop.create(
            name="Slow Meta",
            template_name="spring_sale",
            language="en_US",
            recipients={"phone_numbers": recipients},
            start=True,
        )
        await shop.wait_status(campaign["id"], "completed")
        took = time.monotonic() - started

        # Every fault was taken: the campaign did meet the slow answers, and waited them out.
        assert simulator.control("GET", "faults").json()["pending"] == []
        assert took >= seconds
        # Counted at "Meta": each recipient exactly once.
        per_number = shop.sends_per_number()
        assert set(per_number) == set(recipients) and set(per_number.values()) == {1}, per_number
        # A slow answer is not a lost one: one attempt per recipient, none failed, every one read.
        listed = await client.get(
            f"/api/v1/campaigns/{campaign['id']}/recipients", params={"limit": 100}, headers=shop.auth
        )
        assert listed.status_code == 200, listed.text
        assert [r["attempts"] for r in listed.json()["data"]["items"]] == [1] * len(recipients)
        done = await shop.wait_counts(campaign["id"], read=len(recipients))
        assert done["counts"]["failed"] == 0 and done["counts"]["total"] == len(recipients)
