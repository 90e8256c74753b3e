"""/chat in a real browser, what the composer does beside text: the customer sees "typing…" while the agent
writes (one indicator, not one a keystroke, and none once the window closed), a picture uploaded from the
composer, a reaction to the customer's message, a message Meta could not deliver (its reason under the
bubble) and the search over names and numbers. The simulator counts what "Meta" received."""

from __future__ import annotations

import asyncio
import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import Page, Request, expect

from tests.browser.conftest import WABA_ID, Shop, SignIn, customer_number, screenshot

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


def sent_to(shop: Shop, wa_id: str) -> list[dict[str, Any]]:
    """What the simulator ("Meta") was asked to send to this customer, oldest first."""
    return [m for m in shop.sim.control("GET", "sent").json() if m["wa_id"] == wa_id]


def typing_shown_on(shop: Shop, wamid: str) -> list[dict[str, Any]]:
    """The typing indicators "Meta" was asked to show on this customer message."""
    receipts = shop.sim.control("GET", "read_receipts").json()
    return [r for r in receipts if r["message_id"] == wamid and r["typing_indicator"]]


async def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the simulator did not get it in time")
        await asyncio.sleep(0.05)


def typing_posts(page: Page) -> list[str]:
    """Every POST the page makes to a /typing URL, as they happen."""
    seen: list[str] = []

    def record(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/typing"):
            seen.append(request.url)

    page.on("request", record)
    return seen


async def open_conversation(page: Page, name: str) -> None:
    await page.locator(".conversation", has_text=name).locator("a").click()
    await expect(page.locator(".pane-header h1")).to_have_text(name)


def png(width: int = 96, height: int = 64) -> bytes:
    picture = Image.new("RGB", (width, height), (37, 211, 102))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


async def test_typing_in_the_composer_shows_the_customer_one_typing_indicator_every_20_seconds(
    shop: Shop, signed_in: SignIn
) -> None:
    wa_id = customer_number()
    shop.customer_writes(wa_id, "Hello?", name="Hana")
    last = shop.customer_writes(wa_id, "Anyone there?", name="Hana")
    page = await signed_in(shop)
    await page.clock.install()  # the page's clock, to move 20 seconds on without waiting for them
    posts = typing_posts(page)
    await page.reload()
    await open_conversation(page, "Hana")

    await page.locator("#composer-body").press_sequentially("Yes, I am here", delay=20)
    await wait_for(lambda: typing_shown_on(shop, last))
    await page.wait_for_timeout(500)  # a second indicator would have reached the simulator by now
    (shown,) = typing_shown_on(shop, last)  # one for the 14 keystrokes, on the last customer message
    assert len(posts) == 1 and shown["phone_number_id"]

    await page.clock.fast_forward(10_000)
    await page.locator("#composer-body").press_sequentially(", one moment")
    await page.wait_for_timeout(300)
    assert len(posts) == 1 and len(typing_shown_on(shop, last)) == 1  # 10 s later: still showing

    await page.clock.fast_forward(11_000)
    await page.locator("#composer-body").press_sequentially(".")
    await wait_for(lambda: len(typing_shown_on(shop, last)) == 2)  # past 20 s: shown again
    assert len(posts) == 2

    await page.keyboard.press("Enter")
    await expect(page.locator(".bubble.out", has_text="Yes, I am here, one moment.")).to_be_visible()
    (reply,) = sent_to(shop, wa_id)
    assert reply["body"]["text"]["body"] == "Yes, I am here, one moment."
    assert len(posts) == 2


async def test_no_typing_indicator_once_the_window_is_closed(shop: Shop, signed_in: SignIn) -> None:
    shop.sim.control(
        "POST", "templates", json={"waba_id": WABA_ID, "templates": [ORDER_TEMPLATE]}
    ).raise_for_status()
    assert (await shop.api("POST", "/api/v1/templates/sync")).status_code == 200
    wa_id = customer_number()
    two_days_ago = int(time.time()) - 2 * 24 * 3600
    old = shop.customer_writes(wa_id, "Order A1 please", name="Ilan", timestamp=str(two_days_ago))

    page = await signed_in(shop)
    posts = typing_posts(page)
    await open_conversation(page, "Ilan")
    await page.select_option("#composer-template", "order_ready|en_US")
    await page.locator("#template-params input[name=body_0]").press_sequentially("Ilan")
    await page.locator("#template-params input[name=body_1]").press_sequentially("A1")
    await page.click("#composer-send")
    await expect(page.locator(".bubble.out.type-template")).to_contain_text("order_ready")
    await page.wait_for_timeout(300)
    assert posts == [] and typing_shown_on(shop, old) == []


async def test_an_image_uploaded_from_the_composer_reaches_meta_and_shows_in_the_thread(
    shop: Shop, signed_in: SignIn, tmp_path: Path
) -> None:
    wa_id = customer_number()
    shop.customer_writes(wa_id, "Can I see it?", name="Jonas")
    page = await signed_in(shop)
    await open_conversation(page, "Jonas")
    picture = tmp_path / "blue-shirt.png"
    picture.write_bytes(png())

    await page.set_input_files("#composer-file", str(picture))
    attached = page.locator("#composer-attachment")
    await expect(attached).to_contain_text("blue-shirt.png")
    preview = attached.locator("img")
    await expect(preview).to_have_attribute("src", re.compile(r"^blob:"))  # the picture as it will go
    assert await preview.evaluate("img => img.complete && img.naturalWidth") == 96
    await page.fill("#composer-body", "The blue one")
    await screenshot(page, "chat-composer-attachment")
    await page.click("#composer-send")
    # The sent picture shows with its caption (its kept copy, as a thumbnail: test_chat_outbound_media.py).
    sent = page.locator(".bubble.out.type-image")
    await expect(sent).to_contain_text("The blue one")
    await expect(sent).to_have_attribute("data-status", "read", timeout=15_000)
    await expect(page.locator("#composer-file")).to_have_value("")  # the composer emptied
    await expect(attached).to_be_hidden()

    (meta,) = sent_to(shop, wa_id)
    assert meta["type"] == "image" and meta["body"]["image"]["caption"] == "The blue one"
    uploads = {m["id"]: m for m in shop.sim.control("GET", "media").json()}
    uploaded = uploads[meta["body"]["image"]["id"]]
    assert uploaded["mime_type"] == "image/png" and uploaded["file_size"] == picture.stat().st_size
    await expect(page.locator(".conversation", has_text="Jonas").locator(".preview")).to_have_text(
        "[image] The blue one"
    )
    await screenshot(page, "chat-composer-image")


async def test_a_reaction_to_a_customer_message_reaches_meta_and_shows_on_the_bubble(
    shop: Shop, signed_in: SignIn
) -> None:
    wa_id = customer_number()
    wamid = shop.customer_writes(wa_id, "Thanks, it arrived!", name="Kira")
    page = await signed_in(shop)
    await open_conversation(page, "Kira")

    customer_bubble = page.locator(".bubble.in", has_text="Thanks, it arrived!")
    await customer_bubble.locator("details.react summary").click()
    await customer_bubble.get_by_role("button", name="React ❤️").click()
    await expect(customer_bubble.locator(".reactions")).to_have_text("❤️")
    await expect(page.locator(".conversation", has_text="Kira").locator(".preview")).to_have_text(
        "You reacted ❤️"
    )
    await screenshot(page, "chat-reaction")

    (meta,) = sent_to(shop, wa_id)
    assert meta["type"] == "reaction"
    assert meta["body"]["reaction"] == {"message_id": wamid, "emoji": "❤️"}
    await expect(page.locator(".bubble.out")).to_have_count(0)  # a reaction is no message of its own


async def test_a_message_meta_could_not_deliver_says_why_under_its_bubble(
    shop: Shop, signed_in: SignIn
) -> None:
    wa_id = customer_number()
    shop.customer_writes(wa_id, "Send me the invoice", name="Lena")
    page = await signed_in(shop)
    await open_conversation(page, "Lena")
    before = shop.sim.control("GET", "config").json()["status_delays"]
    # "delivered" comes late: the failure webhook Meta sends for an undeliverable message comes first.
    shop.sim.control("POST", "config", json={"status_delays": [0.05, 3.0, 3.5]}).raise_for_status()
    try:
        await page.fill("#composer-body", "Here it is")
        await page.click("#composer-send")
        sent = page.locator(".bubble.out", has_text="Here it is")
        await expect(sent).to_have_attribute("data-status", "sent")
        wamid = await sent.get_attribute("data-wamid")
        assert wamid
        pushed = shop.sim.control(
            "POST", "statuses", json={"wamid": wamid, "status": "failed", "error_code": 131026}
        )
        assert pushed.json()["delivered"], pushed.text
        await expect(sent).to_have_attribute("data-status", "failed")
        await expect(sent.locator(".failure")).to_have_text("Not delivered: Message Undeliverable (131026)")
        await expect(sent.locator(".ticks")).to_have_text("⚠")
        await screenshot(page, "chat-failed-status")
        shop.sim.settle()
        await page.wait_for_timeout(300)
        await expect(sent).to_have_attribute("data-status", "failed")  # a late "delivered" changes nothing
    finally:
        shop.sim.control("POST", "config", json={"status_delays": before}).raise_for_status()


async def test_a_send_meta_refuses_says_why_in_the_composer_and_under_the_bubble(
    shop: Shop, signed_in: SignIn
) -> None:
    wa_id = customer_number()
    last = shop.customer_writes(wa_id, "Is it ready?", name="Mona")
    page = await signed_in(shop)
    await open_conversation(page, "Mona")
    await page.fill("#composer-body", "Almost")
    await wait_for(lambda: typing_shown_on(shop, last))  # the typing indicator is not the send refused
    shop.sim.control("POST", "faults", json={"kind": "error", "code": 131026, "match": "/messages"})
    try:
        await page.click("#composer-send")
        await expect(page.locator("#composer-error")).to_contain_text("Undeliverable")
        refused = page.locator(".bubble.out", has_text="Almost")
        await expect(refused).to_have_attribute("data-status", "failed")
        await expect(refused.locator(".failure")).to_have_text(
            "Not delivered: Message Undeliverable (131026)"
        )
    finally:
        shop.sim.control("DELETE", "faults")
    assert sent_to(shop, wa_id) == []


async def test_the_search_finds_a_conversation_by_name_and_by_number(shop: Shop, signed_in: SignIn) -> None:
    nora, omar = customer_number(), customer_number()
    shop.customer_writes(nora, "Hi, Nora here", name="Nora Levi")
    shop.customer_writes(omar, "Omar speaking", name="Omar")
    page = await signed_in(shop)
    rows = page.locator(".conversation")
    await expect(rows).to_have_count(2)

    await page.locator("#chat-search").press_sequentially("nora")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("Nora Levi")
    await screenshot(page, "chat-search-name")

    await page.fill("#chat-search", omar[-6:])
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("Omar")

    # The number as the page shows it, "+<digits>", and as people write it, with spaces and dashes.
    await page.fill("#chat-search", f"+{omar}")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("Omar")
    await page.fill("#chat-search", f"+{nora[:1]} {nora[1:4]}-{nora[4:]}")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("Nora Levi")

    await page.fill("#chat-search", "nobody at all")
    await expect(rows).to_have_count(0)
    await expect(page.locator("#conversation-list .empty")).to_contain_text("nobody at all")
    await page.fill("#chat-search", "")
    await expect(rows).to_have_count(2)
