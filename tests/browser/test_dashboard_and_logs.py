"""/dashboard counts what happened, failures by Meta's error code among them; /logs filters Meta's webhook
bodies (by time too), shows them raw and replays them."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

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


async def test_a_send_meta_refuses_shows_under_its_error_in_the_failures_table(
    shop: Shop, signed_in: SignIn
) -> None:
    wa_id = customer_number()
    shop.customer_writes(wa_id, "Still there?", name="Ivo")
    page = await signed_in(shop)
    await page.goto("/dashboard")
    await expect(page.locator("#failures")).to_have_count(0)
    await expect(page.locator("#today [data-stat=failed]")).to_have_text("0")

    # Meta answers the send with error 131026 (Message Undeliverable): the message is stored as failed
    shop.sim.control(
        "POST", "faults", json={"match": "/messages", "kind": "error", "code": 131026}
    ).raise_for_status()
    refused = await shop.api("POST", "/api/v1/messages", json={"to": wa_id, "type": "text", "text": "Hello?"})
    assert refused.status_code == 422, refused.text
    sent = await shop.api("POST", "/api/v1/messages", json={"to": wa_id, "type": "text", "text": "Hello!"})
    assert sent.status_code == 201, sent.text
    shop.sim.settle()

    await page.reload()
    row = page.locator("#failures tbody tr[data-error-code='131026']")
    await expect(row).to_contain_text("Message Undeliverable")
    await expect(row.locator("[data-field=count]")).to_have_text("1")
    await expect(page.locator("#failures tbody tr")).to_have_count(1)
    await expect(page.locator("#today [data-stat=failed]")).to_have_text("1")
    await expect(page.locator("#today [data-stat=outgoing]")).to_have_text("2")
    await expect(page.locator("#today [data-stat=delivered-rate]")).to_have_text("50%")
    await screenshot(page, "dashboard-failures")


async def test_the_log_time_filter_narrows_the_list_to_the_entries_between(
    shop: Shop, signed_in: SignIn
) -> None:
    shop.customer_writes(customer_number(), "Early bird", name="Ida")
    shop.sim.settle()
    await asyncio.sleep(1.2)
    boundary = datetime.now(UTC).replace(microsecond=0, tzinfo=None)  # the page's times are UTC
    await asyncio.sleep(1.2)
    shop.customer_writes(customer_number(), "Late riser", name="Lou")
    shop.sim.settle()

    page = await signed_in(shop)
    await page.goto("/logs")
    rows = page.locator("tr[data-entry-id]")
    await expect(rows).to_have_count(2)

    await page.fill("input[name=since]", boundary.isoformat())
    await page.click("text=Filter")
    await expect(page).to_have_url(re.compile(r"/logs\?since=.+"))
    await expect(rows).to_have_count(1)
    await expect(rows.filter(has_text="Late riser")).to_have_count(1)
    await expect(page.get_by_test_id("log-total")).to_have_text("1")
    # the field keeps the time (a browser leaves out ":00" seconds)
    shown = boundary.isoformat() if boundary.second else boundary.isoformat()[:16]
    await expect(page.locator("input[name=since]")).to_have_value(shown)

    await page.fill("input[name=since]", "")
    await page.fill("input[name=until]", boundary.isoformat())
    await page.click("text=Filter")
    await expect(rows).to_have_count(1)
    await expect(rows.filter(has_text="Early bird")).to_have_count(1)

    # both bounds, the second after the boundary: neither entry is in it
    await page.fill("input[name=since]", boundary.isoformat())
    await page.fill("input[name=until]", (boundary + timedelta(seconds=1)).isoformat())
    await page.click("text=Filter")
    await expect(page.locator(".empty")).to_contain_text("No webhook")
    await screenshot(page, "logs-time-filter")
