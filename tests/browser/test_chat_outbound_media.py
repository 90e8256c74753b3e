"""/chat in a real browser: a file the agent sends from the composer is kept, so the thread shows the agent's
own picture (a thumbnail that loads, linking to the whole file) and a document as a link that gives the
same bytes back, after a reload too."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Page, expect

from tests.browser.conftest import Shop, SignIn, customer_number, screenshot

pytestmark = pytest.mark.postgres


def png(width: int = 120, height: int = 80) -> bytes:
    picture = Image.new("RGB", (width, height), (255, 140, 0))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


async def open_conversation(page: Page, name: str) -> None:
    await page.locator(".conversation", has_text=name).locator("a").click()
    await expect(page.locator(".pane-header h1")).to_have_text(name)


async def loaded_width(page: Page, selector: str) -> int:
    image = page.locator(selector)
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=await image.element_handle(), timeout=10_000
    )
    width: int = await image.evaluate("img => img.naturalWidth")
    return width


async def test_an_image_sent_from_the_composer_shows_in_the_thread_as_a_picture_that_loads(
    shop: Shop, signed_in: SignIn, tmp_path: Path
) -> None:
    wa_id = customer_number()
    shop.customer_writes(wa_id, "Which colour is it?", name="Greta")
    page = await signed_in(shop)
    await open_conversation(page, "Greta")
    picture = tmp_path / "orange-shirt.png"
    picture.write_bytes(png())

    await page.set_input_files("#composer-file", str(picture))
    await page.fill("#composer-body", "This orange")
    await page.click("#composer-send")

    sent = page.locator(".bubble.out.type-image")
    await expect(sent).to_contain_text("This orange")
    thumb = sent.locator("img.thumb")
    await expect(thumb).to_have_attribute(
        "src", re.compile(r"^/api/v1/messages/[0-9a-f-]+/media\?thumbnail=1$")
    )
    assert await loaded_width(page, ".bubble.out.type-image img.thumb") == 120  # smaller than 320: as it is
    await expect(sent).not_to_contain_text("📎")
    whole = await sent.locator("a:has(img.thumb)").get_attribute("href")
    assert whole and whole.endswith("/media")
    answer = await page.request.get(whole)
    assert answer.status == 200 and answer.headers["content-type"] == "image/png"
    assert await answer.body() == picture.read_bytes()
    await screenshot(page, "chat-outbound-image")

    # A document goes as a link to its stored copy; both stay after a reload (nothing lives in the page).
    document = tmp_path / "price-list.pdf"
    document.write_bytes(b"%PDF-1.4\n% price list\n%%EOF\n")
    await page.set_input_files("#composer-file", str(document))
    await page.click("#composer-send")
    link = page.locator(".bubble.out.type-document a.file")
    await expect(link).to_contain_text("price-list.pdf")
    href = await link.get_attribute("href")
    assert href and href.endswith("/media")
    pdf = await page.request.get(href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert await pdf.body() == document.read_bytes()

    await page.reload()
    assert await loaded_width(page, ".bubble.out.type-image img.thumb") == 120
    await expect(page.locator(".bubble.out.type-document a.file")).to_have_attribute("href", href)
