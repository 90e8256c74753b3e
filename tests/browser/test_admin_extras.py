"""More of the management pages in a real browser: an Excel (xlsx) contact import followed live to its row
report, a campaign scheduled from the /campaigns form (which refuses numbers it cannot read, saving nothing,
and says when a campaign it could not start was kept as a draft), the tenant switcher of a user with two
tenants, and sandbox mode (`pywhatsapp serve` without a WhatsApp token): its banner, and its panel making a
simulated customer write to the /chat inbox."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from openpyxl import Workbook
from playwright.async_api import expect

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.settings import DEFAULT_TENANT_ID
from tests.browser.conftest import Shop, SignIn, customer_number, screenshot
from tests.integration.conftest import PASSWORD, add_membership, add_tenant_with_user
from tests.support.processes import RunningProcess, command_env, console_script, free_port
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS = 600  # two import batches of 500


def customers_workbook() -> tuple[bytes, list[str]]:
    """ROWS good rows as Excel keeps them (numbers typed as numbers, some as text with a +), then a number
    too short, a row without a number and a repeated number: three rejected rows, by their sheet row."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Customers"
    sheet.append(["Phone", "Name", "Tags"])
    numbers = [14155550000 + i for i in range(ROWS)]
    for i, number in enumerate(numbers):
        typed: int | str = number if i % 2 else f"+1 415 555 {i:04d}"
        sheet.append([typed, f"Buyer {i}", "xlsx,spring"])
    sheet.append([12, "Too short", None])
    sheet.append([None, "Nobody", None])
    sheet.append([numbers[7], "Again", None])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue(), [str(n) for n in numbers]


async def test_an_excel_file_is_imported_from_the_contacts_page_with_its_row_report(
    shop: Shop, signed_in: SignIn
) -> None:
    page = await signed_in(shop)
    await page.goto("/contacts")
    await expect(page.locator("body")).to_have_attribute("data-live", "on")
    await expect(page.get_by_role("heading", name="Import a CSV or Excel file")).to_be_visible()
    file_input = page.locator("#import-title ~ form input[name=file]")
    await expect(page.get_by_role("button", name="CSV or Excel file")).to_be_visible()  # its label
    accepted = (await file_input.get_attribute("accept") or "").split(",")
    assert ".xlsx" in accepted and XLSX in accepted and ".csv" in accepted

    data, numbers = customers_workbook()
    await file_input.set_input_files({"name": "customers.xlsx", "mimeType": XLSX, "buffer": data})
    await page.get_by_role("button", name="Import").click()
    job = page.locator(".import-job").first
    await expect(job.locator("h3")).to_contain_text("customers.xlsx")
    await expect(job.locator("[data-field=percent]")).to_have_text("100", timeout=20_000)
    await expect(job.locator("[data-field=status]")).to_have_text("completed")
    await expect(job.locator("[data-field=total_rows]")).to_have_text(str(ROWS + 3))
    await expect(job.locator("[data-field=created]")).to_have_text(str(ROWS))
    await expect(job.locator("[data-field=rejected]")).to_have_text("3")
    rejected = job.locator(".rejected tbody tr")
    await expect(rejected).to_have_count(3)
    first_bad_row = ROWS + 2  # the header is sheet row 1
    await expect(rejected.nth(0)).to_contain_text(str(first_bad_row))
    await expect(rejected.nth(0)).to_contain_text("12")
    await expect(rejected.nth(1)).to_contain_text("missing_phone")
    await expect(rejected.nth(2)).to_contain_text("duplicate_in_file")
    await expect(page.get_by_test_id("contact-total")).to_contain_text(f"{ROWS} contacts")
    await screenshot(page, "admin-contacts-import-xlsx")

    # a number Excel typed as a number arrives as the number, with its name and tags
    await page.fill("#contact-q", numbers[1])
    await expect(page.locator("#contact-list tbody tr")).to_have_count(1)
    await expect(page.locator("#contact-list tbody tr")).to_contain_text("Buyer 1")
    await expect(page.locator("#contact-list tbody tr")).to_contain_text("spring")


