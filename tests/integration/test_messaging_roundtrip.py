"""The messaging round trip against the Cloud API simulator, through the real app and real PostgreSQL.

A simulated customer writes (the simulator POSTs Meta's signed webhook to the app); the agent answers
through `POST /api/v1/messages` (the app's PyWA gateway calls the simulator as it would call Meta); the
simulator records exactly what it was sent and answers with signed `sent`, `delivered`, `read` status
webhooks. Every test checks the three places a user sees the outcome: the API's answer, the inbox (the
conversation list and the thread) and the live events on `/ws`, plus what reached "Meta".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from tests.integration.conftest import ChannelOwner
from tests.support.api_errors import assert_error
from tests.support.realtime import Event, EventStream, of_type
from tests.support.simulator import SimulatorServer, customer_number

pytestmark = pytest.mark.postgres

APP_SECRET = "simulator-app-secret-0123456789abcdef"
PHONE_NUMBER_ID = "1122334455667"
WABA_ID = "1234567890987654321"
PROGRESS = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}
META_SEND_KEYS = {"messaging_product", "recipient_type", "to", "type", "biz_opaque_callback_data"}


# --- the simulator, the app, a tenant with a channel --------------------------------------------------------


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET)) as sim:
        yield sim


class Shop(ChannelOwner):
    async def send(self, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post("/api/v1/messages", json=body, headers=self.auth)

    def customer_writes(
        self, wa_id: str, text: str, *, name: str = "Alice", timestamp: int | None = None
    ) -> str:
        """The customer sends a text; returns its wamid once the app has answered the webhook."""
        body: dict[str, Any] = {"type": "text", "text": {"body": text}, "name": name}
        if timestamp is not None:
            body["timestamp"] = str(timestamp)
        answer = self.sim.control("POST", f"customers/{wa_id}/messages", json=body)
        assert answer.status_code == 200, answer.text
        delivery = answer.json()
        assert delivery["delivered"] and delivery["status_code"] == 200, delivery
        wamid: str = delivery["wamid"]
        return wamid

    def fault(self, **fault: Any) -> None:
        self.sim.control("POST", "faults", json={"match": "/messages", **fault}).raise_for_status()

    def sent(self) -> list[dict[str, Any]]:
        """What the simulator accepted on /messages (a faulted call is not in it)."""
        sent: list[dict[str, Any]] = self.sim.control("GET", "sent").json()
        return sent

    def sent_by_wamid(self) -> dict[str, dict[str, Any]]:
        return {message["wamid"]: message for message in self.sent()}

    async def channel(self) -> dict[str, Any]:
        response = await self.client.get("/api/v1/channels", headers=self.auth)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["data"]["items"]
        (channel,) = [c for c in items if c["id"] == str(self.channel_id)]
        return channel

    async def conversation_of(self, wa_id: str) -> dict[str, Any]:
        response = await self.client.get("/api/v1/conversations", headers=self.auth, params={"limit": 200})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["data"]["items"]
        (conversation,) = [c for c in items if c["wa_id"] == wa_id]
        return conversation

    async def thread(self, conversation_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/api/v1/conversations/{conversation_id}/messages", headers=self.auth, params={"limit": 200}
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["total"] == len(data["items"])
        items: list[dict[str, Any]] = data["items"]
        return items

    async def outgoing(self, wa_id: str) -> list[dict[str, Any]]:
        conversation = await self.conversation_of(wa_id)
        return [m for m in await self.thread(conversation["id"]) if m["direction"] == "outgoing"]

    async def socket(self) -> EventStream:
        return await EventStream.open(str(self.client.base_url).rstrip("/"), token=self.token)


@pytest.fixture
async def shop(
    app_client: httpx.AsyncClient,
    fresh_simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
) -> Shop:
    return await Shop.open(
        app_client,
        fresh_simulator,
        uow_factory,
        slug=f"shop-{uuid4().hex[:8]}",
        phone_number_id=PHONE_NUMBER_ID,
        access_token="EAAG-first-token",
        app_secret=APP_SECRET,
        waba_id=WABA_ID,
    )


def statuses_on_socket(events: list[Event], wamid: str) -> list[tuple[str, str]]:
    """(event type, status) of the socket's message events about `wamid`, in arrival order."""
    return [
        (event["type"], event["data"]["status"])
        for event in events
        if event["type"] in ("message_outgoing", "message_status") and event["data"].get("wamid") == wamid
    ]


