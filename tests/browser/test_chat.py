"""/chat in a real browser: live inbound messages, reading, replying with ticks to read, templates when the
window is closed, tenant isolation, a phone-sized screen, and two app workers on one database."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.async_api import expect

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from tests.browser.conftest import (
    PHONE_VIEWPORT,
    WABA_ID,
    Shop,
    SignIn,
    customer_number,
    open_shop,
    screenshot,
)
from tests.integration.conftest import make_settings
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres

ORDER_TEMPLATE = {
    "name": "order_ready",
    "language": "en_US",
    "category": "UTILITY",
    "status": "APPROVED",
    "components": [
        {
            "type": "BODY",
            "text": "Hello {{1}}, your order {{2}} is ready.",
            "example": {"body_text": [["Ann", "A1"]]},
        }
    ],
}


async def test_a_customer_message_appears_live_is_read_on_opening_and_a_reply_goes_to_read(
    shop: Shop, signed_in: SignIn
) -> None:
    page = await signed_in(shop)
    await expect(page.locator("body")).to_have_attribute("data-live", "on")
    wa_id = customer_number()

    shop.customer_writes(wa_id, "Hello, is the blue one in stock?", name="Alice")

    row = page.locator(".conversation", has_text="Alice")
    await expect(row).to_contain_text("Hello, is the blue one in stock?")  # no reload: over the socket
    await expect(row.locator(".badge")).to_have_text("1")
    await screenshot(page, "chat-list")

    await row.locator("a").click()
    await expect(page.locator(".bubble.in .text")).to_have_text("Hello, is the blue one in stock?")
    await expect(page.locator(".conversation", has_text="Alice").locator(".badge")).to_have_count(0)

    await page.fill("#composer-body", "Yes, we have two left!")
    await page.click("#composer-send")
    sent = page.locator(".bubble.out", has_text="Yes, we have two left!")
    await expect(sent).to_have_attribute("data-status", "read", timeout=15_000)
    await expect(sent.locator(".ticks")).to_have_text("✓✓")

    # A reply quotes the message it answers; a new message in the open conversation shows up live.
    await page.locator(".bubble.in [data-reply]").first.click()
    await page.fill("#composer-body", "Shall I keep one for you?")
    await page.keyboard.press("Enter")
    await expect(page.locator(".bubble.out", has_text="Shall I keep one").locator(".quoted")).to_contain_text(
        "blue one"
    )
    shop.customer_writes(wa_id, "Yes please 🙏", name="Alice")
    await expect(page.locator(".bubble.in", has_text="Yes please")).to_be_visible()
    await screenshot(page, "chat-thread")

    unread = await shop.api("GET", "/api/v1/conversations")
    (conversation,) = unread.json()["data"]["items"]
    deadline = time.monotonic() + 5
    while conversation["unread_count"] and time.monotonic() < deadline:  # read again by the open page
        conversation = (await shop.api("GET", "/api/v1/conversations")).json()["data"]["items"][0]
    assert conversation["unread_count"] == 0


async def test_a_closed_window_needs_a_template_with_its_parameters(shop: Shop, signed_in: SignIn) -> None:
    shop.sim.control(
        "POST", "templates", json={"waba_id": WABA_ID, "templates": [ORDER_TEMPLATE]}
    ).raise_for_status()
    assert (await shop.api("POST", "/api/v1/templates/sync")).status_code == 200
    wa_id = customer_number()
    two_days_ago = int(time.time()) - 2 * 24 * 3600
    shop.customer_writes(wa_id, "Order A1 please", name="Bob", timestamp=str(two_days_ago))

    page = await signed_in(shop)
    row = page.locator(".conversation", has_text="Bob")
    await expect(row.locator(".window")).to_have_text("closed")
    await row.locator("a").click()
    await expect(page.locator("input[name=mode][value=text]")).to_be_disabled()
    await expect(page.locator("#composer-template")).to_be_visible()

    await page.select_option("#composer-template", "order_ready|en_US")
    await expect(page.locator("#template-params input[data-param]")).to_have_count(2)
    await page.click("#composer-send")  # parameters are required: the browser does not send
    await expect(page.locator(".bubble.out")).to_have_count(0)
    await page.fill("#template-params input[name=body_0]", "Bob")
    await page.fill("#template-params input[name=body_1]", "A1")
    await page.click("#composer-send")
    sent = page.locator(".bubble.out.type-template")
    await expect(sent).to_contain_text("order_ready")
    await expect(sent).to_have_attribute("data-status", "read", timeout=15_000)
    await screenshot(page, "chat-template")

    (meta,) = [m for m in shop.sim.control("GET", "sent").json() if m["wa_id"] == wa_id]
    assert meta["body"]["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Bob"},
        {"type": "text", "text": "A1"},
    ]


async def test_a_user_of_another_tenant_sees_none_of_it(
    shop: Shop,
    signed_in: SignIn,
    live_app: LiveServer,
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
) -> None:
    shop.customer_writes(customer_number(), "Private to the first shop", name="Carol")
    conversation_id = (await shop.api("GET", "/api/v1/conversations")).json()["data"]["items"][0]["id"]
    other = await open_shop(live_app.url, simulator, uow_factory, "other-shop", with_channel=False)

    page = await signed_in(other)
    await expect(page.locator("#conversation-list .empty")).to_contain_text("No conversations")
    shop.customer_writes(customer_number(), "Another private one", name="Dave")
    await page.wait_for_timeout(1000)  # the other tenant's event would have arrived by now
    await expect(page.locator(".conversation")).to_have_count(0)
    response = await page.goto(f"/chat/{conversation_id}")
    assert response is not None and response.status == 404
    thread = await page.request.get(f"/chat/{conversation_id}/thread")
    assert thread.status == 404
    await page.goto("/chat?q=Carol")
    await expect(page.locator(".conversation")).to_have_count(0)


async def test_on_a_phone_sized_screen_the_list_and_the_thread_take_turns(
    shop: Shop, signed_in: SignIn
) -> None:
    shop.customer_writes(customer_number(), "Hi from my phone", name="Erin")
    page = await signed_in(shop, viewport=PHONE_VIEWPORT)
    await expect(page.locator(".conversation", has_text="Erin")).to_be_visible()
    await screenshot(page, "chat-phone-list")
    await page.locator(".conversation a").first.click()
    await expect(page.locator(".inbox")).to_be_hidden()
    await expect(page.locator("#composer-body")).to_be_visible()
    await page.keyboard.press("Tab")  # keyboard reachable: the skip link comes first
    await screenshot(page, "chat-phone-thread")
    await page.click(".back")
    await expect(page.locator(".inbox")).to_be_visible()


@pytest.fixture(scope="module")
def second_worker(
    live_app: LiveServer, database_url: str, simulator: SimulatorServer
) -> Iterator[LiveServer]:
    """Another app on the same database: the simulator keeps delivering to the first one."""
    with LiveServer(make_settings(database_url, GRAPH_API_URL=simulator.url)) as server:
        yield server


async def test_with_two_workers_a_message_through_one_shows_live_in_a_browser_on_the_other(
    shop: Shop, signed_in: SignIn, second_worker: LiveServer
) -> None:
    page = await signed_in(shop, base_url=second_worker.url)
    await expect(page.locator("body")).to_have_attribute("data-live", "on")
    shop.customer_writes(customer_number(), "Through worker one", name="Frank")  # webhooks go to live_app
    await expect(page.locator(".conversation", has_text="Frank")).to_contain_text("Through worker one")
