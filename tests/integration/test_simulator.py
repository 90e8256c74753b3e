"""The Cloud API simulator, driven through PyWA's real async client as the platform will drive Meta.

The simulator and a webhook receiver run under uvicorn on free ports; no database is needed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from pywa_async import WhatsApp
from pywa_async.errors import ReEngagementMessage, WhatsAppError
from pywa_async.types import Message, MessageStatus, MessageStatusType
from pywa_async.types.templates import (
    BodyText,
    Template,
    TemplateCategory,
    TemplateLanguage,
)

from pywhatsapp.adapters.whatsapp.graph_transport import (
    RewritingTransport,
    graph_http_client,
    is_meta_graph_api,
)
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings, create_simulator_app
from tests.support.simulator import ReceivedWebhook, SimulatorServer, WebhookReceiver

APP_SECRET = "simulator-app-secret"
VERIFY_TOKEN = "simulator-verify-token"
TOKEN = "EAAG-test-token"
PHONE_ID = "1122334455667"
DISPLAY_NUMBER = "15550001111"
WABA_ID = "1234567890987654321"
CUSTOMER = "15550102030"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(APP_SECRET, verify_token=VERIFY_TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def simulator(receiver: WebhookReceiver) -> Iterator[SimulatorServer]:
    settings = SimulatorSettings(
        webhook_url=receiver.webhook_url,
        app_secret=APP_SECRET,
        phone_number_id=PHONE_ID,
        display_phone_number=DISPLAY_NUMBER,
        waba_id=WABA_ID,
        verify_token=VERIFY_TOKEN,
        status_delays=(0.01, 0.02, 0.03),
        webhook_retry_delay=0.02,
        template_review_delay=0.05,
    )
    with SimulatorServer(settings) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(simulator: SimulatorServer, receiver: WebhookReceiver) -> None:
    """Each test starts with no sends, faults or webhooks, none of an earlier test's still on the way."""
    simulator.settle()
    simulator.reset()
    receiver.clear()


@pytest.fixture
async def wa(simulator: SimulatorServer) -> AsyncIterator[WhatsApp]:
    session = graph_http_client(simulator.url, timeout=5)
    yield WhatsApp(phone_id=PHONE_ID, token=TOKEN, waba_id=WABA_ID, session=session)
    await session.aclose()


def assert_meta_envelope(hook: ReceivedWebhook, field: str = "messages") -> None:
    assert hook.signature_valid, hook.headers
    assert hook.headers["content-type"] == "application/json"
    payload = hook.payload
    assert payload["object"] == "whatsapp_business_account"
    assert payload["entry"][0]["id"] == WABA_ID
    assert hook.change["field"] == field
    if field == "messages":
        assert hook.value["messaging_product"] == "whatsapp"
        assert hook.value["metadata"] == {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_ID}


# --- the transport -----------------------------------------------------------------------------------------


async def test_the_transport_rewrites_host_and_keeps_path_and_query() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    transport = RewritingTransport("http://127.0.0.1:8181/graph/", inner=httpx.MockTransport(answer))
    async with httpx.AsyncClient(transport=transport, base_url="https://graph.facebook.com/v22.0") as client:
        await client.get("/123/media", params={"a": "b/c"})
        await client.get("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=9")

    assert str(seen[0].url) == "http://127.0.0.1:8181/graph/v22.0/123/media?a=b%2Fc"
    assert seen[0].headers["host"] == "127.0.0.1:8181"
    assert str(seen[1].url) == "http://127.0.0.1:8181/graph/whatsapp_business/attachments/?mid=9"
    assert transport.target == "http://127.0.0.1:8181/graph"
    assert is_meta_graph_api("https://graph.facebook.com")
    assert is_meta_graph_api("https://graph.facebook.com/")
    assert not is_meta_graph_api("http://127.0.0.1:8181")
    with pytest.raises(ValueError, match="not an http"):
        RewritingTransport("ftp://example.com")


# --- sends and their status webhooks -----------------------------------------------------------------------