# --- inbound ------------------------------------------------------------------------------------------------


async def test_a_customer_message_reaches_the_inbox_and_the_socket(shop: Shop) -> None:
    socket = await shop.socket()
    wa_id = customer_number()

    wamid = shop.customer_writes(wa_id, "Hi shop, is the blue one in stock?", name="Alice")

    (incoming,) = await socket.wait_for(of_type("message_incoming", wamid=wamid))
    assert incoming["tenant_id"] == str(shop.tenant_id)
    expected = {
        "direction": "incoming",
        "type": "text",
        "status": "received",
        "wa_id": wa_id,
        "text": "Hi shop, is the blue one in stock?",
    }
    assert {key: incoming["data"].get(key) for key in expected} == expected
    (updated,) = await socket.wait_for(of_type("conversation_updated", wa_id=wa_id))
    assert updated["data"]["unread_count"] == 1 and updated["data"]["name"] == "Alice"
    assert socket.events.index(incoming) < socket.events.index(updated)

    conversation = await shop.conversation_of(wa_id)
    assert conversation["unread_count"] == 1
    assert conversation["window_open"] is True
    expires = datetime.fromisoformat(conversation["window_expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=5)
    assert conversation["contact"]["name"] == "Alice"
    assert conversation["last_message"]["wamid"] == wamid
    (message,) = await shop.thread(conversation["id"])
    assert (message["wamid"], message["direction"], message["status"]) == (wamid, "incoming", "received")
    assert incoming["data"]["conversation_id"] == conversation["id"] == updated["data"]["id"]
    await socket.close()


# --- outbound: every type ----------------------------------------------------------------------------------


def outgoing_cases(inbound: str) -> list[tuple[str, dict[str, Any], Any]]:
    """(what, the API body without `to`, the type's object Meta must receive)."""
    text_with_preview = {"body": "Our catalogue: https://example.com/catalogue", "preview_url": True}
    image = {"link": "https://example.com/blue.jpg", "caption": "The blue one"}
    video = {"link": "https://example.com/unboxing.mp4", "caption": "Unboxing"}
    audio = {"link": "https://example.com/voice-note.ogg"}
    document = {"link": "https://example.com/i/42.pdf", "filename": "invoice-42.pdf", "caption": "Invoice"}
    sticker = {"link": "https://example.com/thanks.webp"}
    location = {"latitude": 52.3731, "longitude": 4.8922, "name": "Our shop", "address": "Dam 1, Amsterdam"}
    contacts = [
        {
            "name": {"formatted_name": "Bob Support", "first_name": "Bob", "last_name": "Support"},
            "phones": [{"phone": "+1 555 000 2222", "type": "WORK", "wa_id": "15550002222"}],
            "emails": [{"email": "bob@example.com", "type": "WORK"}],
        }
    ]
    buttons = {
        "type": "button",
        "body": {"text": "Shall we ship it today?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "ship-today", "title": "Yes, today"}},
                {"type": "reply", "reply": {"id": "ship-later", "title": "Later"}},
            ]
        },
    }
    menu = {
        "type": "list",
        "header": {"type": "text", "text": "Colours"},
        "body": {"text": "Pick a colour"},
        "footer": {"text": "Prices include VAT"},
        "action": {
            "button": "Colours",
            "sections": [
                {
                    "title": "In stock",
                    "rows": [
                        {"id": "blue", "title": "Blue", "description": "Ships today"},
                        {"id": "red", "title": "Red"},
                    ],
                }
            ],
        },
    }
    template = {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "42"}]}],
    }
    return [
        ("text with a link preview", {"type": "text", "text": text_with_preview}, text_with_preview),
        (
            "text as a string, preview_url beside it",
            {"type": "text", "text": "Plain words", "preview_url": False},
            {"body": "Plain words", "preview_url": False},
        ),
        ("image by link with a caption", {"type": "image", "image": image}, image),
        ("video", {"type": "video", "video": video}, video),
        ("audio", {"type": "audio", "audio": audio}, audio),
        ("document with a filename", {"type": "document", "document": document}, document),
        ("sticker", {"type": "sticker", "sticker": sticker}, sticker),
        ("location", {"type": "location", "location": location}, location),
        ("contact card", {"type": "contacts", "contacts": contacts}, contacts),
        ("interactive buttons", {"type": "interactive", "interactive": buttons}, buttons),
        ("interactive list", {"type": "interactive", "interactive": menu}, menu),
        (
            "reaction",
            {"type": "reaction", "reaction": {"message_id": inbound, "emoji": "\N{THUMBS UP SIGN}"}},
            {"message_id": inbound, "emoji": "\N{THUMBS UP SIGN}"},
        ),
        (
            "reaction removal",
            {"type": "reaction", "reaction": {"message_id": inbound, "emoji": ""}},
            {"message_id": inbound, "emoji": ""},
        ),
        (
            "reply with context",
            {"type": "text", "text": {"body": "Yes, it is!"}, "context": {"message_id": inbound}},
            {"body": "Yes, it is!"},
        ),
        ("template", {"type": "template", "template": template}, template),
    ]


