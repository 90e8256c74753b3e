"""Message QR codes end to end: `/api/v1/qr-codes` calls the simulator's `message_qrdls` endpoint (a real
HTTP server) through PyWA as Meta documents it, keeps the PNG or SVG image it serves, and counts the
inbound messages that came from each code (a customer scanning it sends its prefilled message)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from pywhatsapp.adapters.whatsapp.simulator.webhooks import sign
from tests.integration.conftest import ChannelOwner
from tests.support.api_errors import assert_error
from tests.support.simulator import SimulatorServer, customer_number

pytestmark = pytest.mark.postgres

APP_SECRET = "qr-simulator-secret-0123456789"
PHONE_NUMBER_ID = "1122334455667"
OTHER_PHONE_NUMBER_ID = "3344556677889"
WABA_ID = "1234567890987654321"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET)) as sim:
        yield sim


class Shop(ChannelOwner):
    async def create(self, message: str, image_format: str = "PNG") -> dict[str, Any]:
        answer = await self.call(
            "POST", "/api/v1/qr-codes", json={"prefilled_message": message, "image_format": image_format}
        )
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()["data"]
        return created

    async def graph(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call straight to "Meta" (the simulator), as WhatsApp Manager would make one."""
        async with httpx.AsyncClient(base_url=self.sim.url, timeout=10) as meta:
            return await meta.request(method, path, headers={"Authorization": "Bearer EAAG-qr"}, **kwargs)

    def graph_requests(self) -> list[dict[str, Any]]:
        requests: list[dict[str, Any]] = self.sim.control("GET", "qr_codes").json()["requests"]
        return requests


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
        slug=f"qr-{uuid4().hex[:8]}",
        phone_number_id=phone_number_id,
        access_token="EAAG-qr",
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