async def test_a_text_gets_a_wamid_then_signed_sent_delivered_read_webhooks(
    wa: WhatsApp, simulator: SimulatorServer, receiver: WebhookReceiver
) -> None:
    sent = await wa.send_message(to="+1 555-010-2030", text="Hello from PyWA", tracker="order-7")

    assert sent.id.startswith("wamid.")
    assert sent.chat.id == CUSTOMER
    hooks = await receiver.statuses_of(sent.id, count=3)
    assert [hook.status["status"] for hook in hooks if hook.status] == ["sent", "delivered", "read"]
    for hook in hooks:
        assert_meta_envelope(hook)
        status = hook.status
        assert status is not None
        assert status["recipient_id"] == CUSTOMER
        assert status["biz_opaque_callback_data"] == "order-7"
        assert int(status["timestamp"]) <= time.time() + 1
        assert status["pricing"] == {
            "billable": False,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        }
        assert status["conversation"]["origin"] == {"type": "service"}
        parsed = MessageStatus.from_update(client=wa, update=hook.payload)
        assert parsed.id == sent.id
        assert parsed.tracker == "order-7"
        assert parsed.from_user.wa_id == CUSTOMER
    first = hooks[0].status
    assert first is not None
    assert "expiration_timestamp" in first["conversation"]
    assert [MessageStatus.from_update(client=wa, update=h.payload).status for h in hooks] == [
        MessageStatusType.SENT,
        MessageStatusType.DELIVERED,
        MessageStatusType.READ,
    ]

    recorded = simulator.control("GET", "sent").json()
    assert [(r["wamid"], r["type"], r["wa_id"]) for r in recorded] == [(sent.id, "text", CUSTOMER)]
    assert recorded[0]["body"]["text"] == {"body": "Hello from PyWA", "preview_url": False}
    attempts = simulator.control("GET", "webhooks").json()
    assert [(a["body_type"], a["status_code"], a["signed"]) for a in attempts] == [
        ("statuses.sent", 200, True),
        ("statuses.delivered", 200, True),
        ("statuses.read", 200, True),
    ]


async def test_image_location_template_and_reaction_sends(
    wa: WhatsApp, simulator: SimulatorServer, receiver: WebhookReceiver
) -> None:
    image = await wa.send_image(to=CUSTOMER, image="https://example.com/cat.jpg", caption="A cat")
    location = await wa.send_location(to=CUSTOMER, latitude=32.07, longitude=34.78, name="Office")
    template = await wa.send_template(
        to=CUSTOMER,
        name="order_update",
        language=TemplateLanguage.ENGLISH_US,
        params=[BodyText.params("Alice", "#42")],
    )
    reaction = await wa.send_reaction(to=CUSTOMER, emoji="👍", message_id=image.id)

    wamids = [image.id, location.id, template.id, reaction.id]
    assert all(w.startswith("wamid.") for w in wamids)
    assert len(set(wamids)) == 4
    recorded = {r["wamid"]: r for r in simulator.control("GET", "sent").json()}
    assert recorded[image.id]["body"]["image"] == {"link": "https://example.com/cat.jpg", "caption": "A cat"}
    assert recorded[location.id]["body"]["location"]["latitude"] == 32.07
    assert recorded[template.id]["body"]["template"]["name"] == "order_update"
    assert recorded[reaction.id]["body"]["reaction"] == {"emoji": "👍", "message_id": image.id}

    for wamid in (image.id, location.id, template.id):
        hooks = await receiver.statuses_of(wamid, count=3)
        assert [h.status["status"] for h in hooks if h.status] == ["sent", "delivered", "read"]
        assert all(h.signature_valid for h in hooks)
    template_sent = (await receiver.statuses_of(template.id, count=1))[0].status
    assert template_sent is not None
    assert template_sent["pricing"]["category"] == "marketing"
    assert template_sent["pricing"]["billable"] is True
    # A reaction only ever gets `sent`, as at Meta.
    simulator.settle()
    reaction_hooks = await receiver.statuses_of(reaction.id, count=1)
    assert [h.status["status"] for h in reaction_hooks if h.status] == ["sent"]


async def test_mark_as_read_and_typing_answer_success(wa: WhatsApp, simulator: SimulatorServer) -> None:
    read = await wa.mark_message_as_read(message_id="wamid.from-customer")
    typing = await wa.indicate_typing(message_id="wamid.from-customer")

    assert read.success and typing.success
    receipts = simulator.control("GET", "read_receipts").json()
    assert [(r["message_id"], r["typing_indicator"]) for r in receipts] == [
        ("wamid.from-customer", False),
        ("wamid.from-customer", True),
    ]
    assert simulator.control("GET", "sent").json() == []


