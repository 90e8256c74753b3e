"""WhatsApp groups end to end: the app's `/api/v1/groups` calls the simulator's Groups API (a real HTTP
server) through PyWA, the simulator answers as Meta documents and sends the group webhooks back, and the
app stores what a user then sees: the group, its participants, its messages and their statuses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from pywhatsapp.adapters.whatsapp.simulator.webhooks import sign
from tests.integration.conftest import ChannelOwner
from tests.support.api_errors import assert_error
from tests.support.live_server import LiveServer
from tests.support.meta_samples import SAMPLES_DIR
from tests.support.simulator import SimulatorServer, customer_number

pytestmark = pytest.mark.postgres

APP_SECRET = "groups-simulator-secret-0123456789"
PHONE_NUMBER_ID = "1122334455667"
OTHER_PHONE_NUMBER_ID = "2233445566778"
WABA_ID = "1234567890987654321"
SAMPLES = SAMPLES_DIR  # copied into tests/fixtures: no test depends on where the repo sits


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET)) as sim:
        yield sim


class Admin(ChannelOwner):
    def graph_requests(self) -> list[dict[str, Any]]:
        requests: list[dict[str, Any]] = self.sim.control("GET", "groups").json()["requests"]
        return requests

    def sim_group(self, group_id: str) -> dict[str, Any]:
        groups: list[dict[str, Any]] = self.sim.control("GET", "groups").json()["groups"]
        (group,) = [g for g in groups if g["id"] == group_id]
        return group

    async def created_group(self, subject: str = "Buyers club", **extra: Any) -> dict[str, Any]:
        """A group created through the API and confirmed by Meta's lifecycle webhook."""
        created = await self.call("POST", "/api/v1/groups", json={"subject": subject, **extra})
        assert created.status_code == 201, created.text
        group_id = created.json()["data"]["id"]
        active: dict[str, Any] = await eventually(lambda: self._active(group_id))
        return active

    async def _active(self, group_id: str) -> dict[str, Any] | None:
        answer = await self.call("GET", f"/api/v1/groups/{group_id}")
        data: dict[str, Any] = answer.json()["data"]
        return data if data["state"] == "active" else None

    def join(self, group_meta_id: str, wa_id: str) -> dict[str, Any]:
        answer = self.sim.control("POST", f"groups/{group_meta_id}/join", json={"wa_id": wa_id})
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