async def test_every_message_type_goes_out_as_meta_expects_and_is_read(shop: Shop) -> None:
    socket = await shop.socket()
    wa_id = customer_number()
    inbound = shop.customer_writes(wa_id, "Do you have it in blue?")
    cases = outgoing_cases(inbound)

    answers: dict[str, dict[str, Any]] = {}
    for what, body, _ in cases:
        response = await shop.send({"to": wa_id, **body})
        assert response.status_code == 201, f"{what}: {response.text}"
        data = response.json()["data"]
        assert data["wamid"].startswith("wamid."), what
        assert (data["status"], data["direction"], data["type"]) == ("sent", "outgoing", body["type"]), what
        answers[what] = data
    shop.sim.settle()

    # Meta received each message once, exactly as its Cloud API names it.
    sent = shop.sent_by_wamid()
    assert len(shop.sent()) == len(cases) == len(sent)
    for what, body, meta_object in cases:
        data = answers[what]
        call = sent[data["wamid"]]
        kind = body["type"]
        assert call["phone_number_id"] == PHONE_NUMBER_ID, what
        assert call["body"][kind] == meta_object, what
        expected_keys = META_SEND_KEYS | {kind} | ({"context"} if "context" in body else set())
        assert set(call["body"]) == expected_keys, what
        assert call["body"]["type"] == kind and call["body"]["to"] == wa_id, what
        assert call["body"]["messaging_product"] == "whatsapp", what
        assert call["body"]["biz_opaque_callback_data"] == data["id"], what
        if "context" in body:
            assert call["body"]["context"] == {"message_id": inbound}, what

    # The statuses came back: every message read, reactions only sent (as at Meta) -- in the thread...
    def final_status(kind: str) -> str:
        return "sent" if kind == "reaction" else "read"

    for what, body, _ in cases:
        if body["type"] != "reaction":
            await socket.wait_for(of_type("message_status", wamid=answers[what]["wamid"], status="read"))
    thread = {m["wamid"]: m for m in await shop.outgoing(wa_id)}
    assert len(thread) == len(cases)
    for what, body, _ in cases:
        stored = thread[answers[what]["wamid"]]
        assert stored["status"] == final_status(body["type"]), what
        assert stored["type"] == body["type"], what
        assert stored["error_code"] is None, what
    reply = thread[answers["reply with context"]["wamid"]]
    assert reply["context_wamid"] == inbound and reply["text"] == "Yes, it is!"
    assert thread[answers["document with a filename"]["wamid"]]["content"]["document"]["filename"] == (
        "invoice-42.pdf"
    )

    # ... and on the socket, in order for each message.
    for what, body, _ in cases:
        seen = statuses_on_socket(socket.events, answers[what]["wamid"])
        assert ("message_outgoing", "sent") in seen, (what, seen)
        progress = [PROGRESS[status] for _, status in seen if status != "sent"]
        assert progress == sorted(set(progress)), (what, seen)
        later = [status for kind, status in seen if kind == "message_status" and status != "sent"]
        assert later == (["delivered", "read"] if body["type"] != "reaction" else []), (what, seen)

    conversation = await shop.conversation_of(wa_id)
    assert conversation["last_message"]["wamid"] == answers["template"]["wamid"]
    assert conversation["unread_count"] == 1  # the agent's replies do not mark the customer's message read
    await socket.close()


# --- refusals before Meta is called -------------------------------------------------------------------------