async def test_requests_are_validated_like_meta(simulator: SimulatorServer) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5) as http:
        no_to = await http.post(
            f"/v22.0/{PHONE_ID}/messages",
            headers=auth,
            json={"messaging_product": "whatsapp", "type": "text", "text": {"body": "hi"}},
        )
        bad_type = await http.post(
            f"/v20.0/{PHONE_ID}/messages",
            headers=auth,
            json={"messaging_product": "whatsapp", "to": CUSTOMER, "type": "hologram", "hologram": {}},
        )
        no_token = await http.post(f"/v22.0/{PHONE_ID}/messages", json={"to": CUSTOMER})
        unknown_media = await http.get("/v22.0/999", headers=auth)

    assert no_to.status_code == 400
    error = no_to.json()["error"]
    assert error["code"] == 100
    assert error["type"] == "OAuthException"
    assert error["message"] == "(#100) The parameter to is required."
    assert error["fbtrace_id"]
    assert bad_type.status_code == 400
    assert bad_type.json()["error"]["code"] == 100
    assert 'got "hologram"' in bad_type.json()["error"]["message"]
    assert no_token.status_code == 401
    assert no_token.json()["error"]["code"] == 190
    assert unknown_media.status_code == 400
    assert unknown_media.json()["error"]["error_subcode"] == 33
    assert simulator.control("GET", "sent").json() == []


async def test_only_the_configured_tokens_are_accepted_when_some_are_set() -> None:
    app = create_simulator_app(
        SimulatorSettings(webhook_url=None, app_secret=None, valid_tokens=frozenset({"good"}))
    )
    body = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "hi"}}
    async with AsyncTestClient(app) as client:
        good = await client.post(
            f"/v22.0/{PHONE_ID}/messages", json=body, headers={"Authorization": "Bearer good"}
        )
        bad = await client.post(
            f"/v22.0/{PHONE_ID}/messages", json=body, headers={"Authorization": "Bearer bad"}
        )

    assert good.status_code == 200
    assert good.json()["contacts"] == [{"input": CUSTOMER, "wa_id": CUSTOMER}]
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == 190


# --- media -------------------------------------------------------------------------------------------------


async def test_uploaded_media_has_a_url_that_downloads_the_same_bytes(
    wa: WhatsApp, simulator: SimulatorServer
) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

    media = await wa.upload_media(media=data, mime_type="image/png", filename="dots.png")
    url = await wa.get_media_url(media.id)
    downloaded = await wa.get_media_bytes(url.url)

    assert media.id.isdigit()
    assert url.url.startswith(f"{simulator.url}/whatsapp_business/attachments/?mid={media.id}")
    assert url.mime_type == "image/png"
    assert url.file_size == len(data)
    assert url.sha256 == hashlib.sha256(data).hexdigest()
    assert downloaded == data
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await http.get(url.url)).status_code == 401  # the bytes need the token, as at Meta

    assert (await wa.delete_media(media.id)).success
    with pytest.raises(WhatsAppError) as gone:
        await wa.get_media_url(media.id)
    assert gone.value.code == 100


# --- templates ---------------------------------------------------------------------------------------------


async def test_templates_are_created_pending_approved_by_webhook_listed_and_deleted(
    wa: WhatsApp, simulator: SimulatorServer, receiver: WebhookReceiver
) -> None:
    created = await wa.create_template(
        Template(
            name="order_update",
            category=TemplateCategory.UTILITY,
            language=TemplateLanguage.ENGLISH_US,
            components=[BodyText("Hi {{1}}, order {{2}} is on its way.", "Alice", "#42")],
        )
    )
    for name in ("promo_a", "promo_b"):
        await wa.create_template(
            Template(
                name=name,
                category=TemplateCategory.MARKETING,
                language=TemplateLanguage.ENGLISH_US,
                components=[BodyText("Sale now on")],
            )
        )

    assert created.status.value == "PENDING"
    approvals = await receiver.wait_for(
        lambda h: h.change["field"] == "message_template_status_update", count=3
    )
    assert_meta_envelope(approvals[0], field="message_template_status_update")
    assert {h.value["event"] for h in approvals} == {"APPROVED"}
    assert {h.value["message_template_id"] for h in approvals} >= {int(created.id)}

    listed = await wa.get_templates()
    assert [t.name for t in listed] == ["order_update", "promo_a", "promo_b"]
    assert {t.status.value for t in listed} == {"APPROVED"}
    assert listed.total_count == 3

    first = await wa.get_templates(name="promo", pagination=None)
    assert [t.name for t in first] == ["promo_a", "promo_b"]
    async with httpx.AsyncClient(base_url=simulator.url, timeout=5) as http:
        page = await http.get(
            f"/v22.0/{WABA_ID}/message_templates", params={"limit": 2}, headers={"Authorization": "Bearer t"}
        )
        paging = page.json()["paging"]
        rest = await http.get(paging["next"], headers={"Authorization": "Bearer t"})
    assert [t["name"] for t in page.json()["data"]] == ["order_update", "promo_a"]
    assert [t["name"] for t in rest.json()["data"]] == ["promo_b"]
    assert "next" not in rest.json()["paging"]

    # A template message is billed in its template's category.
    sent = await wa.send_template(to=CUSTOMER, name="order_update", language=TemplateLanguage.ENGLISH_US)
    status = (await receiver.statuses_of(sent.id, count=1))[0].status
    assert status is not None
    assert status["pricing"]["category"] == "utility"

    assert (await wa.delete_template("promo_a")).success
    assert [t.name for t in await wa.get_templates()] == ["order_update", "promo_b"]
    with pytest.raises(WhatsAppError) as missing:
        await wa.delete_template("promo_a")
    assert missing.value.code == 100