async def test_a_campaign_is_scheduled_from_the_form_with_its_time_shown(
    shop: Shop, signed_in: SignIn
) -> None:
    wa_id = f"49151{uuid4().int % 10**8:08d}"  # a number the form takes (the simulator's 1555... are not)
    shop.customer_writes(wa_id, "Tell me about autumn", name="Ulla")  # a free text reaches a recent writer
    page = await signed_in(shop)
    at = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    shown = at.strftime("%Y-%m-%d %H:%M")
    await page.goto("/campaigns")
    await page.fill("#campaign-form input[name=name]", "Autumn preview")
    await page.fill("#campaign-form textarea[name=text]", "Autumn is coming: first look on Friday")
    await page.fill("#campaign-form textarea[name=phone_numbers]", f"+{wa_id}")
    await page.fill("#campaign-form input[name=scheduled_at]", at.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_role("button", name="Schedule").click()
    await page.wait_for_url("**/campaigns/*")
    await expect(page.get_by_test_id("campaign-status")).to_have_text("scheduled")
    await expect(page.locator("#campaign-summary")).to_contain_text(f"for {shown} UTC")
    await expect(page.get_by_test_id("count-total")).to_have_text("1")
    await expect(page.get_by_test_id("count-pending")).to_have_text("1")
    await screenshot(page, "admin-campaign-scheduled")

    await page.goto("/campaigns")
    row = page.locator("tr", has_text="Autumn preview")
    await expect(row.locator("[data-field=status]")).to_have_text("scheduled")
    await expect(row).to_contain_text(f"{shown} UTC")
    assert not [m for m in shop.sim.control("GET", "sent").json() if "Autumn" in str(m)]  # not sent yet


async def campaign_names(shop: Shop) -> list[str]:
    listed = await shop.api("GET", "/api/v1/campaigns", params={"limit": 100})
    assert listed.status_code == 200, listed.text
    return [campaign["name"] for campaign in listed.json()["data"]["items"]]


async def test_the_campaign_form_names_the_numbers_it_cannot_read_and_saves_nothing(
    shop: Shop, signed_in: SignIn
) -> None:
    wa_id = f"49151{uuid4().int % 10**8:08d}"
    shop.customer_writes(wa_id, "Keep me posted", name="Vera")
    page = await signed_in(shop)
    await page.goto("/campaigns")
    form = page.locator("#campaign-form")
    typed = f"+{wa_id}\nnot-a-number\n12, +49 151"
    await form.locator("input[name=name]").fill("Typo run")
    await form.locator("textarea[name=text]").fill("Winter hours from Monday")
    await form.locator("textarea[name=phone_numbers]").fill(typed)
    await form.get_by_role("button", name="Start now").click()

    errors = form.locator("[data-errors]")
    await expect(errors).to_contain_text("These numbers could not be read")
    await expect(errors).to_contain_text("“not-a-number”, “12”, “+49 151”")
    await expect(errors).not_to_contain_text(wa_id)  # the good one is not named
    await expect(errors).to_contain_text("nothing was saved")
    await expect(page).to_have_url(f"{shop.base_url}/campaigns")
    await expect(form.locator("textarea[name=phone_numbers]")).to_have_value(typed)  # to correct it
    await screenshot(page, "admin-campaign-unreadable-numbers")
    assert "Typo run" not in await campaign_names(shop)

    # corrected, it starts and reaches the one customer
    await form.locator("textarea[name=phone_numbers]").fill(f"+{wa_id}")
    await form.get_by_role("button", name="Start now").click()
    await page.wait_for_url("**/campaigns/*")
    await expect(page.get_by_test_id("count-total")).to_have_text("1")
    assert await campaign_names(shop) == ["Typo run"]


async def test_a_campaign_that_cannot_start_is_kept_as_a_draft_and_the_form_says_so(
    shop: Shop, signed_in: SignIn
) -> None:
    silent = f"49151{uuid4().int % 10**8:08d}"  # never wrote: a free text cannot reach them
    page = await signed_in(shop)
    await page.goto("/campaigns")
    form = page.locator("#campaign-form")
    await form.locator("input[name=name]").fill("Cold outreach")
    await form.locator("textarea[name=text]").fill("Have you heard of us?")
    await form.locator("textarea[name=phone_numbers]").fill(f"+{silent}")
    await form.get_by_role("button", name="Start now").click()

    notice = page.get_by_test_id("saved-as-draft")
    await expect(notice).to_contain_text("Saved as a draft, not started")
    await expect(notice).to_contain_text("no recipient to send to")
    await expect(notice).to_contain_text("1 recipient was skipped: outside the 24-hour window")
    await expect(page).to_have_url(f"{shop.base_url}/campaigns")
    await expect(form.locator("input[name=name]")).to_have_value("")  # kept as the draft: not twice
    await screenshot(page, "admin-campaign-saved-as-draft")
    assert await campaign_names(shop) == ["Cold outreach"]

    await notice.get_by_role("link", name="Open the draft “Cold outreach”").click()
    await page.wait_for_url("**/campaigns/*")
    await expect(page.get_by_test_id("campaign-status")).to_have_text("draft")
    await expect(page.get_by_test_id("count-skipped")).to_have_text("1")
    assert not [m for m in shop.sim.control("GET", "sent").json() if "heard of us" in str(m)]


async def test_a_member_of_two_tenants_switches_and_sees_the_other_tenant_s_data(
    shop: Shop, signed_in: SignIn, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    created = await shop.api("POST", "/api/v1/contacts", json={"phone": "+4915199900002", "name": "Shop Sam"})
    assert created.status_code == 201, created.text
    # a user of another tenant is made an admin of the shop too
    other = await add_tenant_with_user(uow_factory, "second-house")
    await add_membership(uow_factory, other, shop.tenant_id, Role.ADMIN)

    page = await signed_in(replace(shop, username=other.username))
    await page.goto("/contacts")
    await expect(page.get_by_test_id("contact-total")).to_contain_text("0 contacts")
    switch = page.locator("#tenant-switch")
    await expect(switch.locator("option")).to_have_count(2)
    await expect(switch).to_have_value(str(other.tenant_id))

    async with page.expect_navigation():
        await switch.select_option(str(shop.tenant_id))
    await expect(page).to_have_url(f"{shop.base_url}/contacts")
    await expect(page.locator("#tenant-switch")).to_have_value(str(shop.tenant_id))
    await expect(page.get_by_test_id("contact-total")).to_contain_text("1 contact")
    await expect(page.locator("#contact-list")).to_contain_text("Shop Sam")
    await expect(page.get_by_test_id("signed-in-user")).to_contain_text("(admin)")
    await screenshot(page, "tenant-switched")

    # and back: the shop's contact is gone from view again
    async with page.expect_navigation():
        await page.locator("#tenant-switch").select_option(str(other.tenant_id))
    await expect(page.get_by_test_id("contact-total")).to_contain_text("0 contacts")
    await expect(page.get_by_test_id("signed-in-user")).to_contain_text("(owner)")


SANDBOX_ADMIN = "sandbox-admin"


@pytest.fixture
def sandbox_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """`pywhatsapp serve` as a newcomer starts it: no WHATSAPP_TOKEN, so the built-in simulator answers
    at /_sandbox, a sandbox channel is connected to the default tenant and the admin is created."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = command_env(
        DATABASE_URL=database_url,
        PYWHATSAPP_DATA_DIR=str(tmp_path / "data"),
        PYWHATSAPP_LOG_DIR=str(tmp_path / "logs"),
        PASSWORD_HASH_ROUNDS="4",
        ADMIN_USERNAME=SANDBOX_ADMIN,
        ADMIN_PASSWORD=PASSWORD,
        SESSION_SECRET_KEY="browser-sandbox-session-secret-0123456789",
        JWT_SECRET_KEY="browser-sandbox-jwt-secret-0123456789",
        CAMPAIGN_SENDER_IN_SERVE="false",
        MEDIA_DOWNLOADS_IN_SERVE="false",
        LOG_LEVEL="WARNING",
    )
    for name in ("WHATSAPP_TOKEN", "APP_ENV", "GRAPH_API_URL", "SANDBOX_WEBHOOK_URL"):
        env.pop(name, None)
    server = RunningProcess(
        [console_script(), "serve", "--port", str(port)], env=env, cwd=tmp_path, log=tmp_path / "serve.log"
    )
    try:
        server.wait_ready(f"{base}/readyz")
        yield base
    finally:
        exit_code = server.stop()
    assert exit_code == 0, server.output()


async def test_sandbox_mode_shows_its_banner_and_a_simulated_customer_reaches_the_chat(
    sandbox_url: str, simulator: SimulatorServer, signed_in: SignIn
) -> None:
    admin = Shop(sandbox_url, simulator, SANDBOX_ADMIN, "", DEFAULT_TENANT_ID, "default", None)
    page = await signed_in(admin)
    await expect(page.locator("body")).to_have_attribute("data-live", "on")
    banner = page.locator(".sandbox-banner")
    await expect(banner).to_contain_text("Sandbox mode")
    await expect(banner).to_contain_text("built-in simulator")

    await banner.get_by_text("Simulate a customer").click()
    form = page.locator("#sandbox-customer")
    number = customer_number()
    await form.get_by_label("Number").fill(number)
    await form.get_by_label("Name").fill("Sandy")
    await form.get_by_label("Message").fill("Hello from the sandbox")
    await form.get_by_role("button", name="Send as customer").click()
    await expect(form.locator("output")).to_have_text("Sent")

    # the inbox gets the conversation live, and its thread the message
    conversation = page.locator("#conversation-list").get_by_text("Sandy")
    await expect(conversation).to_be_visible(timeout=15_000)
    await conversation.click()
    await expect(page.locator("#thread")).to_contain_text("Hello from the sandbox")
    await expect(page.locator(".sandbox-banner")).to_be_visible()
    await screenshot(page, "sandbox-chat")