async def test_outside_the_24_hour_window_only_a_template_goes_out(shop: Shop) -> None:
    template = {"name": "hello_world", "language": {"code": "en_US"}}
    stranger = customer_number()

    refused = await shop.send({"to": stranger, "type": "text", "text": {"body": "Hello?"}})
    assert_error(refused, 409, "template")
    refused = await shop.send(
        {"to": stranger, "type": "image", "image": {"link": "https://example.com/a.jpg"}}
    )
    assert_error(refused, 409, "template")
    assert shop.sent() == []

    allowed = await shop.send({"to": stranger, "type": "template", "template": template})
    assert allowed.status_code == 201, allowed.text
    assert [m["body"]["type"] for m in shop.sent()] == ["template"]

    # A contact whose last message is 25 hours old: the window has closed again.
    returning = customer_number()
    shop.customer_writes(returning, "Remember me?", timestamp=int(time.time()) - 25 * 3600)
    conversation = await shop.conversation_of(returning)
    assert conversation["window_open"] is False
    refused = await shop.send({"to": returning, "type": "text", "text": {"body": "Of course!"}})
    assert_error(refused, 409, "template")
    assert len(shop.sent()) == 1
    allowed = await shop.send({"to": returning, "type": "template", "template": template})
    assert allowed.status_code == 201, allowed.text
    assert [m["to"] for m in shop.sent()] == [stranger, returning]
    assert [m["type"] for m in await shop.outgoing(returning)] == ["template"]  # the refusal stored nothing


async def test_an_opted_out_contact_is_refused_until_they_write_start(shop: Shop) -> None:
    socket = await shop.socket()
    wa_id = customer_number()
    start = int(time.time()) - 2  # one message a second, as a person types them
    shop.customer_writes(wa_id, "Hi", timestamp=start)
    assert (await shop.send({"to": wa_id, "type": "text", "text": {"body": "Hello!"}})).status_code == 201

    shop.customer_writes(wa_id, "STOP", timestamp=start + 1)
    await socket.wait_for(of_type("conversation_updated", wa_id=wa_id, opted_out=True))
    assert (await shop.conversation_of(wa_id))["contact"]["opted_out"] is True
    sent_before = len(shop.sent())
    assert_error(await shop.send({"to": wa_id, "type": "text", "text": {"body": "Sure?"}}), 409, "opted out")
    template = {"name": "winback", "language": {"code": "en_US"}}
    assert_error(await shop.send({"to": wa_id, "type": "template", "template": template}), 409, "opted out")
    assert len(shop.sent()) == sent_before

    shop.customer_writes(wa_id, "start", timestamp=start + 2)
    await socket.wait_for(of_type("conversation_updated", wa_id=wa_id, opted_out=False), count=2)
    assert (await shop.conversation_of(wa_id))["contact"]["opted_out"] is False
    welcome = await shop.send({"to": wa_id, "type": "text", "text": {"body": "Welcome back"}})
    assert welcome.status_code == 201, welcome.text
    assert len(shop.sent()) == sent_before + 1
    await socket.close()


async def test_stop_then_start_within_one_second_leaves_the_contact_opted_in(shop: Shop) -> None:
    """Meta's timestamps have one-second resolution: STOP and START in the same second both count, in the
    order they arrive -- and the live event tells what was stored."""
    socket = await shop.socket()
    wa_id = customer_number()
    now = int(time.time())
    shop.customer_writes(wa_id, "STOP", timestamp=now)
    start = shop.customer_writes(wa_id, "START", timestamp=now)

    await socket.wait_for(of_type("message_incoming", wamid=start))
    updates = await socket.wait_for(of_type("conversation_updated", wa_id=wa_id), count=2)
    stored = (await shop.conversation_of(wa_id))["contact"]["opted_out"]
    announced = updates[-1]["data"]["opted_out"]
    assert (stored, announced) == (False, False), "stored / announced opted_out after STOP, START"
    await socket.close()


# --- Meta's refusals ----------------------------------------------------------------------------------------


