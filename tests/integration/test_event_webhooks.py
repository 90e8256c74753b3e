"""Event webhooks for integrations: signed, at least once, in order per conversation, retried, disabled
after failures, re-enabled; queued in the same transaction as the events they announce; every attempt in the
delivery log (status, the start of the answer, latency), removed after 30 days; a campaign's completion
announced."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar, Request, Response, post
from sqlalchemy.ext.asyncio import AsyncEngine

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from pywhatsapp.domain.webhooks.signature import sign
from tests.integration.conftest import add_tenant_with_user, make_settings, token_for
from tests.support import campaigns
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer, ThreadedServer

pytestmark = pytest.mark.postgres
APP_SECRET = "meta-app-secret"


class Receiver(ThreadedServer):
    """An integration's endpoint: records what it gets; can be told to fail the next N deliveries."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], dict[str, str], bytes]] = []
        self.fail_next = 0
        self.fail_status = 503
        self.fail_body = "busy"
        self._lock = threading.Lock()

        @post("/hook", status_code=200)
        async def hook(request: Request[Any, Any, Any]) -> Response[str]:
            raw = await request.body()
            with self._lock:
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return Response(self.fail_body, status_code=self.fail_status)
                self.received.append((json.loads(raw), dict(request.headers), raw))
            return Response("ok", status_code=200)

        super().__init__(Litestar(route_handlers=[hook], logging_config=None))

    def __enter__(self) -> Receiver:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def _inbound(wamid: str, wa_id: str, text: str) -> bytes:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1234567890987654321",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550001111",
                                "phone_number_id": "1122334455667",
                            },
                            "contacts": [{"profile": {"name": "Alice"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body).encode()


async def _wait(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_events_reach_the_integration_signed_in_order_and_survive_failures(
    live_server: LiveServer,
    client: httpx.AsyncClient,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    receiver: Receiver,
) -> None:
    owner = await add_tenant_with_user(uow_factory, "acme")
    headers = {"Authorization": f"Bearer {await token_for(client, owner.username)}"}
    channel = await client.post(
        "/api/v1/channels",
        headers=headers,
        json={"phone_number_id": "1122334455667", "access_token": "t", "app_secret": APP_SECRET},
    )
    assert channel.status_code == 201
    live_server.container.channel_directory().forget()
    created = await client.post(
        "/api/v1/event-webhooks",
        headers=headers,
        json={"url": f"{receiver.url}/hook", "events": ["message_incoming", "conversation_updated"]},
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()["data"]
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    listed = (await client.get("/api/v1/event-webhooks", headers=headers)).json()["data"]["items"]
    assert "secret" not in listed[0]

    receiver.fail_next = 2  # the integration is down for the first two attempts
    for number in range(3):
        raw = _inbound(f"wamid.ev{number}", "15557654321", f"message {number}")
        answer = await client.post(
            "/webhooks", content=raw, headers={"X-Hub-Signature-256": sign(raw, APP_SECRET)}
        )
        assert answer.status_code == 200
    await _wait(lambda: len(receiver.received) >= 6, timeout=60)

    texts = [body["data"]["text"] for body, _, _ in receiver.received if body["type"] == "message_incoming"]
    assert texts == ["message 0", "message 1", "message 2"], "in order per conversation, despite the retries"
    for body, received_headers, raw in receiver.received:
        expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        assert received_headers["x-pywhatsapp-signature"] == expected
        assert body["tenant_id"] == str(owner.tenant_id) and body["id"]
    ids = [body["id"] for body, _, _ in receiver.received]
    assert len(ids) == len(set(ids))

    log = (await client.get(f"/api/v1/event-webhooks/{endpoint['id']}/deliveries", headers=headers)).json()[
        "data"
    ]
    assert log["total"] == 6
    assert {item["state"] for item in log["items"]} == {"delivered"}
    assert any(item["attempts"] > 1 and item["last_status_code"] == 200 for item in log["items"])

    other = await add_tenant_with_user(uow_factory, "globex")
    other_headers = {"Authorization": f"Bearer {await token_for(client, other.username)}"}
    assert (await client.get("/api/v1/event-webhooks", headers=other_headers)).json()["data"]["total"] == 0
    hidden = await client.get(f"/api/v1/event-webhooks/{endpoint['id']}/deliveries", headers=other_headers)
    assert hidden.status_code == 404


async def test_a_rolled_back_event_is_never_delivered_and_bad_endpoints_are_refused(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, receiver: Receiver
) -> None:
    owner = await add_tenant_with_user(uow_factory, "acme")
    headers = {"Authorization": f"Bearer {await token_for(client, owner.username)}"}
    for bad in (
        {"url": "ftp://x.example/hook", "events": ["message_incoming"]},
        {"url": f"{receiver.url}/hook", "events": ["nonsense"]},
        {"url": f"{receiver.url}/hook", "events": []},
    ):
        refused = await client.post("/api/v1/event-webhooks", headers=headers, json=bad)
        assert refused.status_code in (400, 422), refused.text

    created = await client.post(
        "/api/v1/event-webhooks",
        headers=headers,
        json={"url": f"{receiver.url}/hook", "events": ["reaction"]},
    )
    assert created.status_code == 201
    from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent

    async with uow_factory(owner.tenant_id) as uow:
        await uow.events.publish(RealtimeEvent(EventType.REACTION, owner.tenant_id, {"id": "rolled-back"}))
        await uow.rollback()
    async with uow_factory(owner.tenant_id) as uow:
        await uow.events.publish(RealtimeEvent(EventType.REACTION, owner.tenant_id, {"id": "committed"}))
        await uow.commit()
    await _wait(lambda: len(receiver.received) >= 1)
    await asyncio.sleep(1.0)
    assert [body["data"]["id"] for body, _, _ in receiver.received] == ["committed"]


async def test_an_endpoint_that_keeps_failing_is_disabled_and_can_be_re_enabled(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, receiver: Receiver
) -> None:
    from pywhatsapp.domain.integrations import event_webhook

    owner = await add_tenant_with_user(uow_factory, "acme")
    headers = {"Authorization": f"Bearer {await token_for(client, owner.username)}"}
    created = await client.post(
        "/api/v1/event-webhooks",
        headers=headers,
        json={"url": f"{receiver.url}/missing", "events": ["reaction"]},
    )
    endpoint_id = created.json()["data"]["id"]
    from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent

    async with uow_factory(owner.tenant_id) as uow:
        for number in range(event_webhook.DISABLE_AFTER_FAILURES):
            await uow.events.publish(RealtimeEvent(EventType.REACTION, owner.tenant_id, {"id": f"r{number}"}))
        await uow.commit()

    async def disabled() -> bool:
        items = (await client.get("/api/v1/event-webhooks", headers=headers)).json()["data"]["items"]
        return not items[0]["is_active"]

    deadline = time.monotonic() + 60
    while not await disabled():
        assert time.monotonic() < deadline, "the failing endpoint was never disabled"
        await asyncio.sleep(0.2)
    items = (await client.get("/api/v1/event-webhooks", headers=headers)).json()["data"]["items"]
    assert "disabled after" in items[0]["disabled_reason"] and "404" in items[0]["disabled_reason"]
    enabled = await client.post(f"/api/v1/event-webhooks/{endpoint_id}/enable", headers=headers)
    assert enabled.status_code == 200 and enabled.json()["data"]["is_active"] is True
    assert enabled.json()["data"]["consecutive_failures"] == 0


def test_the_worker_command_delivers_the_queue_without_a_web_server(
    empty_database: str, receiver: Receiver, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from pywhatsapp.domain.identity.principal import Principal
    from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent
    from pywhatsapp.domain.tenancy.membership import Role
    from pywhatsapp.entrypoints.cli.main import cli
    from pywhatsapp.entrypoints.container import build_container
    from tests.integration.conftest import make_settings

    monkeypatch.chdir(tmp_path)
    env = {
        "DATABASE_URL": empty_database,
        "PASSWORD_HASH_ROUNDS": "4",
        "WHATSAPP_TOKEN": "x",
        "EVENT_WEBHOOKS_ALLOW_PRIVATE": "true",  # the receiver listens on 127.0.0.1
        # The same secrets key as the container below: endpoint secrets are stored encrypted.
        "SESSION_SECRET_KEY": make_settings(empty_database).SESSION_SECRET_KEY,
    }
    assert CliRunner().invoke(cli, ["setup"], env=env, catch_exceptions=False).exit_code == 0

    async def queue_an_event() -> None:
        container = build_container(make_settings(empty_database, WHATSAPP_TOKEN="x"))
        container.init_resources()
        settings = container.settings()
        tenant_id = settings.DEFAULT_TENANT_ID
        owner = Principal(
            user_id=tenant_id,
            username="ops",
            tenant_id=tenant_id,
            tenant_slug="default",
            tenant_name="Default",
            role=Role.OWNER,
        )
        await container.manage_event_endpoints().create(
            owner, url=f"{receiver.url}/hook", events=["reaction"]
        )
        async with container.uow_factory()(tenant_id) as uow:
            await uow.events.publish(RealtimeEvent(EventType.REACTION, tenant_id, {"id": "from-the-worker"}))
            await uow.commit()
        await container.engine().dispose()
        container.shutdown_resources()

    asyncio.run(queue_an_event())
    result = CliRunner().invoke(cli, ["worker", "--once"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Attempted 1 event deliveries" in result.output
    assert [body["data"]["id"] for body, _, _ in receiver.received] == ["from-the-worker"]


# --- the delivery log: every attempt ------------------------------------------------------------------------


async def _event_endpoint(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, events: list[str]
) -> str:
    created = await client.post(
        "/api/v1/event-webhooks", headers=headers, json={"url": url, "events": events}
    )
    assert created.status_code == 201, created.text
    endpoint_id: str = created.json()["data"]["id"]
    return endpoint_id


async def _deliveries(client: httpx.AsyncClient, headers: dict[str, str], endpoint_id: str) -> list[Any]:
    answer = await client.get(f"/api/v1/event-webhooks/{endpoint_id}/deliveries", headers=headers)
    assert answer.status_code == 200, answer.text
    items: list[Any] = answer.json()["data"]["items"]
    return items


async def test_every_attempt_is_logged_with_its_status_answer_and_latency(
    client: httpx.AsyncClient,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pywhatsapp.domain.integrations import event_webhook
    from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent

    # The schedule itself is pinned by tests/unit/test_event_webhook_backoff.py; here retries come quickly.
    monkeypatch.setattr(event_webhook, "FIRST_RETRY", timedelta(milliseconds=100))
    owner = await add_tenant_with_user(uow_factory, "acme")
    headers = {"Authorization": f"Bearer {await token_for(client, owner.username)}"}
    endpoint_id = await _event_endpoint(client, headers, f"{receiver.url}/hook", ["reaction"])

    receiver.fail_next, receiver.fail_status = 2, 500
    receiver.fail_body = "overloaded " + "x" * 3000  # more than the KB that is kept
    async with uow_factory(owner.tenant_id) as uow:
        await uow.events.publish(RealtimeEvent(EventType.REACTION, owner.tenant_id, {"id": "r1"}))
        await uow.commit()
    await _wait(lambda: len(receiver.received) >= 1, timeout=30)

    async def settled() -> list[Any]:
        deadline = time.monotonic() + 15
        while True:  # the 200 is recorded just after the receiver has answered it
            items = await _deliveries(client, headers, endpoint_id)
            if items and items[0]["state"] == "delivered":
                return items
            assert time.monotonic() < deadline, items
            await asyncio.sleep(0.1)

    (delivery,) = await settled()
    assert delivery["attempts"] == 3
    assert (delivery["last_status_code"], delivery["last_error"]) == (200, None), "the last attempt's fields"
    log = delivery["attempt_log"]
    assert [a["number"] for a in log] == [1, 2, 3]
    assert [a["status_code"] for a in log] == [500, 500, 200]
    assert [a["response_body"] for a in log] == [receiver.fail_body[:1024]] * 2 + ["ok"]
    assert all(a["error"] is None and a["latency_ms"] >= 0 for a in log)
    assert log[-1]["latency_ms"] == delivery["last_latency_ms"]
    assert log[0]["attempted_at"] < log[1]["attempted_at"] < log[2]["attempted_at"]

    one = await client.get(
        f"/api/v1/event-webhooks/{endpoint_id}/deliveries/{delivery['id']}", headers=headers
    )
    assert one.status_code == 200, one.text
    assert one.json()["data"] == delivery, "one delivery reads as it does in the log"
    missing = await client.get(f"/api/v1/event-webhooks/{endpoint_id}/deliveries/{uuid4()}", headers=headers)
    assert missing.status_code == 404

    other = await add_tenant_with_user(uow_factory, "globex")
    other_headers = {"Authorization": f"Bearer {await token_for(client, other.username)}"}
    hidden = await client.get(
        f"/api/v1/event-webhooks/{endpoint_id}/deliveries/{delivery['id']}", headers=other_headers
    )
    assert hidden.status_code == 404
    assert delivery["id"] not in hidden.text
    # ... nor through an endpoint of its own
    theirs = await _event_endpoint(client, other_headers, f"{receiver.url}/hook", ["reaction"])
    hidden = await client.get(
        f"/api/v1/event-webhooks/{theirs}/deliveries/{delivery['id']}", headers=other_headers
    )
    assert hidden.status_code == 404


async def test_the_log_shows_network_errors_and_the_20_latest_attempts_of_a_delivery(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pywhatsapp.domain.integrations import event_webhook
    from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent

    monkeypatch.setattr(event_webhook, "FIRST_RETRY", timedelta(milliseconds=10))
    monkeypatch.setattr(event_webhook, "MAX_RETRY_DELAY", timedelta(milliseconds=20))
    owner = await add_tenant_with_user(uow_factory, "acme")
    headers = {"Authorization": f"Bearer {await token_for(client, owner.username)}"}
    with socket.socket() as closed_port:  # bound, never listening: every connection is refused
        closed_port.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed_port.getsockname()[1]}/hook"
        endpoint_id = await _event_endpoint(client, headers, url, ["reaction"])
        async with uow_factory(owner.tenant_id) as uow:
            await uow.events.publish(RealtimeEvent(EventType.REACTION, owner.tenant_id, {"id": "r1"}))
            await uow.commit()
        deadline = time.monotonic() + 60
        while not (items := await _deliveries(client, headers, endpoint_id))[0]["attempts"] >= 23:
            assert time.monotonic() < deadline, items
            await asyncio.sleep(0.2)
        removed = await client.delete(f"/api/v1/event-webhooks/{endpoint_id}", headers=headers)
        assert removed.status_code == 200  # no more attempts while the log is read
        await asyncio.sleep(0.5)  # a round that claimed it before may still record one

    (delivery,) = await _deliveries(client, headers, endpoint_id)
    made = delivery["attempts"]
    log = delivery["attempt_log"]
    assert [a["number"] for a in log] == list(range(made - 19, made + 1)), "the 20 latest, oldest first"
    assert all(a["status_code"] is None and a["response_body"] is None for a in log)
    assert all(a["error"].startswith("ConnectError") and a["latency_ms"] >= 0 for a in log)
    assert (delivery["last_status_code"], delivery["last_error"]) == (None, log[-1]["error"])
    whole = await client.get(
        f"/api/v1/event-webhooks/{endpoint_id}/deliveries/{delivery['id']}", headers=headers
    )
    assert [a["number"] for a in whole.json()["data"]["attempt_log"]] == list(range(1, made + 1))


@asynccontextmanager
async def _engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A short-lived engine on the test database (outside the app), for what the API cannot do."""
    from pywhatsapp.adapters.persistence.database import create_engine

    engine = create_engine(database_url, pool_size=1, max_overflow=1)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_attempts_older_than_the_retention_are_removed_at_most_hourly(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, receiver: Receiver, database_url: str
) -> None:
    from pywhatsapp.adapters.integrations.http_sender import HttpEventSender
    from pywhatsapp.adapters.persistence.database import create_session_factory
    from pywhatsapp.adapters.persistence.delivery_queue import SqlDeliveryQueue
    from pywhatsapp.application.integrations.deliver_events import DeliverEvents
    from pywhatsapp.domain.integrations.event_webhook import ATTEMPT_RETENTION
    from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent

    owner = await add_tenant_with_user(uow_factory, "acme")
    headers = {"Authorization": f"Bearer {await token_for(client, owner.username)}"}
    endpoint_id = await _event_endpoint(client, headers, f"{receiver.url}/hook", ["reaction"])
    async with uow_factory(owner.tenant_id) as uow:
        for number in range(3):
            await uow.events.publish(RealtimeEvent(EventType.REACTION, owner.tenant_id, {"id": f"r{number}"}))
        await uow.commit()
    await _wait(lambda: len(receiver.received) >= 3)
    await _wait_all_delivered(client, headers, endpoint_id, 3)

    async def age(delivery_id: str, by: timedelta) -> None:
        async with _engine(database_url) as engine, engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "UPDATE event_delivery_attempts SET attempted_at = now() - CAST(:by AS interval)"
                    " WHERE delivery_id = :id"
                ),
                {"id": UUID(delivery_id), "by": by},
            )

    newest, middle, oldest = await _deliveries(client, headers, endpoint_id)
    await age(oldest["id"], ATTEMPT_RETENTION + timedelta(minutes=1))
    await age(middle["id"], ATTEMPT_RETENTION - timedelta(minutes=1))
    async with _engine(database_url) as engine:
        sender = HttpEventSender()
        worker = DeliverEvents(lambda: SqlDeliveryQueue(create_session_factory(engine)), sender)
        try:
            assert await worker.run_once() == 0  # nothing due; its first round prunes
            logs = {d["id"]: d["attempt_log"] for d in await _deliveries(client, headers, endpoint_id)}
            assert logs[oldest["id"]] == [], "older than the retention: removed"
            assert len(logs[middle["id"]]) == len(logs[newest["id"]]) == 1, "within the retention: kept"
            listed = {d["id"]: d for d in await _deliveries(client, headers, endpoint_id)}
            assert listed[oldest["id"]]["attempts"] == 1 and listed[oldest["id"]]["last_status_code"] == 200

            await age(middle["id"], ATTEMPT_RETENTION + timedelta(minutes=1))
            await worker.run_once()  # within the hour: no second DELETE
            logs = {d["id"]: d["attempt_log"] for d in await _deliveries(client, headers, endpoint_id)}
            assert len(logs[middle["id"]]) == 1
            assert await worker.prune_attempts() == 1  # when it is due, it goes
        finally:
            await sender.close()


async def _wait_all_delivered(
    client: httpx.AsyncClient, headers: dict[str, str], endpoint_id: str, count: int
) -> list[Any]:
    deadline = time.monotonic() + 15
    while True:
        items = await _deliveries(client, headers, endpoint_id)
        if len(items) == count and {d["state"] for d in items} == {"delivered"}:
            return items
        assert time.monotonic() < deadline, items
        await asyncio.sleep(0.1)


# --- a campaign's completion reaches the integration --------------------------------------------------------


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=campaigns.APP_SECRET)) as sim:
        yield sim


@pytest.fixture(scope="module")
def app(database_url: str, simulator: SimulatorServer) -> Iterator[LiveServer]:
    """An app that sends campaigns (to the simulator) and delivers event webhooks."""
    settings = make_settings(database_url, GRAPH_API_URL=simulator.url, CAMPAIGN_SENDER_IN_SERVE="true")
    with LiveServer(settings) as server:
        simulator.control("POST", "config", json={"webhook_url": f"{server.url}/webhooks"}).raise_for_status()
        yield server


async def test_a_completed_campaign_is_announced_to_a_registered_endpoint(
    app: LiveServer,
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    receiver: Receiver,
) -> None:
    simulator.settle()
    simulator.reset()
    member = await add_tenant_with_user(uow_factory, f"shop-{uuid4().hex[:8]}")
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        token = await token_for(client, member.username)
        shop = await campaigns.open_shop(client, simulator, app.url, token, member.tenant_id, rate=1000)
        endpoint_id = await _event_endpoint(client, shop.auth, f"{receiver.url}/hook", ["campaign_completed"])
        recipients = campaigns.numbers(3)
        campaign = await shop.create(
            name="Announced",
            template_name="spring_sale",
            language="en_US",
            recipients={"phone_numbers": ["+" + n for n in recipients]},
            start=True,
        )
        await shop.wait_status(campaign["id"], "completed", timeout=60)
        await _wait(lambda: len(receiver.received) >= 1, timeout=30)

        (body, received_headers, _raw), *more = receiver.received
        assert more == [], "only the event type the endpoint asked for"
        assert received_headers["x-pywhatsapp-event"] == "campaign_completed"
        assert body["type"] == "campaign_completed" and body["tenant_id"] == str(member.tenant_id)
        assert body["data"]["id"] == campaign["id"] and body["data"]["name"] == "Announced"
        assert body["data"]["counts"]["total"] == 3
        (delivery,) = await _wait_all_delivered(client, shop.auth, endpoint_id, 1)
        assert delivery["event_type"] == "campaign_completed"
        assert [a["status_code"] for a in delivery["attempt_log"]] == [200]
    simulator.settle(timeout=30)