# --- customers ---------------------------------------------------------------------------------------------


async def test_a_customer_message_reaches_the_webhook_signed_and_in_metas_shape(
    wa: WhatsApp, simulator: SimulatorServer, receiver: WebhookReceiver
) -> None:
    answer = simulator.control(
        "POST",
        f"customers/{CUSTOMER}/messages",
        json={"type": "text", "text": {"body": "hi 👋"}, "name": "Alice"},
    ).json()

    assert answer["delivered"] is True
    assert answer["status_code"] == 200
    assert answer["wamid"].startswith("wamid.")
    [hook] = await receiver.wait_for(lambda h: h.message is not None)
    assert_meta_envelope(hook)
    contact = hook.value["contacts"][0]
    assert contact["profile"] == {"name": "Alice"}
    assert contact["wa_id"] == CUSTOMER
    assert contact["user_id"].startswith("US.")
    message = hook.message
    assert message is not None
    assert {k: v for k, v in message.items() if k != "timestamp"} == {
        "from": CUSTOMER,
        "from_user_id": contact["user_id"],
        "id": answer["wamid"],
        "type": "text",
        "text": {"body": "hi 👋"},
    }
    assert abs(int(message["timestamp"]) - time.time()) < 5
    assert b"\\ud83d\\udc4b" in hook.raw  # signed over Meta's escaped-unicode JSON
    parsed = Message.from_update(client=wa, update=hook.payload)
    assert parsed.text == "hi 👋"
    assert parsed.from_user.wa_id == CUSTOMER
    assert parsed.from_user.name == "Alice"


async def test_any_message_type_passes_through_with_its_reply_context(
    wa: WhatsApp, simulator: SimulatorServer, receiver: WebhookReceiver
) -> None:
    sent = await wa.send_message(to=CUSTOMER, text="Pick one")
    reply = {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}},
        "context": {"id": sent.id},
    }
    image = {"type": "image", "image": {"id": "4490709327384033", "mime_type": "image/jpeg", "sha256": "abc"}}

    simulator.control("POST", f"customers/{CUSTOMER}/messages", json=reply).raise_for_status()
    simulator.control("POST", f"customers/{CUSTOMER}/messages", json=image).raise_for_status()

    hooks = await receiver.wait_for(lambda h: h.message is not None, count=2)
    button, picture = (h.message for h in hooks)
    assert button is not None and picture is not None
    assert button["interactive"] == reply["interactive"]
    assert button["context"] == {"from": DISPLAY_NUMBER, "id": sent.id}
    assert picture["image"] == image["image"]
    assert Message.from_update(client=wa, update=hooks[1].payload).image is not None
    assert all(h.signature_valid for h in hooks)


async def test_webhooks_are_retried_while_the_receiver_fails(
    simulator: SimulatorServer, receiver: WebhookReceiver
) -> None:
    receiver.fail_next(500, 503)

    answer = simulator.control("POST", f"customers/{CUSTOMER}/messages", json={"text": "again?"}).json()

    assert answer["delivered"] is True
    assert answer["attempts"] == 3
    attempts = simulator.control("GET", "webhooks").json()
    assert [(a["attempt"], a["status_code"], a["body_type"]) for a in attempts] == [
        (1, 500, "messages.text"),
        (2, 503, "messages.text"),
        (3, 200, "messages.text"),
    ]
    deliveries = [hook for hook in receiver.received if hook.message is not None]
    assert len(deliveries) == 3
    assert len({hook.raw for hook in deliveries}) == 1
    assert all(hook.signature_valid for hook in deliveries)


