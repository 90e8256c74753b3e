"""Event webhooks for integrations: signed, at least once, in order per conversation, retried, disabled
after failures, re-enabled; queued in the same transaction as the events they announce."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, Response, post

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.webhooks.signature import sign
from tests.integration.conftest import add_tenant_with_user, token_for
from tests.support.live_server import LiveServer
from tests.support.simulator import ThreadedServer

pytestmark = pytest.mark.postgres
APP_SECRET = "meta-app-secret"


class Receiver(ThreadedServer):
    """An integration's endpoint: records what it gets; can be told to fail the next N deliveries."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], dict[str, str], bytes]] = []
        self.fail_next = 0
        self._lock = threading.Lock()

        @post("/hook", status_code=200)
        async def hook(request: Request[Any, Any, Any]) -> Response[str]:
            raw = await request.body()
            with self._lock:
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return Response("busy", status_code=503)
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