async def eventually(probe: Callable[[], Awaitable[Any]], timeout: float = 5.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def open_admin(
    client: httpx.AsyncClient,
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    phone_number_id: str,
) -> Admin:
    return await Admin.open(
        client,
        simulator,
        uow_factory,
        slug=f"groups-{uuid4().hex[:8]}",
        phone_number_id=phone_number_id,
        access_token="EAAG-groups",
        app_secret=APP_SECRET,
        waba_id=WABA_ID,
    )


@pytest.fixture
async def admin(
    app_client: httpx.AsyncClient,
    fresh_simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
) -> Admin:
    return await open_admin(app_client, fresh_simulator, uow_factory, PHONE_NUMBER_ID)


# --- create, list, get, sync --------------------------------------------------------------------------------


async def test_creating_a_group_asks_meta_and_meta_confirms_it_by_webhook(admin: Admin) -> None:
    created = await admin.call(
        "POST",
        "/api/v1/groups",
        json={
            "subject": "  Buyers club  ",
            "description": "Early offers",
            "join_approval_mode": "approval_required",
        },
    )
    assert created.status_code == 201, created.text
    pending = created.json()["data"]
    assert (
        pending["state"] == "pending" and pending["group_id"] is None and pending["subject"] == "Buyers club"
    )

    (request,) = [r for r in admin.graph_requests() if r["method"] == "POST"]
    assert request["path"] == f"/v22.0/{PHONE_NUMBER_ID}/groups" or request["path"].endswith(
        f"/{PHONE_NUMBER_ID}/groups"
    )
    assert request["body"] == {
        "messaging_product": "whatsapp",
        "subject": "Buyers club",
        "description": "Early offers",
        "join_approval_mode": "approval_required",
    }

    active = await eventually(lambda: admin._active(pending["id"]))
    (meta_group,) = admin.sim.control("GET", "groups").json()["groups"]
    assert active["group_id"] == meta_group["id"]
    assert active["invite_link"] == meta_group["invite_link"]
    assert active["join_approval_mode"] == "approval_required"
    assert active["participants"] == [] and active["participant_count"] == 0

    listed = await admin.call("GET", "/api/v1/groups")
    assert listed.status_code == 200
    assert [g["id"] for g in listed.json()["data"]["items"]] == [pending["id"]]


async def test_bad_input_is_refused_before_meta_is_called(admin: Admin) -> None:
    assert_error(await admin.call("POST", "/api/v1/groups", json={"subject": "   "}), 422, "subject")
    assert_error(await admin.call("POST", "/api/v1/groups", json={"subject": "x" * 129}), 422, "128")
    assert_error(
        await admin.call("POST", "/api/v1/groups", json={"subject": "ok", "join_approval_mode": "maybe"}),
        422,
        "join_approval_mode",
    )
    assert admin.graph_requests() == []


async def test_get_with_refresh_reads_the_group_and_participants_from_meta(admin: Admin) -> None:
    group = await admin.created_group()
    alice, bob = customer_number(), customer_number()
    admin.join(group["group_id"], alice)
    admin.join(group["group_id"], bob)

    joined = await eventually(lambda: _participants_when(admin, group["id"], 2))
    assert {p["wa_id"] for p in joined} == {alice, bob}

    refreshed = await admin.call("GET", f"/api/v1/groups/{group['id']}", params={"refresh": "true"})
    assert refreshed.status_code == 200, refreshed.text
    assert {p["wa_id"] for p in refreshed.json()["data"]["participants"]} == {alice, bob}
    get = [r for r in admin.graph_requests() if r["method"] == "GET"][-1]
    assert get["path"].endswith(f"/{group['group_id']}")
    assert set(get["query"]["fields"].split(",")) >= {"subject", "participants", "join_approval_mode"}


async def _participants_when(admin: Admin, group_id: str, count: int) -> list[dict[str, Any]] | None:
    answer = await admin.call("GET", f"/api/v1/groups/{group_id}")
    participants: list[dict[str, Any]] = answer.json()["data"]["participants"]
    return participants if len(participants) == count else None


async def test_sync_pulls_the_active_groups_from_meta(admin: Admin) -> None:
    known = await admin.created_group("Made here")
    # A group made at Meta by someone else (no webhook reaches us): only a sync can tell of it.
    admin.sim.control("POST", "config", json={"webhook_url": None}).raise_for_status()
    try:
        made = await admin.client.post(
            f"{admin.sim.url}/v22.0/{PHONE_NUMBER_ID}/groups",
            headers={"Authorization": "Bearer EAAG-groups"},
            json={"messaging_product": "whatsapp", "subject": "Made elsewhere"},
        )
        assert made.status_code == 200, made.text
        admin.sim.settle()
    finally:
        webhook_url = str(admin.client.base_url).rstrip("/") + "/webhooks"
        admin.sim.control("POST", "config", json={"webhook_url": webhook_url}).raise_for_status()
    elsewhere = next(
        g for g in admin.sim.control("GET", "groups").json()["groups"] if g["subject"] == "Made elsewhere"
    )

    synced = await admin.call("POST", "/api/v1/groups/sync")
    assert synced.status_code == 200, synced.text
    assert synced.json()["data"] == {"created": 1, "updated": 1, "channels": 1}
    listing = [r for r in admin.graph_requests() if r["method"] == "GET" and r["path"].endswith("/groups")]
    assert listing[-1]["path"].endswith(f"/{PHONE_NUMBER_ID}/groups")
    assert {"subject", "participants"} <= set(listing[-1]["query"]["fields"].split(","))

    listed = await admin.call("GET", "/api/v1/groups", params={"sync": "true"})
    items = listed.json()["data"]["items"]
    assert {g["group_id"] for g in items} == {known["group_id"], elsewhere["id"]}
    assert {g["subject"] for g in items} == {"Made here", "Made elsewhere"}
    assert all(g["state"] == "active" for g in items)


# --- invite link, settings, participants, join requests, delete --------------------------------------------


async def test_invite_link_get_and_reset(admin: Admin) -> None:
    group = await admin.created_group()
    link = await admin.call("GET", f"/api/v1/groups/{group['id']}/invite-link")
    assert link.status_code == 200, link.text
    assert link.json()["data"]["invite_link"] == group["invite_link"]

    reset = await admin.call("POST", f"/api/v1/groups/{group['id']}/invite-link/reset")
    assert reset.status_code == 200, reset.text
    new_link = reset.json()["data"]["invite_link"]
    assert new_link != group["invite_link"] and new_link == admin.sim_group(group["group_id"])["invite_link"]
    posts = [r for r in admin.graph_requests() if r["path"].endswith("/invite_link")]
    assert [(r["method"], r["body"]) for r in posts] == [
        ("GET", {}),
        ("POST", {"messaging_product": "whatsapp"}),
    ]
    stored = await admin.call("GET", f"/api/v1/groups/{group['id']}")
    assert stored.json()["data"]["invite_link"] == new_link


async def test_settings_change_subject_and_description(admin: Admin) -> None:
    group = await admin.created_group()
    changed = await admin.call(
        "PATCH",
        f"/api/v1/groups/{group['id']}/settings",
        json={"subject": "VIP buyers", "description": "New"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["subject"] == "VIP buyers"
    update = [
        r for r in admin.graph_requests() if r["method"] == "POST" and r["path"].endswith(group["group_id"])
    ]
    assert update[-1]["body"] == {
        "messaging_product": "whatsapp",
        "subject": "VIP buyers",
        "description": "New",
    }
    assert admin.sim_group(group["group_id"])["subject"] == "VIP buyers"
    assert_error(await admin.call("PATCH", f"/api/v1/groups/{group['id']}/settings", json={}), 422)


async def test_removing_participants(admin: Admin) -> None:
    group = await admin.created_group()
    alice, bob = customer_number(), customer_number()
    admin.join(group["group_id"], alice)
    admin.join(group["group_id"], bob)
    await eventually(lambda: _participants_when(admin, group["id"], 2))

    removed = await admin.call(
        "DELETE", f"/api/v1/groups/{group['id']}/participants", json={"wa_ids": [f"+{alice}"]}
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["data"]["removed"] == [alice]
    request = [r for r in admin.graph_requests() if r["method"] == "DELETE"][-1]
    assert request["path"].endswith(f"/{group['group_id']}/participants")
    assert request["body"] == {"messaging_product": "whatsapp", "participants": [{"user": alice}]}
    remaining = await eventually(lambda: _participants_when(admin, group["id"], 1))
    assert [p["wa_id"] for p in remaining] == [bob]
    assert list(admin.sim_group(group["group_id"])["participants"]) == [bob]


async def test_join_requests_listed_approved_and_rejected(admin: Admin) -> None:
    group = await admin.created_group(join_approval_mode="approval_required")
    alice, bob = customer_number(), customer_number()
    first = admin.join(group["group_id"], alice)["join_request_id"]
    second = admin.join(group["group_id"], bob)["join_request_id"]

    listed = await admin.call("GET", f"/api/v1/groups/{group['id']}/join-requests")
    assert listed.status_code == 200, listed.text
    assert {(r["id"], r["wa_id"]) for r in listed.json()["data"]["items"]} == {(first, alice), (second, bob)}

    approved = await admin.call(
        "POST",
        f"/api/v1/groups/{group['id']}/join-requests/approve",
        json={"join_request_ids": [first, "nope"]},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["data"]["done"] == [first]
    assert list(approved.json()["data"]["failed"]) == ["nope"]
    rejected = await admin.call(
        "POST", f"/api/v1/groups/{group['id']}/join-requests/reject", json={"join_request_ids": [second]}
    )
    assert rejected.json()["data"] == {"done": [second], "failed": {}}

    calls = [(r["method"], r["body"]) for r in admin.graph_requests() if r["path"].endswith("/join_requests")]
    assert calls == [
        ("GET", {}),
        ("POST", {"messaging_product": "whatsapp", "join_requests": [first, "nope"]}),
        ("DELETE", {"messaging_product": "whatsapp", "join_requests": [second]}),
    ]
    # The approved person joins (Meta's participants webhook).
    joined = await eventually(lambda: _participants_when(admin, group["id"], 1))
    assert [p["wa_id"] for p in joined] == [alice]


async def test_deleting_a_group(admin: Admin) -> None:
    group = await admin.created_group()
    deleted = await admin.call("DELETE", f"/api/v1/groups/{group['id']}")
    assert deleted.status_code == 200, deleted.text
    request = [r for r in admin.graph_requests() if r["method"] == "DELETE"][-1]
    assert request["path"].endswith(f"/{group['group_id']}")
    assert admin.sim.control("GET", "groups").json()["groups"] == []
    assert_error(await admin.call("GET", f"/api/v1/groups/{group['id']}"), 404)


async def test_meta_errors_are_answered_like_refused_sends(admin: Admin) -> None:
    group = await admin.created_group()
    admin.sim.control(
        "POST", "faults", json={"kind": "error", "code": 131009, "match": "/invite_link"}
    ).raise_for_status()
    assert_error(await admin.call("GET", f"/api/v1/groups/{group['id']}/invite-link"), 422, "131009")
    admin.sim.control("POST", "faults", json={"kind": "drop", "match": "/groups"}).raise_for_status()
    answer = await admin.call("POST", "/api/v1/groups", json={"subject": "Lost"})
    assert answer.status_code == 502 and answer.json()["status"] == "error"


# --- tenants ------------------------------------------------------------------------------------------------


async def test_another_tenant_sees_none_of_it(
    admin: Admin, app: LiveServer, simulator: SimulatorServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    group = await admin.created_group()
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        other = await open_admin(client, simulator, uow_factory, OTHER_PHONE_NUMBER_ID)
        for method, path, body in [
            ("GET", f"/api/v1/groups/{group['id']}", None),
            ("GET", f"/api/v1/groups/{group['id']}/invite-link", None),
            ("POST", f"/api/v1/groups/{group['id']}/invite-link/reset", None),
            ("GET", f"/api/v1/groups/{group['id']}/join-requests", None),
            ("GET", f"/api/v1/groups/{group['id']}/messages", None),
            ("PATCH", f"/api/v1/groups/{group['id']}/settings", {"subject": "Mine now"}),
            ("DELETE", f"/api/v1/groups/{group['id']}/participants", {"wa_ids": [customer_number()]}),
            ("DELETE", f"/api/v1/groups/{group['id']}", None),
        ]:
            assert_error(await other.call(method, path, json=body), 404)
        sent = await other.call("POST", "/api/v1/messages", json={"group_id": group["id"], "text": "hi"})
        assert_error(sent, 404)
        listed = await other.call("GET", "/api/v1/groups")
        assert listed.json()["data"]["items"] == []
    still = await admin.call("GET", f"/api/v1/groups/{group['id']}")
    assert still.json()["data"]["subject"] == "Buyers club"


# --- messages in the group ----------------------------------------------------------------------------------


async def test_a_participant_message_is_stored_with_the_group(admin: Admin) -> None:
    group = await admin.created_group()
    alice = customer_number()
    admin.join(group["group_id"], alice)
    wrote = admin.sim.control(
        "POST",
        f"groups/{group['group_id']}/messages",
        json={"wa_id": alice, "text": "Any discounts?", "name": "Alice"},
    )
    assert wrote.status_code == 200 and wrote.json()["delivered"], wrote.text
    wamid = wrote.json()["wamid"]

    messages = await admin.call("GET", f"/api/v1/groups/{group['id']}/messages")
    assert messages.status_code == 200, messages.text
    (message,) = messages.json()["data"]["items"]
    assert message["wamid"] == wamid and message["group_id"] == group["id"]
    assert (
        message["direction"] == "incoming"
        and message["wa_id"] == alice
        and message["text"] == "Any discounts?"
    )
    filtered = await admin.call("GET", "/api/v1/messages", params={"group_id": group["id"]})
    assert [m["wamid"] for m in filtered.json()["data"]["items"]] == [wamid]
    # Not a one-to-one conversation: the writer's service window stays closed.
    conversations = await admin.call("GET", "/api/v1/conversations")
    assert conversations.json()["data"]["items"] == []


async def test_meta_group_message_sample_is_stored_with_its_group(admin: Admin) -> None:
    """Meta's documented group message webhook (messages[].group_id), as Meta would POST it."""
    group = await admin.created_group()
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Tiago Mingo"}, "wa_id": "16505551234"}],
                            "messages": [
                                {
                                    "from": "16505551234",
                                    "group_id": group["group_id"],
                                    "id": f"wamid.group-sample-{uuid4().hex}",
                                    "timestamp": "1744344496",
                                    "text": {"body": "What does everyone think about this?"},
                                    "type": "text",
                                }
                            ],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }
    raw = json.dumps(body).encode()
    posted = await admin.client.post(
        "/webhooks",
        content=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, raw)},
    )
    assert posted.status_code == 200, posted.text
    messages = await admin.call("GET", f"/api/v1/groups/{group['id']}/messages")
    (message,) = messages.json()["data"]["items"]
    assert message["text"] == "What does everyone think about this?" and message["wa_id"] == "16505551234"
    detail = await admin.call("GET", f"/api/v1/groups/{group['id']}")
    assert [p["wa_id"] for p in detail.json()["data"]["participants"]] == ["16505551234"]


async def test_sending_to_a_group_and_its_statuses(admin: Admin) -> None:
    group = await admin.created_group()
    alice, bob = customer_number(), customer_number()
    admin.join(group["group_id"], alice)
    admin.join(group["group_id"], bob)

    sent = await admin.call(
        "POST",
        "/api/v1/messages",
        json={"group_id": group["id"], "type": "text", "text": {"body": "Sale starts now"}},
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()["data"]
    assert message["group_id"] == group["id"] and message["status"] == "sent"

    (meta_send,) = [m for m in admin.sim.control("GET", "sent").json() if m["wamid"] == message["wamid"]]
    assert meta_send["body"]["recipient_type"] == "group"
    assert meta_send["body"]["to"] == group["group_id"]
    assert meta_send["body"]["text"] == {"body": "Sale starts now"}
    assert meta_send["body"]["biz_opaque_callback_data"] == message["id"]

    async def read() -> dict[str, Any] | None:
        answer = await admin.call("GET", f"/api/v1/groups/{group['id']}/messages")
        (stored,) = answer.json()["data"]["items"]
        return stored if stored["status"] == "read" else None

    stored = await eventually(read)
    assert stored["wamid"] == message["wamid"]
    statuses = [
        w
        for w in admin.sim.control("GET", "webhooks").json()
        if w["wamid"] == message["wamid"] and w["kind"] == "status"
    ]
    read_hook = next(w for w in statuses if w["body_type"] == "statuses.read")["payload"]
    items = read_hook["entry"][0]["changes"][0]["value"]["statuses"]
    assert {s["recipient_participant_id"] for s in items} == {alice, bob}
    assert {s["recipient_type"] for s in items} == {"group"}


async def test_group_sends_are_checked(admin: Admin) -> None:
    group = await admin.created_group()
    assert_error(
        await admin.call(
            "POST", "/api/v1/messages", json={"group_id": group["id"], "to": customer_number(), "text": "x"}
        ),
        422,
    )
    assert_error(
        await admin.call(
            "POST",
            "/api/v1/messages",
            json={
                "group_id": group["id"],
                "type": "interactive",
                "interactive": {"type": "button", "action": {"x": 1}},
            },
        ),
        422,
        "group",
    )
    assert_error(
        await admin.call("POST", "/api/v1/messages", json={"group_id": str(uuid4()), "text": "x"}), 404
    )
    admin.sim.control("POST", f"groups/{group['group_id']}/suspend", json={}).raise_for_status()
    await eventually(lambda: _suspended(admin, group["id"]))
    assert_error(
        await admin.call("POST", "/api/v1/messages", json={"group_id": group["id"], "text": "x"}),
        409,
        "suspended",
    )


async def _suspended(admin: Admin, group_id: str) -> bool:
    answer = await admin.call("GET", f"/api/v1/groups/{group_id}")
    return bool(answer.json()["data"]["suspended"])


def test_the_status_sample_for_groups_exists() -> None:
    """The shared sample of a group status (recipient_type group) parses as a status of a group."""
    from pywhatsapp.domain.webhooks.meta_payload import parse_webhook_body
    from pywhatsapp.domain.webhooks.updates import StatusUpdate

    (update,) = parse_webhook_body(json.loads((SAMPLES / "message_status" / "group.json").read_text()))
    assert isinstance(update, StatusUpdate) and update.recipient_type == "group"