async def test_the_webhook_handshake_and_a_pushed_failed_status(
    wa: WhatsApp, simulator: SimulatorServer, receiver: WebhookReceiver
) -> None:
    assert simulator.control("POST", "verify").json()["verified"] is True
    simulator.control("POST", "config", json={"auto_read": False}).raise_for_status()
    try:
        sent = await wa.send_message(to=CUSTOMER, text="Will this fail?")
        await receiver.statuses_of(sent.id, count=2)
        pushed = simulator.control(
            "POST", "statuses", json={"wamid": sent.id, "status": "failed", "error_code": 131026}
        ).json()
    finally:
        simulator.control("POST", "config", json={"auto_read": True}).raise_for_status()

    assert pushed["delivered"] is True
    hooks = await receiver.statuses_of(sent.id, count=3)
    assert [h.status["status"] for h in hooks if h.status] == ["sent", "delivered", "failed"]
    failed = MessageStatus.from_update(client=wa, update=hooks[-1].payload)
    assert failed.status == MessageStatusType.FAILED
    assert failed.error is not None
    assert failed.error.code == 131026
    assert hooks[-1].status is not None
    assert "pricing" not in hooks[-1].status


# --- faults ------------------------------------------------------------------------------------------------


def add_fault(simulator: SimulatorServer, **fault: Any) -> None:
    simulator.control("POST", "faults", json=fault).raise_for_status()


async def test_an_error_fault_surfaces_as_pywas_exception_for_that_code(
    wa: WhatsApp, simulator: SimulatorServer
) -> None:
    add_fault(simulator, kind="error", code=131047)

    with pytest.raises(ReEngagementMessage) as caught:
        await wa.send_message(to=CUSTOMER, text="Out of the window")
    after = await wa.send_message(to=CUSTOMER, text="The fault is used up")

    assert caught.value.code == 131047
    assert caught.value.status_code == 400
    assert caught.value.message == "(#131047) Re-engagement message"
    assert caught.value.details is not None and "24 hours" in caught.value.details
    assert [r["wamid"] for r in simulator.control("GET", "sent").json()] == [after.id]


async def test_an_http_500_fault_is_an_error(wa: WhatsApp, simulator: SimulatorServer) -> None:
    add_fault(simulator, kind="http_500")

    with pytest.raises(WhatsAppError) as caught:
        await wa.send_message(to=CUSTOMER, text="Meta is down")

    assert caught.value.status_code == 500
    assert caught.value.is_transient is True
    assert simulator.control("GET", "sent").json() == []


async def test_a_latency_fault_delays_the_answer(wa: WhatsApp, simulator: SimulatorServer) -> None:
    await wa.send_message(to=CUSTOMER, text="warm up")
    add_fault(simulator, kind="latency", seconds=0.3)

    started = time.perf_counter()
    slow = await wa.send_message(to=CUSTOMER, text="slow")
    slow_seconds = time.perf_counter() - started
    started = time.perf_counter()
    await wa.send_message(to=CUSTOMER, text="quick")
    quick_seconds = time.perf_counter() - started

    assert slow.id.startswith("wamid.")
    assert slow_seconds >= 0.3
    assert quick_seconds < 0.3


async def test_a_dropped_reply_fails_the_call_while_the_status_webhooks_still_flow(
    wa: WhatsApp, simulator: SimulatorServer, receiver: WebhookReceiver
) -> None:
    add_fault(simulator, kind="drop", match="/messages")

    with pytest.raises(httpx.TransportError):
        await wa.send_message(to=CUSTOMER, text="Did it go?")

    [recorded] = simulator.control("GET", "sent").json()
    hooks = await receiver.statuses_of(recorded["wamid"], count=1)
    assert hooks[0].status is not None and hooks[0].status["status"] == "sent"
    assert hooks[0].signature_valid
    assert (await wa.send_message(to=CUSTOMER, text="And now?")).id.startswith("wamid.")


def test_unused_faults_are_listed_and_reset(simulator: SimulatorServer) -> None:
    add_fault(simulator, kind="latency", seconds=0.5, count=2)

    assert simulator.control("GET", "faults").json()["pending"][0]["remaining"] == 2
    simulator.reset()
    assert simulator.control("GET", "faults").json() == {"pending": []}
    assert simulator.control("POST", "faults", json={"kind": "error"}).status_code == 400
    assert simulator.control("POST", "faults", json={"kind": "meteor"}).status_code == 400


# --- the business ------------------------------------------------------------------------------------------


async def test_the_phone_number_and_the_account_can_be_looked_up(wa: WhatsApp) -> None:
    phone = await wa.get_business_phone_number()
    account = await wa.get_business_account()
    numbers = await wa.get_business_phone_numbers()

    assert phone.id == PHONE_ID
    assert phone.display_phone_number == "+1 555-000-1111"
    assert phone.verified_name == "PyWhatsApp Simulator"
    assert account.id == WABA_ID
    assert [n.id for n in numbers] == [PHONE_ID]
