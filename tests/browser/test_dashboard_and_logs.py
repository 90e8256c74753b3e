"""/dashboard counts what happened; /logs filters Meta's webhook bodies, shows them raw and replays them."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Shop, SignIn, customer_number, screenshot

pytestmark = pytest.mark.postgres


async def test_the_dashboard_counts_todays_messages_and_draws_the_charts(
    shop: Shop, signed_in: SignIn
) -> None:
    wa_id = customer_number()
    shop.customer_writes(wa_id, "One", name="Gina")
    shop.customer_writes(wa_id, "Two", name="Gina")
    sent = await shop.api(
        "POST", "/api/v1/messages", json={"to": wa_id, "type": "text", "text": "Hello Gina"}
    )
    assert sent.status_code == 201, sent.text
    shop.sim.settle()

    page = await signed_in(shop)
    await page.click("nav >> text=Dashboard")
    today = page.locator("#today")
    await expect(today.locator("[data-stat=incoming]")).to_have_text("2")
    await expect(today.locator("[data-stat=outgoing]")).to_have_text("1")
    await expect(today.locator("[data-stat=delivered-rate]")).to_have_text("100%")
    await expect(today.locator("[data-stat=read-rate]")).to_have_text("100%")
    await expect(page.locator("#month [data-stat=incoming]")).to_have_text("2")
    await expect(page.locator("svg.chart rect.bar-in")).to_have_count(30)
    await expect(page.locator("svg.chart rect.funnel")).to_have_count(3)
    await screenshot(page, "dashboard")


async def test_the_log_filters_by_field_and_outcome_shows_the_raw_body_and_replays(
    shop: Shop, signed_in: SignIn
) -> None:
    shop.customer_writes(customer_number(), "Logged body", name="Hana")
    shop.sim.settle()
    page = await signed_in(shop)
    await page.click("nav >> text=Logs")
    rows = page.locator("tr[data-entry-id]")
    await expect(rows.first).to_be_visible()

    await page.select_option("select[name=outcome]", "unparseable")
    await page.click("text=Filter")
    await expect(page.locator(".empty")).to_contain_text("No webhook")

    await page.select_option("select[name=outcome]", "processed")
    await page.select_option("select[name=field]", "messages")
    await page.click("text=Filter")
    entry = rows.filter(has_text="Logged body")
    await expect(entry).to_have_count(1)
    await entry.locator("summary").click()
    await expect(entry.locator("pre.raw")).to_contain_text('"body": "Logged body"')
    await entry.get_by_role("button", name="Replay").click()
    await expect(entry.locator("output")).to_contain_text("Replayed")
    await screenshot(page, "logs")

    conversations = (await shop.api("GET", "/api/v1/conversations")).json()["data"]["items"]
    thread = await shop.api("GET", f"/api/v1/conversations/{conversations[0]['id']}/messages")
    assert thread.json()["data"]["total"] == 1  # replay is idempotent
