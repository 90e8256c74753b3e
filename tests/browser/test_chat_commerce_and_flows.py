"""/chat in a real browser with the interactive messages: an agent sends a product, a products list, a flow
and a location request from the composer and sees each in the thread with its ticks (and what reached
"Meta" is what the JSON API would have sent); a mistake answers in the composer; the customer's order and
flow completion show live with their items and answers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import SCREENSHOTS, Shop, SignIn, customer_number, screenshot

pytestmark = pytest.mark.postgres

CATALOG = "354160437058781"
FLOW_JSON: dict[str, Any] = {
    "version": "7.1",
    "routing_model": {"BOOK": []},
    "screens": [
        {
            "id": "BOOK",
            "title": "Book a table",
            "terminal": True,
            "data": {"greeting": {"type": "string", "__example__": "Hi"}},
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextBody", "text": "${data.greeting}"},
                    {
                        "type": "Footer",
                        "label": "Book",
                        "on-click-action": {"name": "complete", "payload": {}},
                    },
                ],
            },
        }
    ],
}


def sent_to(shop: Shop, wa_id: str) -> list[dict[str, Any]]:
    """What the simulator ("Meta") was asked to send to this customer, oldest first."""
    return [m for m in shop.sim.control("GET", "sent").json() if m["wa_id"] == wa_id]


def customer_sends(shop: Shop, wa_id: str, message: dict[str, Any]) -> str:
    """The customer sends any Meta message object (an order, a flow's completion...) through the simulator.

    Meta stamps messages in whole seconds: a reply in the same second as the agent's last send would sort
    before it (a known limit, in the README), so the customer answers in the next second, as people do."""
    time.sleep(1.0 - time.time() % 1.0 + 0.01)
    answer = shop.sim.control("POST", f"customers/{wa_id}/messages", json={**message, "name": "Grace"})
    assert answer.status_code == 200, answer.text
    delivery = answer.json()
    assert delivery["delivered"] and delivery["status_code"] == 200, delivery
    wamid: str = delivery["wamid"]
    return wamid


async def thread_screenshot(page: Page, name: str) -> Path:
    """The screen as the agent sees it with the thread scrolled to its newest message (a full-page shot
    shows the thread's scroll area from its top)."""
    await page.evaluate("document.getElementById('thread').scrollTop = 1e9")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


async def choose(page: Page, mode: str) -> None:
    await page.check(f"input[name=mode][value={mode}]")
    await expect(page.locator(f"[data-mode-panel={mode}]")).to_be_visible()


async def test_an_agent_sends_commerce_flow_and_location_messages_and_sees_the_customers_answers(
    shop: Shop, signed_in: SignIn
) -> None:
    created = await shop.api(
        "POST",
        "/api/v1/flows",
        json={"name": "Table booking", "categories": ["OTHER"], "flow_json": FLOW_JSON, "publish": True},
    )
    assert created.status_code == 201, created.text
    flow = created.json()["data"]
    assert flow["status"] == "PUBLISHED"
    draft = await shop.api("POST", "/api/v1/flows", json={"name": "Unfinished", "categories": ["OTHER"]})
    assert draft.status_code == 201, draft.text

    wa_id = customer_number()
    shop.customer_writes(wa_id, "Hi, what do you have tonight?", name="Grace")
    page = await signed_in(shop)
    await page.locator(".conversation", has_text="Grace").locator("a").click()
    await expect(page.locator(".bubble.in .text")).to_have_text("Hi, what do you have tonight?")

    # A product: the message box gives way to the product's fields.
    await choose(page, "product")
    await expect(page.locator("#composer-body")).to_be_hidden()
    await page.fill("#composer-product-catalog", CATALOG)
    await page.fill("#composer-product-id", "HAMBURGER")
    await page.fill("#composer-product-body", "Our best seller")
    await page.fill("#composer-product-footer", "Free delivery")
    await page.click("#composer-send")
    product = page.locator(".bubble.out", has_text="Product HAMBURGER")
    await expect(product).to_contain_text("Our best seller")
    await expect(product).to_have_attribute("data-status", "read", timeout=15_000)
    await expect(product.locator(".ticks")).to_have_text("✓✓")
    await expect(page.locator("input[name=mode][value=product]")).to_be_checked()  # the mode stays
    await expect(page.locator("#composer-product-id")).to_have_value("")

    # Several products: the catalog id typed for the product is already there.
    await choose(page, "products")
    await expect(page.locator("#composer-products-catalog")).to_have_value(CATALOG)
    await page.fill("#composer-products-header", "Tonight's menu")
    await page.fill("#composer-products-body", "Pick what you like")
    await page.fill("#composer-products-section", "Mains")
    await page.fill("#composer-products-ids", "HAMBURGER\nFRENCH_FRIES, SODA\nHAMBURGER")
    await screenshot(page, "chat-composer-products")
    await page.click("#composer-send")
    products = page.locator(".bubble.out", has_text="Products: Tonight's menu")
    await expect(products.locator(".card-fields")).to_contain_text("HAMBURGER, FRENCH_FRIES, SODA")
    await expect(products).to_have_attribute("data-status", "read", timeout=15_000)

    # A flow: only the published one is offered; data that is not a JSON object is refused in the composer.
    await choose(page, "flow")
    options = await page.locator("#composer-flow option").all_text_contents()
    assert options == ["Choose a published flow", "Table booking"]
    await page.select_option("#composer-flow", flow["id"])
    await page.fill("#composer-flow-cta", "Book a table")
    await page.fill("#composer-flow-body", "Book your table for tonight")
    await page.click("[data-mode-panel=flow] summary")
    await page.fill("#composer-flow-screen", "BOOK")
    await page.fill("#composer-flow-data", "{greeting: Hi}")
    await page.click("#composer-send")
    await expect(page.locator("#composer-error")).to_contain_text("must be a JSON object")
    await expect(page.locator(".bubble.out", has_text="Flow:")).to_have_count(0)
    await page.fill("#composer-flow-data", '{"greeting": "Hi Grace"}')
    await page.click("#composer-send")
    await expect(page.locator("#composer-error")).to_have_text("")
    flow_bubble = page.locator(".bubble.out", has_text="Flow: Book a table")
    await expect(flow_bubble).to_contain_text("Table booking")  # the flow's name, from Meta's flow id
    await expect(flow_bubble).to_have_attribute("data-status", "read", timeout=15_000)

    # A location request.
    await choose(page, "location")
    await page.fill("#composer-location-body", "Where should we deliver?")
    await page.click("#composer-send")
    ask = page.locator(".bubble.out", has_text="Asked for location")
    await expect(ask).to_contain_text("Where should we deliver?")
    await expect(ask).to_have_attribute("data-status", "read", timeout=15_000)
    await expect(ask.locator(".ticks")).to_have_text("✓✓")
    await expect(page.locator(".conversation", has_text="Grace").locator(".preview")).to_have_text(
        "[asked for location]"
    )
    await thread_screenshot(page, "chat-commerce-sent")

    # "Meta" got what POST /api/v1/messages would have sent.
    interactive = [m["body"]["interactive"] for m in sent_to(shop, wa_id) if m["type"] == "interactive"]
    assert [i["type"] for i in interactive] == ["product", "product_list", "flow", "location_request_message"]
    assert interactive[0] == {
        "type": "product",
        "body": {"text": "Our best seller"},
        "footer": {"text": "Free delivery"},
        "action": {"catalog_id": CATALOG, "product_retailer_id": "HAMBURGER"},
    }
    assert interactive[1]["header"] == {"type": "text", "text": "Tonight's menu"}
    assert interactive[1]["action"] == {
        "catalog_id": CATALOG,
        "sections": [
            {
                "title": "Mains",
                "product_items": [
                    {"product_retailer_id": "HAMBURGER"},
                    {"product_retailer_id": "FRENCH_FRIES"},
                    {"product_retailer_id": "SODA"},
                ],
            }
        ],
    }
    parameters = interactive[2]["action"]["parameters"]
    assert parameters["flow_id"] == flow["meta_flow_id"] and parameters["flow_cta"] == "Book a table"
    assert parameters["flow_action"] == "navigate" and parameters["flow_message_version"] == "3"
    assert parameters["flow_action_payload"] == {"screen": "BOOK", "data": {"greeting": "Hi Grace"}}
    token = parameters["flow_token"]
    assert token.startswith(f"{flow['id']}.") and len(token) > len(flow["id"]) + 10  # made up by the app
    assert interactive[3] == {
        "type": "location_request_message",
        "body": {"text": "Where should we deliver?"},
        "action": {"name": "send_location"},
    }

    # The customer orders from the catalog: the order shows live with its lines and total.
    customer_sends(
        shop,
        wa_id,
        {
            "type": "order",
            "order": {
                "catalog_id": CATALOG,
                "text": "No onions please",
                "product_items": [
                    {"product_retailer_id": "HAMBURGER", "quantity": 3, "item_price": 30, "currency": "ILS"},
                    {
                        "product_retailer_id": "FRENCH_FRIES",
                        "quantity": 2,
                        "item_price": 35,
                        "currency": "ILS",
                    },
                    {"product_retailer_id": "SODA", "quantity": 2, "item_price": 10, "currency": "ILS"},
                ],
            },
        },
    )
    order = page.locator(".bubble.in.type-order")
    await expect(order.locator(".card-label")).to_have_text("Order")
    await expect(order.locator(".card-detail")).to_have_text(f"catalog {CATALOG}")
    await expect(order.locator("tbody tr")).to_have_count(3)
    await expect(order.locator("tbody tr").first).to_have_text("HAMBURGER330.00 ILS")
    await expect(order.locator(".total")).to_have_text("180.00 ILS")
    await expect(order.locator(".text")).to_have_text("No onions please")
    await expect(page.locator(".conversation", has_text="Grace").locator(".preview")).to_have_text(
        "[order] 7 items · 180.00 ILS"
    )

    # The customer completes the flow: its answers show live, named after the flow its token names.
    (flow_message,) = [
        m for m in sent_to(shop, wa_id) if m["body"].get("interactive", {}).get("type") == "flow"
    ]
    answers = {"party_size": "4", "time": "20:30", "notes": "Window seat", "flow_token": token}
    customer_sends(
        shop,
        wa_id,
        {
            "type": "interactive",
            "context": {"id": flow_message["wamid"]},
            "interactive": {
                "type": "nfm_reply",
                "nfm_reply": {"name": "flow", "body": "Sent", "response_json": json.dumps(answers)},
            },
        },
    )
    reply = page.locator(".bubble.in", has_text="Flow reply")
    await expect(reply.locator(".card-detail")).to_have_text("Table booking · Sent")
    await expect(reply.locator(".card-fields dt")).to_have_text(["party_size", "time", "notes"])
    await expect(reply.locator(".card-fields dd")).to_have_text(["4", "20:30", "Window seat"])
    await expect(reply.locator(".quoted")).to_contain_text("[flow] Book a table")
    await expect(page.locator(".conversation", has_text="Grace").locator(".preview")).to_have_text(
        "[flow reply]"
    )
    await expect(page.locator(".bubble .text.muted")).to_have_count(0)  # no "[interactive]" or "[order]"
    await thread_screenshot(page, "chat-order-and-flow-reply")


async def test_the_interactive_modes_wait_for_the_window_and_refuse_what_meta_would(
    shop: Shop, signed_in: SignIn
) -> None:
    wa_id = customer_number()
    shop.customer_writes(wa_id, "Can you send me the catalog?", name="Grace")
    page = await signed_in(shop)
    await page.locator(".conversation", has_text="Grace").locator("a").click()

    # A catalog message with a thumbnail.
    await choose(page, "catalog")
    await page.fill("#composer-catalog-body", "Browse our catalog")
    await page.fill("#composer-catalog-thumbnail", "HAMBURGER")
    await page.click("#composer-send")
    catalog = page.locator(".bubble.out", has_text="Catalog")
    await expect(catalog).to_contain_text("thumbnail HAMBURGER")
    await expect(catalog).to_have_attribute("data-status", "read", timeout=15_000)

    # The browser's own checks first: a required field left empty sends nothing.
    await choose(page, "products")
    await page.fill("#composer-products-catalog", CATALOG)
    await page.click("#composer-send")
    await expect(page.locator(".bubble.out")).to_have_count(1)

    # The server's: more products than Meta takes, named in the composer's error line.
    await page.fill("#composer-products-header", "Everything")
    await page.fill("#composer-products-body", "All of it")
    await page.fill("#composer-products-section", "All")
    await page.fill("#composer-products-ids", "\n".join(f"SKU{n}" for n in range(31)))
    await page.click("#composer-send")
    await expect(page.locator("#composer-error")).to_have_text("A products message holds at most 30 products")
    await expect(page.locator(".bubble.out")).to_have_count(1)

    # A flow that does not exist (a forged form): refused in the composer, not a server error.
    response = await page.request.post(
        page.url + "/send",
        multipart={"mode": "flow", "flow": "not-a-flow", "flow_cta": "Go", "flow_body": "x"},
        headers={"x-csrftoken": await csrf_token(page)},
    )
    assert response.status == 200 and await response.text() == "Choose a published flow"
    assert response.headers["hx-retarget"] == "#composer-error"

    # Once the window closes, only a template may be sent.
    await page.evaluate(
        "document.getElementById('thread').querySelector('.thread-state').dataset.windowOpen = 'false'"
    )
    await page.evaluate(
        "htmx.trigger(document.body, 'htmx:afterSwap', {target: document.getElementById('thread')})"
    )
    for mode in ("text", "flow", "product", "products", "catalog", "location"):
        await expect(page.locator(f"input[name=mode][value={mode}]")).to_be_disabled()
    await expect(page.locator("input[name=mode][value=template]")).to_be_checked()
    await expect(page.locator("[data-mode-panel=products]")).to_be_hidden()
    assert [m["body"]["interactive"]["type"] for m in sent_to(shop, wa_id)] == ["catalog_message"]


async def csrf_token(page: Page) -> str:
    headers = await page.evaluate("document.body.getAttribute('hx-headers')")
    token: str = json.loads(headers)["x-csrftoken"]
    return token