async def test_creating_a_code_asks_meta_and_keeps_its_png(shop: Shop) -> None:
    created = await shop.create("  Hi! I saw your poster  ")

    (request,) = shop.graph_requests()
    assert request["method"] == "POST" and request["path"].endswith(f"/{PHONE_NUMBER_ID}/message_qrdls")
    assert request["body"] == {"prefilled_message": "Hi! I saw your poster", "generate_qr_image": "PNG"}

    (at_meta,) = shop.sim.control("GET", "qr_codes").json()["codes"]
    assert created["code"] == at_meta["code"]
    assert created["deep_link_url"] == f"https://wa.me/message/{at_meta['code']}"
    assert created["prefilled_message"] == "Hi! I saw your poster"
    assert created["image_format"] == "PNG" and created["image_stored"] is True
    assert created["messages"] == 0 and created["last_message_at"] is None

    image = await shop.call("GET", created["image_url"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(PNG_MAGIC) and len(image.content) > 200
    # The very image Meta's URL serves, downloaded once and kept (Meta's URL is not called again).
    served = await shop.graph("GET", f"/qr_images/{created['code']}.png")
    assert served.content == image.content
    assert [r["method"] for r in shop.graph_requests()] == ["POST"]


async def test_an_svg_code_is_served_as_svg(shop: Shop) -> None:
    created = await shop.create("Menu please", "SVG")
    assert shop.graph_requests()[0]["body"]["generate_qr_image"] == "SVG"
    image = await shop.call("GET", f"/api/v1/qr-codes/{created['code']}/image")
    assert image.status_code == 200
    assert image.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in image.content[:400]


async def test_list_get_update_and_delete_go_through_meta(shop: Shop) -> None:
    first = await shop.create("First offer")
    second = await shop.create("Second offer")

    listed = await shop.call("GET", "/api/v1/qr-codes")
    assert listed.status_code == 200
    page = listed.json()["data"]
    assert page["total"] == 2 and [q["code"] for q in page["items"]] == [second["code"], first["code"]]

    refreshed = await shop.call("GET", f"/api/v1/qr-codes/{first['code']}", params={"refresh": "true"})
    assert refreshed.status_code == 200 and refreshed.json()["data"]["prefilled_message"] == "First offer"
    get_request = shop.graph_requests()[-1]
    assert get_request["method"] == "GET"
    assert get_request["path"].endswith(f"/{PHONE_NUMBER_ID}/message_qrdls/{first['code']}")

    updated = await shop.call(
        "PATCH", f"/api/v1/qr-codes/{first['code']}", json={"prefilled_message": "Better offer"}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["prefilled_message"] == "Better offer"
    update_request = shop.graph_requests()[-1]
    assert update_request["method"] == "POST" and update_request["path"].endswith("/message_qrdls")
    assert update_request["body"] == {"code": first["code"], "prefilled_message": "Better offer"}
    at_meta = {q["code"]: q for q in shop.sim.control("GET", "qr_codes").json()["codes"]}
    assert at_meta[first["code"]]["prefilled_message"] == "Better offer"

    deleted = await shop.call("DELETE", f"/api/v1/qr-codes/{first['code']}")
    assert deleted.status_code == 200, deleted.text
    delete_request = shop.graph_requests()[-1]
    assert delete_request["method"] == "DELETE"
    assert delete_request["path"].endswith(f"/{PHONE_NUMBER_ID}/message_qrdls/{first['code']}")
    assert first["code"] not in {q["code"] for q in shop.sim.control("GET", "qr_codes").json()["codes"]}
    assert_error(await shop.call("GET", f"/api/v1/qr-codes/{first['code']}"), 404)
    remaining = (await shop.call("GET", "/api/v1/qr-codes")).json()["data"]
    assert [q["code"] for q in remaining["items"]] == [second["code"]]


async def test_sync_takes_meta_list_as_the_truth(shop: Shop) -> None:
    kept = await shop.create("Kept")
    gone = await shop.create("Gone")
    # A code made in WhatsApp Manager, and one deleted there: the app learns both from Meta's list.
    made = await shop.graph(
        "POST",
        f"/v22.0/{PHONE_NUMBER_ID}/message_qrdls",
        json={"prefilled_message": "From WhatsApp Manager", "generate_qr_image": "SVG"},
    )
    assert made.status_code == 200, made.text
    (await shop.graph("DELETE", f"/v22.0/{PHONE_NUMBER_ID}/message_qrdls/{gone['code']}")).raise_for_status()

    synced = await shop.call("POST", "/api/v1/qr-codes/sync")
    assert synced.status_code == 200, synced.text
    assert synced.json()["data"] == {"created": 1, "updated": 0, "removed": 1}
    list_request = shop.graph_requests()[-1]
    assert list_request["method"] == "GET" and list_request["path"].endswith("/message_qrdls")

    items = (await shop.call("GET", "/api/v1/qr-codes")).json()["data"]["items"]
    by_code = {q["code"]: q for q in items}
    assert set(by_code) == {kept["code"], made.json()["code"]}
    synced_code = by_code[made.json()["code"]]
    assert (
        synced_code["prefilled_message"] == "From WhatsApp Manager" and synced_code["image_stored"] is False
    )
    # Its image is fetched from Meta when first asked for (`qr_image_url.format(PNG)`), then kept.
    image = await shop.call("GET", synced_code["image_url"])
    assert image.status_code == 200 and image.content.startswith(PNG_MAGIC)
    assert "qr_image_url.format(PNG)" in shop.graph_requests()[-1]["query"]["fields"]
    again = await shop.call("GET", f"/api/v1/qr-codes/{synced_code['code']}")
    assert again.json()["data"]["image_stored"] is True


async def _eventually_count(shop: Shop, code: str, expected: int) -> dict[str, Any]:
    for _ in range(100):
        data: dict[str, Any] = (await shop.call("GET", f"/api/v1/qr-codes/{code}")).json()["data"]
        if data["messages"] == expected:
            return data
        await asyncio.sleep(0.05)
    raise AssertionError(f"the code did not count {expected} messages: {data}")


async def test_messages_that_came_from_a_code_are_counted_per_code(shop: Shop) -> None:
    poster = await shop.create("Hello from the poster")
    flyer = await shop.create("Hello from the flyer")
    alice, bob = customer_number(), customer_number()

    for wa_id in (alice, bob):
        scanned = shop.sim.control("POST", f"qr_codes/{poster['code']}/scan", json={"wa_id": wa_id})
        assert scanned.status_code == 200 and scanned.json()["delivered"], scanned.text
    # The customer may add spaces around it; anything else is an ordinary message.
    for text in ("  Hello from the flyer \n", "Hello from the poster, and more", "hello from the flyer"):
        shop.sim.control(
            "POST", f"customers/{alice}/messages", json={"type": "text", "text": {"body": text}}
        ).raise_for_status()

    counted = await _eventually_count(shop, poster["code"], 2)
    assert counted["last_message_at"] is not None
    assert (await _eventually_count(shop, flyer["code"], 1))["messages"] == 1

    messages = await shop.call("GET", "/api/v1/messages", params={"wa_id": alice, "direction": "incoming"})
    tagged = {m["text"]: m["content"].get("qr_code") for m in messages.json()["data"]["items"]}
    assert tagged["Hello from the poster"] == poster["code"]
    assert tagged["  Hello from the flyer \n"] == flyer["code"]
    assert tagged["Hello from the poster, and more"] is None and tagged["hello from the flyer"] is None

    # Meta delivers at least once: the same webhook again is not a second scan.
    payload = next(
        p
        for p in shop.sim.control("GET", "inbound").json()
        if p["entry"][0]["changes"][0]["value"]["messages"][0]["from"] == bob
    )
    body = json.dumps(payload).encode()
    replayed = await shop.client.post(
        "/webhooks",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)},
    )
    assert replayed.status_code == 200
    await asyncio.sleep(0.2)
    assert (await shop.call("GET", f"/api/v1/qr-codes/{poster['code']}")).json()["data"]["messages"] == 2


async def test_another_tenant_sees_none_of_it(shops: tuple[Shop, Shop]) -> None:
    mine, theirs = shops
    created = await mine.create("Only ours")
    code = created["code"]
    for method, path, body in (
        ("GET", f"/api/v1/qr-codes/{code}", None),
        ("GET", f"/api/v1/qr-codes/{code}/image", None),
        ("PATCH", f"/api/v1/qr-codes/{code}", {"prefilled_message": "Hijacked"}),
        ("DELETE", f"/api/v1/qr-codes/{code}", None),
    ):
        assert_error(await theirs.call(method, path, json=body), 404)
    assert (await theirs.call("GET", "/api/v1/qr-codes")).json()["data"]["total"] == 0
    # Their own code is made on their own phone number.
    own = await theirs.create("Theirs")
    assert shop_path(theirs.graph_requests()[-1]).endswith(f"/{OTHER_PHONE_NUMBER_ID}/message_qrdls")
    assert (await mine.call("GET", "/api/v1/qr-codes")).json()["data"]["total"] == 1
    assert_error(await mine.call("GET", f"/api/v1/qr-codes/{own['code']}"), 404)
    # A customer scanning their code on their number is not counted on ours.
    mine.sim.control(
        "POST", f"qr_codes/{own['code']}/scan", json={"wa_id": customer_number()}
    ).raise_for_status()
    await _eventually_count(theirs, own["code"], 1)
    assert (await mine.call("GET", f"/api/v1/qr-codes/{code}")).json()["data"]["messages"] == 0


def shop_path(request: dict[str, Any]) -> str:
    path: str = request["path"]
    return path


async def test_bad_input_is_refused_before_meta_is_called(shop: Shop) -> None:
    assert_error(await shop.call("POST", "/api/v1/qr-codes", json={"prefilled_message": "   "}), 422, "empty")
    assert_error(
        await shop.call("POST", "/api/v1/qr-codes", json={"prefilled_message": "x" * 141}), 422, "140"
    )
    assert_error(
        await shop.call("POST", "/api/v1/qr-codes", json={"prefilled_message": "Hi", "image_format": "GIF"}),
        422,
    )
    assert_error(await shop.call("GET", "/api/v1/qr-codes/NOPE"), 404)
    assert_error(await shop.call("GET", "/api/v1/qr-codes/bad%20code!/image"), 404)
    assert shop.graph_requests() == []


async def test_meta_refusing_a_code_is_a_4xx_and_nothing_is_stored(shop: Shop) -> None:
    shop.sim.control("POST", "faults", json={"kind": "error", "code": 100, "match": "message_qrdls"})
    assert_error(await shop.call("POST", "/api/v1/qr-codes", json={"prefilled_message": "Hi"}), 422, "Meta")
    assert (await shop.call("GET", "/api/v1/qr-codes")).json()["data"]["total"] == 0
    shop.sim.control("POST", "faults", json={"kind": "http_500", "match": "message_qrdls", "count": 5})
    answer = await shop.call("POST", "/api/v1/qr-codes", json={"prefilled_message": "Hi"})
    assert answer.status_code in (502, 503), answer.text
    shop.sim.control("DELETE", "faults")
