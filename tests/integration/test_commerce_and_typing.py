"""Catalog and commerce messages, inbound orders, location requests and the typing indicator, end to end:
the app's API calls the simulator (a real HTTP server) through PyWA, the simulator checks and records the
request as Meta documents it, and its signed webhooks bring the customer's order or location back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from tests.integration.conftest import PASSWORD, ChannelOwner
from tests.support.api_errors import assert_error
from tests.support.live_server import LiveServer
from tests.support.meta_samples import SAMPLES_DIR
from tests.support.simulator import SimulatorServer, customer_number

pytestmark = pytest.mark.postgres

APP_SECRET = "commerce-simulator-secret-0123456789"
PHONE_NUMBER_ID = "1122334455667"
OTHER_PHONE_NUMBER_ID = "4455667788990"
WABA_ID = "1234567890987654321"
SAMPLES = SAMPLES_DIR  # copied into tests/fixtures: no test depends on where the repo sits
CATALOG = "354160437058781"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET)) as sim:
        yield sim


class Shop(ChannelOwner):
    def customer_sends(self, wa_id: str, message: dict[str, Any]) -> str:
        body = {**message, "phone_number_id": self.phone_number_id}
        answer = self.sim.control("POST", f"customers/{wa_id}/messages", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["delivered"], answer.json()
        wamid: str = answer.json()["wamid"]
        return wamid

    async def conversation_of(self, wa_id: str) -> dict[str, Any]:
        items = (await self.call("GET", "/api/v1/conversations", params={"limit": 200})).json()["data"][
            "items"
        ]
        (conversation,) = [c for c in items if c["wa_id"] == wa_id]
        return conversation  # type: ignore[no-any-return]

    async def thread(self, conversation_id: str) -> list[dict[str, Any]]:
        answer = await self.call("GET", f"/api/v1/conversations/{conversation_id}/messages")
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]["items"]  # type: ignore[no-any-return]

    def sent(self) -> list[dict[str, Any]]:
        return self.sim.control("GET", "sent").json()  # type: ignore[no-any-return]


async def open_shop(
    client: httpx.AsyncClient,
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    phone_number_id: str,
) -> Shop:
    return await Shop.open(
        client,
        simulator,
        uow_factory,
        slug=f"shop-{uuid4().hex[:8]}",
        phone_number_id=phone_number_id,
        access_token="EAAG-shop",
        app_secret=APP_SECRET,
        waba_id=WABA_ID,
    )


@pytest.fixture
async def shops(
    app_client: httpx.AsyncClient,
    fresh_simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
) -> tuple[Shop, Shop]:
    return (
        await open_shop(app_client, fresh_simulator, uow_factory, PHONE_NUMBER_ID),
        await open_shop(app_client, fresh_simulator, uow_factory, OTHER_PHONE_NUMBER_ID),
    )


@pytest.fixture
async def shop(shops: tuple[Shop, Shop]) -> Shop:
    return shops[0]


PRODUCT = {
    "type": "product",
    "body": {"text": "Our best seller"},
    "footer": {"text": "Free delivery"},
    "action": {"catalog_id": CATALOG, "product_retailer_id": "HAMBURGER"},
}
PRODUCT_LIST = {
    "type": "product_list",
    "header": {"type": "text", "text": "Tonight's menu"},
    "body": {"text": "Pick what you like"},
    "action": {
        "catalog_id": CATALOG,
        "sections": [
            {"title": "Mains", "product_items": [{"product_retailer_id": "HAMBURGER"}]},
            {
                "title": "Sides",
                "product_items": [{"product_retailer_id": "FRENCH_FRIES"}, {"product_retailer_id": "SODA"}],
            },
        ],
    },
}
CATALOG_MESSAGE = {
    "type": "catalog_message",
    "body": {"text": "Browse our catalog"},
    "action": {"name": "catalog_message", "parameters": {"thumbnail_product_retailer_id": "HAMBURGER"}},
}
LOCATION_REQUEST = {
    "type": "location_request_message",
    "body": {"text": "Where should we deliver?"},
    "action": {"name": "send_location"},
}


@pytest.mark.parametrize("interactive", [PRODUCT, PRODUCT_LIST, CATALOG_MESSAGE, LOCATION_REQUEST])
async def test_commerce_and_location_request_messages_reach_meta_as_documented(
    shop: Shop, interactive: dict[str, Any]
) -> None:
    customer = customer_number()
    shop.customer_sends(customer, {"type": "text", "text": {"body": "Hi"}})
    answer = await shop.call(
        "POST", "/api/v1/messages", json={"to": customer, "type": "interactive", "interactive": interactive}
    )
    assert answer.status_code in (200, 201), answer.text
    stored = answer.json()["data"]
    assert stored["status"] == "sent" and stored["type"] == "interactive"
    assert stored["content"] == {"interactive": interactive}

    (sent,) = [m for m in shop.sent() if m["wamid"] == stored["wamid"]]
    assert sent["body"]["messaging_product"] == "whatsapp" and sent["body"]["to"] == customer
    assert sent["body"]["type"] == "interactive" and sent["body"]["interactive"] == interactive

    conversation = await shop.conversation_of(customer)
    thread = await shop.thread(conversation["id"])
    assert thread[0]["wamid"] == stored["wamid"] and thread[0]["content"]["interactive"] == interactive
    assert thread[0]["text"] == interactive["body"]["text"]


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(base))
    copy.update(changes)
    return copy


async def test_commerce_messages_missing_what_meta_requires_are_refused_before_sending(shop: Shop) -> None:
    customer = customer_number()
    shop.customer_sends(customer, {"type": "text", "text": {"body": "Hi"}})
    many = [{"product_retailer_id": f"SKU{i}"} for i in range(31)]
    cases = [
        (_with(PRODUCT, action={"catalog_id": CATALOG}), "product_retailer_id"),
        (_with(PRODUCT_LIST, header=None), "header"),
        (_with(PRODUCT_LIST, action={"catalog_id": CATALOG, "sections": [{"product_items": many}]}), "30"),
        (
            _with(
                PRODUCT_LIST,
                action={
                    "catalog_id": CATALOG,
                    "sections": [
                        {"title": f"S{i}", "product_items": [{"product_retailer_id": "A"}]} for i in range(11)
                    ],
                },
            ),
            "10 sections",
        ),
        (
            _with(
                PRODUCT_LIST,
                action={"catalog_id": CATALOG, "sections": [{"title": "x", "product_items": []}]},
            ),
            "product_items",
        ),
        (_with(CATALOG_MESSAGE, action={"name": "catalog"}), "catalog_message"),
        (_with(CATALOG_MESSAGE, body=None), "body"),
        (_with(LOCATION_REQUEST, action={"name": "send_location_please"}), "send_location"),
    ]
    for interactive, word in cases:
        answer = await shop.call(
            "POST",
            "/api/v1/messages",
            json={"to": customer, "type": "interactive", "interactive": interactive},
        )
        assert_error(answer, 422, word)
    assert shop.sent() == []


async def test_an_inbound_order_is_stored_with_its_items_and_shown_in_the_thread(
    shops: tuple[Shop, Shop],
) -> None:
    shop, other = shops
    customer = customer_number()
    sample = json.loads((SAMPLES / "message" / "order.json").read_text())
    order = sample["entry"][0]["changes"][0]["value"]["messages"][0]["order"]
    order["text"] = "No onions please"
    wamid = shop.customer_sends(customer, {"type": "order", "order": order, "name": "Dana"})

    conversation = await shop.conversation_of(customer)
    assert conversation["last_message"]["text"] == "Order: 7 items, 180.00 ILS (No onions please)"
    (message,) = await shop.thread(conversation["id"])
    assert message["wamid"] == wamid and message["type"] == "order" and message["direction"] == "incoming"
    content = message["content"]
    assert content["catalog_id"] == CATALOG and content["text"] == "No onions please"
    assert content["item_count"] == 7 and content["totals"] == {"ILS": "180.00"}
    assert [
        (i["product_retailer_id"], i["quantity"], i["item_price"], i["currency"])
        for i in content["product_items"]
    ] == [
        ("HAMBURGER", 3, 30, "ILS"),
        ("FRENCH_FRIES", 2, 35, "ILS"),
        ("SODA", 2, 10, "ILS"),
    ]
    orders = await shop.call("GET", "/api/v1/messages", params={"type": "order"})
    assert [m["wamid"] for m in orders.json()["data"]["items"]] == [wamid]
    # The other tenant sees neither the order nor the conversation.
    assert (await other.call("GET", "/api/v1/messages", params={"type": "order"})).json()["data"][
        "items"
    ] == []
    assert_error(await other.call("GET", f"/api/v1/conversations/{conversation['id']}/messages"), 404)


async def test_the_reply_to_a_location_request_is_stored_as_a_location_in_reply_to_it(shop: Shop) -> None:
    customer = customer_number()
    shop.customer_sends(customer, {"type": "text", "text": {"body": "I want a delivery"}})
    request = await shop.call(
        "POST",
        "/api/v1/messages",
        json={"to": customer, "type": "interactive", "interactive": LOCATION_REQUEST},
    )
    request_wamid = request.json()["data"]["wamid"]
    location = {"latitude": 32.0853, "longitude": 34.7818, "name": "Home", "address": "1 Rothschild Blvd"}
    reply_wamid = shop.customer_sends(
        customer, {"type": "location", "location": location, "context": {"id": request_wamid}}
    )

    conversation = await shop.conversation_of(customer)
    # Meta's times are whole seconds: the reply may share the request's second, so find them by wamid.
    thread = {m["wamid"]: m for m in await shop.thread(conversation["id"])}
    asked, newest = thread[request_wamid], thread[reply_wamid]
    assert asked["content"]["interactive"]["type"] == "location_request_message"
    assert newest["wamid"] == reply_wamid and newest["type"] == "location"
    assert newest["context_wamid"] == request_wamid
    assert newest["content"]["latitude"] == 32.0853 and newest["content"]["longitude"] == 34.7818
    assert newest["text"] == "Home"


async def test_typing_shows_the_indicator_on_the_last_inbound_message_and_marks_it_read(
    shops: tuple[Shop, Shop],
) -> None:
    shop, other = shops
    customer = customer_number()
    shop.customer_sends(customer, {"type": "text", "text": {"body": "First"}})
    last = shop.customer_sends(customer, {"type": "text", "text": {"body": "Are you there?"}})
    conversation = await shop.conversation_of(customer)
    assert conversation["unread_count"] == 2

    typing = await shop.call("POST", f"/api/v1/conversations/{conversation['id']}/typing")
    assert typing.status_code == 200, typing.text
    data = typing.json()["data"]
    assert data["wamid"] == last and data["expires_in_seconds"] == 25

    receipts = shop.sim.control("GET", "read_receipts").json()
    assert [(r["message_id"], r["typing_indicator"], r["phone_number_id"]) for r in receipts] == [
        (last, True, PHONE_NUMBER_ID)
    ]
    assert (await shop.conversation_of(customer))["unread_count"] == 0

    # Another tenant cannot make this customer see them typing.
    assert_error(await other.call("POST", f"/api/v1/conversations/{conversation['id']}/typing"), 404)
    assert len(shop.sim.control("GET", "read_receipts").json()) == 1


async def test_typing_refused_by_meta_is_a_4xx_and_an_unknown_conversation_a_404(shop: Shop) -> None:
    customer = customer_number()
    shop.customer_sends(customer, {"type": "text", "text": {"body": "Hello"}})
    conversation = await shop.conversation_of(customer)
    shop.sim.control("POST", "faults", json={"kind": "error", "code": 100, "match": "/messages"})
    assert_error(await shop.call("POST", f"/api/v1/conversations/{conversation['id']}/typing"), 422, "Meta")
    assert_error(await shop.call("POST", f"/api/v1/conversations/{uuid4()}/typing"), 404)


async def test_the_chat_composer_shows_typing_through_a_csrf_protected_form_post(
    app: LiveServer, shop: Shop
) -> None:
    customer = customer_number()
    last = shop.customer_sends(customer, {"type": "text", "text": {"body": "Still there?"}})
    conversation = await shop.conversation_of(customer)
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as browser:
        form = await browser.get("/login")
        csrf = form.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
        signed_in = await browser.post(
            "/login", data={"username": shop.username, "password": PASSWORD, "_csrf_token": csrf}
        )
        assert signed_in.status_code in (302, 303), signed_in.text
        path = f"/chat/{conversation['id']}/typing"
        assert (await browser.post(path)).status_code == 403  # no CSRF token: refused
        token = browser.cookies["pywhatsapp_csrf"]
        shown = await browser.post(path, headers={"x-csrftoken": token})
        assert shown.status_code == 204 and shown.headers["x-typing"] == "shown"
    receipts = shop.sim.control("GET", "read_receipts").json()
    assert [(r["message_id"], r["typing_indicator"]) for r in receipts] == [(last, True)]