async def test_meta_errors_map_to_clear_answers_and_an_expired_token_pauses_the_channel(shop: Shop) -> None:
    socket = await shop.socket()
    wa_id = customer_number()
    shop.customer_writes(wa_id, "Hi")
    expectations = [
        (131047, 409, "Re-engagement message", "template"),
        (131026, 422, "Message Undeliverable", "deliver"),
        (130429, 429, "Rate limit hit", "try again"),
    ]
    failed: dict[str, tuple[int, str]] = {}
    for code, status, title, word in expectations:
        shop.fault(kind="error", code=code)
        response = await shop.send({"to": wa_id, "type": "text", "text": {"body": f"attempt {code}"}})
        assert_error(response, status, word, str(code))
        if code == 130429:
            assert int(response.headers["Retry-After"]) > 0
        failed[f"attempt {code}"] = (code, title)

    shop.fault(kind="error", code=190)
    expired = await shop.send({"to": wa_id, "type": "text", "text": {"body": "attempt 190"}})
    assert_error(expired, 409, "190", "token")
    failed["attempt 190"] = (190, "")
    assert shop.sim.control("GET", "faults").json()["pending"] == []
    assert shop.sent() == []

    channel = await shop.channel()
    assert channel["paused_reason"] and "token" in channel["paused_reason"]
    paused = await shop.send({"to": wa_id, "type": "text", "text": {"body": "while paused"}})
    assert_error(paused, 409, "paused")
    assert shop.sent() == []  # the simulator (no fault left) would have accepted it: it was never called

    patched = await shop.client.patch(
        f"/api/v1/channels/{shop.channel_id}", headers=shop.auth, json={"access_token": "EAAG-fresh-token"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["paused_reason"] is None
    assert "EAAG-fresh-token" not in patched.text
    resumed = await shop.send({"to": wa_id, "type": "text", "text": {"body": "back in business"}})
    assert resumed.status_code == 201, resumed.text
    assert [m["body"]["text"]["body"] for m in shop.sent()] == ["back in business"]

    # Each refused message is in the thread, failed, with Meta's code and title; the paused one never was.
    outgoing = {m["text"]: m for m in await shop.outgoing(wa_id)}
    assert set(outgoing) == {*failed, "back in business"}
    for text, (code, title) in failed.items():
        stored = outgoing[text]
        assert (stored["status"], stored["error_code"], stored["wamid"]) == ("failed", code, None), stored
        assert stored["error_title"] and title in stored["error_title"], stored
        await socket.wait_for(of_type("message_status", id=stored["id"], status="failed", error_code=code))
    await socket.close()


async def test_a_dropped_reply_is_settled_by_the_status_webhooks(shop: Shop) -> None:
    socket = await shop.socket()
    wa_id = customer_number()
    shop.customer_writes(wa_id, "Hi")
    shop.fault(kind="drop")

    response = await shop.send({"to": wa_id, "type": "text", "text": {"body": "did you get this?"}})

    assert response.status_code == 202, response.text
    pending = response.json()["data"]
    assert (pending["status"], pending["wamid"]) == ("pending", None)
    shop.sim.settle()
    (call,) = shop.sent()  # Meta did process the send; only its answer was lost
    assert call["biz_opaque_callback_data"] == pending["id"]
    await socket.wait_for(of_type("message_status", id=pending["id"], status="read"))
    (stored,) = await shop.outgoing(wa_id)  # one message, not a second one for the wamid
    assert (stored["id"], stored["wamid"], stored["status"]) == (pending["id"], call["wamid"], "read")


async def test_marking_a_conversation_read_clears_it_and_sends_a_read_receipt(shop: Shop) -> None:
    wa_id = customer_number()
    now = int(time.time())
    first = shop.customer_writes(wa_id, "Hello?", timestamp=now - 1)
    last = shop.customer_writes(wa_id, "Anyone there?", timestamp=now)
    conversation = await shop.conversation_of(wa_id)
    assert conversation["unread_count"] == 2

    response = await shop.client.post(f"/api/v1/conversations/{conversation['id']}/read", headers=shop.auth)

    assert response.status_code == 200, response.text
    assert response.json()["data"]["read_up_to"] == last
    assert (await shop.conversation_of(wa_id))["unread_count"] == 0
    receipts = shop.sim.control("GET", "read_receipts").json()
    assert [(r["message_id"], r["phone_number_id"]) for r in receipts] == [(last, PHONE_NUMBER_ID)]
    assert first not in {r["message_id"] for r in receipts}


async def test_a_burst_within_one_second_keeps_its_order_in_the_thread_and_for_read_receipts(
    shop: Shop,
) -> None:
    """Customers often send several messages within a second (Meta's timestamps have one-second
    resolution): the thread must show them in the order they arrived, and "read" must name the last."""
    wa_id = customer_number()
    now = int(time.time())
    burst = [shop.customer_writes(wa_id, f"part {n}", timestamp=now) for n in range(1, 6)]
    conversation = await shop.conversation_of(wa_id)

    newest_first = [m["text"] for m in await shop.thread(conversation["id"])]
    response = await shop.client.post(f"/api/v1/conversations/{conversation['id']}/read", headers=shop.auth)

    assert newest_first == [f"part {n}" for n in range(5, 0, -1)], "thread order, newest first"
    assert response.json()["data"]["read_up_to"] == burst[-1]
    assert [r["message_id"] for r in shop.sim.control("GET", "read_receipts").json()] == [burst[-1]]


async def test_the_seed_send_text_endpoint_needs_a_bearer_token(shop: Shop) -> None:
    wa_id = customer_number()
    shop.customer_writes(wa_id, "Hi")

    anonymous = await shop.client.post("/api/send/text", json={"to": wa_id, "text": "no token"})
    assert_error(anonymous, 401)
    forged = await shop.client.post(
        "/api/send/text", json={"to": wa_id, "text": "bad token"}, headers={"Authorization": "Bearer nope"}
    )
    assert_error(forged, 401)
    assert shop.sent() == []

    response = await shop.client.post(
        "/api/send/text", json={"to": wa_id, "text": "Hi from the seed"}, headers=shop.auth
    )

    assert response.status_code == 201, response.text
    assert response.json()["data"]["status"] == "sent"
    (call,) = shop.sent()
    assert call["body"]["type"] == "text" and call["body"]["text"]["body"] == "Hi from the seed"
    assert [m["text"] for m in await shop.outgoing(wa_id)] == ["Hi from the seed"]


async def test_bad_bodies_are_refused_with_the_envelope_and_nothing_is_sent(shop: Shop) -> None:
    wa_id = customer_number()
    shop.customer_writes(wa_id, "Hi")  # the window is open: only the body can be wrong
    bad: list[tuple[str, dict[str, Any] | bytes]] = [
        ("an unknown type", {"to": wa_id, "type": "carrier_pigeon"}),
        ("an unknown type with an object", {"to": wa_id, "type": "fax", "text": {"body": "x"}}),
        ("no object for the type", {"to": wa_id, "type": "image"}),
        ("another type's object", {"to": wa_id, "type": "image", "video": {"link": "https://e.com/v.mp4"}}),
        ("a text that is a list", {"to": wa_id, "type": "text", "text": ["Hi"]}),
        ("an empty contact list", {"to": wa_id, "type": "contacts", "contacts": []}),
        ("a too short number", {"to": "12", "type": "text", "text": {"body": "x"}}),
        ("a number without digits", {"to": "call me maybe", "type": "text", "text": {"body": "x"}}),
        (
            "a number with 00 instead of the country code",
            {"to": "0015551234567", "type": "text", "text": "x"},
        ),
        ("no recipient", {"type": "text", "text": {"body": "x"}}),
        ("an unknown field", {"to": wa_id, "type": "text", "text": {"body": "x"}, "priority": "high"}),
        ("a context without message_id", {"to": wa_id, "type": "text", "text": "x", "context": {}}),
        ("not JSON", b'{"to": "15551234567", "type": '),
        ("a JSON array", b"[1, 2, 3]"),
    ]
    for what, body in bad:
        if isinstance(body, bytes):
            response = await shop.client.post(
                "/api/v1/messages", content=body, headers={**shop.auth, "Content-Type": "application/json"}
            )
        else:
            response = await shop.send(body)
        assert response.status_code in (400, 422), f"{what}: {response.status_code} {response.text}"
        envelope = response.json()
        assert envelope["status"] == "error" and envelope["data"] is None and envelope["message"], what

    assert shop.sent() == []
    stored = await shop.client.get("/api/v1/messages", headers=shop.auth, params={"direction": "outgoing"})
    assert stored.json()["data"]["total"] == 0, stored.json()["data"]["items"]


async def test_an_empty_text_is_refused_before_meta_is_called(shop: Shop) -> None:
    """An empty text is as bad a body as a missing one: refused by the API, not stored as a failed message
    after a round trip to Meta."""
    wa_id = customer_number()
    shop.customer_writes(wa_id, "Hi")
    for text in ("", {"body": ""}):
        response = await shop.send({"to": wa_id, "type": "text", "text": text})
        assert_error(response, 422)
        assert "Meta" not in response.json()["message"], f"text={text!r}: {response.json()['message']}"
    assert await shop.outgoing(wa_id) == []
