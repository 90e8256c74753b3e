"""The management pages in a real browser: /templates (sync from the simulator, preview), /contacts (a CSV
import followed live to 100 % with its rejected rows, an audience), /campaigns (a template campaign to the
imported contacts followed live to completed, on its page and on a /dashboard opened before it started, its
per-recipient report), /groups (a group created at the simulator's Groups API, a participant who joined),
/settings (channels, users and roles; refused to agents), tenant isolation, and every page at phone width."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.async_api import Browser, Page, expect

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from tests.browser.conftest import (
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    WABA_ID,
    Shop,
    SignIn,
    log_in,
    screenshot,
)
from tests.integration.conftest import PASSWORD, add_tenant_with_user
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer, customer_number

pytestmark = pytest.mark.postgres

PILOTS = 5
ROWS = 700  # two import batches of 500: the progress moves at least twice


def contacts_csv() -> tuple[str, list[str]]:
    """ROWS good rows (PILOTS of them tagged pilot), two bad numbers and one repeated number."""
    base = uuid4().int % 1000
    numbers = [f"+49 151 {base:03d}{i:05d}" for i in range(ROWS)]
    lines = ["phone,name,tags"]
    for i, number in enumerate(numbers):
        tags = "pilot,vip" if i < PILOTS else "newsletter"
        lines.append(f'{number},Customer {i},"{tags}"')
    lines += ["not-a-number,Broken,", "12,Too short,", f"{numbers[3]},Again,"]
    return "\n".join(lines) + "\n", numbers


def seed_template(shop: Shop) -> str:
    name = f"spring_{uuid4().hex[:8]}"
    body = {
        "type": "BODY",
        "text": "Hi {{1}}, the spring sale starts now!",
        "example": {"body_text": [["Ann"]]},
    }
    answer = shop.sim.control(
        "POST",
        "templates",
        json={"waba_id": WABA_ID, "templates": [{"name": name, "language": "en_US", "components": [body]}]},
    )
    assert answer.status_code == 200, answer.text
    return name


async def new_page(browser: Browser, base_url: str, username: str, **viewport: int) -> Page:
    context = await browser.new_context(base_url=base_url, viewport=viewport or DESKTOP_VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await log_in(page, username)
    return page


async def test_import_audience_template_and_campaign_all_live(
    shop: Shop, signed_in: SignIn, tmp_path: Path
) -> None:
    page = await signed_in(shop)
    template_name = seed_template(shop)

    # /templates: sync from "Meta", then preview with a value for {{1}}
    await page.goto("/templates")
    await page.get_by_role("button", name="Sync from Meta").click()
    await expect(page.get_by_test_id("sync-report")).to_contain_text("1 new")
    row = page.locator("tr", has_text=template_name)
    await expect(row).to_contain_text("APPROVED")
    await screenshot(page, "admin-templates")
    await row.get_by_role("link").click()
    await page.get_by_label("Body {{1}}").fill("Ann")
    await page.get_by_role("button", name="Preview").click()
    await expect(page.get_by_test_id("template-preview")).to_contain_text(
        "Hi Ann, the spring sale starts now!"
    )
    await screenshot(page, "admin-template-preview")

    # /contacts: import a CSV and watch it reach 100 % over the socket, with the rejected rows
    await page.goto("/contacts")
    await expect(page.locator("body")).to_have_attribute("data-live", "on")
    text, numbers = contacts_csv()
    csv_path = tmp_path / "customers.csv"
    csv_path.write_text(text)
    await page.set_input_files("input[name=file]", str(csv_path))
    await page.get_by_role("button", name="Import").click()
    job = page.locator(".import-job").first
    await expect(job.locator("[data-field=percent]")).to_have_text("100", timeout=20_000)
    await expect(job.locator("[data-field=status]")).to_have_text("completed")
    await expect(job.locator("[data-field=created]")).to_have_text(str(ROWS))
    await expect(job.locator("[data-field=rejected]")).to_have_text("3")
    rejected = job.locator(".rejected tbody tr")
    await expect(rejected).to_have_count(3)
    await expect(job.locator(".rejected")).to_contain_text("not-a-number")
    await expect(page.get_by_test_id("contact-total")).to_contain_text(f"{ROWS} contacts")
    await screenshot(page, "admin-contacts-import")

    # search, then an audience of the pilot customers (dynamic, by tag)
    await page.fill("#contact-q", f"Customer {ROWS - 1}")
    await expect(page.locator("#contact-list tbody tr")).to_have_count(1)
    await expect(page.locator("#contact-list tbody tr")).to_contain_text(f"Customer {ROWS - 1}")
    await expect(page).to_have_url(re.compile(rf"/contacts\?q=Customer(%20|\+){ROWS - 1}"))  # bookmarkable
    await page.fill("#audience-form input[name=name]", "Pilot customers")
    await page.fill("#audience-form input[name=tags]", "pilot")
    await page.get_by_role("button", name="Create audience").click()
    audience = page.locator("#audiences li", has_text="Pilot customers")
    await expect(audience.get_by_test_id("member-count")).to_have_text(f"{PILOTS} members")
    # a refusal is shown beside its form, and changes nothing
    await page.fill("#audience-form input[name=name]", "Pilot customers")
    await page.fill("#audience-form input[name=tags]", "pilot")
    await page.get_by_role("button", name="Create audience").click()
    await expect(page.locator("#audience-form [data-errors]")).to_contain_text("exists already")
    await expect(page.locator("#audiences li")).to_have_count(1)

    # a second window on /dashboard, open before the campaign starts, follows it without a reload
    dashboard = await signed_in(shop)
    await dashboard.goto("/dashboard")
    await expect(dashboard.locator("body")).to_have_attribute("data-live", "on")
    await expect(dashboard.locator("#active-campaigns")).to_contain_text("No campaign is running")
    dashboard_loads: list[str] = []
    dashboard.on("load", lambda frame: dashboard_loads.append(dashboard.url))

    # /campaigns: the template to the audience, started now, followed live to completed
    await page.goto("/campaigns")
    await page.fill("#campaign-form input[name=name]", "Spring pilot")
    await page.select_option("#campaign-form select[name=template]", f"{template_name}|en_US")
    await page.fill("#campaign-form textarea[name=parameters]", "{{contact.name|friend}}")
    await page.get_by_label("Pilot customers").check()
    await page.get_by_role("button", name="Start now").click()
    await page.wait_for_url("**/campaigns/*")
    await expect(page.get_by_test_id("campaign-status")).to_have_text("completed", timeout=30_000)
    await expect(page.get_by_test_id("count-total")).to_have_text(str(PILOTS))
    await expect(page.get_by_test_id("count-pending")).to_have_text("0")
    await expect(page.get_by_test_id("campaign-percent")).to_have_text("100")
    report = page.get_by_test_id("recipient-report")
    await expect(report.locator("tbody tr")).to_have_count(PILOTS)
    await expect(report.locator("tbody tr").first).to_contain_text("wamid.")
    await screenshot(page, "admin-campaign-report")
    live = dashboard.locator("#active-campaigns li", has_text="Spring pilot")
    await expect(live.locator(".campaign-counts")).to_contain_text(
        f"{PILOTS} of {PILOTS} done", timeout=15_000
    )
    await expect(live.locator(".campaign-status")).to_have_text("completed")
    await expect(live.locator("progress")).to_have_attribute("value", str(PILOTS))
    await expect(live.locator(".campaign-counts")).to_contain_text(f"read {PILOTS}", timeout=15_000)
    assert dashboard_loads == [], "the dashboard reloaded instead of following the campaign live"
    await screenshot(dashboard, "dashboard-campaign-done")
    sent = {m["wa_id"] for m in shop.sim.control("GET", "sent").json() if m.get("type") == "template"}
    pilots = {"49151" + n.split()[-1] for n in numbers[:PILOTS]}
    assert pilots <= sent
    personal = [m for m in shop.sim.control("GET", "sent").json() if m.get("wa_id") in pilots]
    assert {m["body"]["template"]["components"][0]["parameters"][0]["text"] for m in personal} == {
        f"Customer {i}" for i in range(PILOTS)
    }

    # the list shows it, and the CSV report downloads with the session
    await page.goto("/campaigns")
    await expect(page.locator("tr", has_text="Spring pilot")).to_contain_text("completed")
    await screenshot(page, "admin-campaigns")


async def test_a_group_is_created_at_whatsapp_and_its_invite_link_shown(
    shop: Shop, signed_in: SignIn
) -> None:
    page = await signed_in(shop)
    await page.goto("/groups")
    await page.fill("input[name=subject]", "Buyers club")
    await page.fill("textarea[name=description]", "Early access for regulars")
    await page.get_by_role("button", name="Create group").click()
    row = page.locator("#group-list tr", has_text="Buyers club")
    await expect(row.locator("[data-field=state]")).to_have_text("active", timeout=15_000)
    await screenshot(page, "admin-groups")
    await row.get_by_role("link").click()
    await expect(page.get_by_role("heading", name="Participants")).to_be_visible()
    await page.get_by_role("button", name="Get the link").click()
    await expect(page.get_by_test_id("invite-link").first).to_contain_text("chat.whatsapp.com")
    await expect(page.locator("#participants-title .count")).to_have_text("0")

    # someone joins at WhatsApp (the simulator sends Meta's participants webhook): listed on the page
    (meta_group,) = [
        g for g in shop.sim.control("GET", "groups").json()["groups"] if g["subject"] == "Buyers club"
    ]
    joiner = customer_number()
    shop.sim.control("POST", f"groups/{meta_group['id']}/join", json={"wa_id": joiner}).raise_for_status()
    shop.sim.settle()
    for _ in range(20):  # the page is not live: it shows the participant once the webhook is stored
        await page.reload()
        if await page.locator("#participants").count():
            break
        await page.wait_for_timeout(250)
    await expect(page.locator("#participants")).to_contain_text(f"+{joiner}")
    await expect(page.locator("#participants-title .count")).to_have_text("1")
    await expect(page.get_by_role("button", name=f"Remove +{joiner}")).to_be_visible()
    await screenshot(page, "admin-group")


async def test_settings_lists_channels_and_users_and_agents_are_refused(
    shop: Shop, signed_in: SignIn, chromium_browser: Browser
) -> None:
    page = await signed_in(shop)
    await page.goto("/settings")
    await expect(page.get_by_test_id("channels")).to_contain_text("1122334455667")
    await expect(page.get_by_test_id("members")).to_contain_text(shop.username)

    agent = f"agent-{uuid4().hex[:6]}"
    await page.get_by_text("Add a user").click()
    await page.fill("#members ~ details input[name=username]", agent)
    await page.fill("#members ~ details input[name=password]", PASSWORD)
    await page.get_by_role("button", name="Add user").click()
    member = page.locator(f"tr[data-username='{agent}']")
    await expect(member).to_contain_text("never")
    await screenshot(page, "admin-settings")

    # the new admin, then back to agent: each change answers with the list as it is now
    for role in ("admin", "agent"):
        row = page.locator(f"tr[data-username='{agent}']")
        await row.get_by_label(f"Role of {agent}").select_option(role)
        async with page.expect_response("**/role") as changed:
            await row.get_by_role("button", name="Change").click()
        assert (await changed.value).status == 200
        await expect(page.locator(f"tr[data-username='{agent}'] select")).to_have_value(role)

    agent_page = await new_page(chromium_browser, shop.base_url, agent)
    answer = await agent_page.goto("/settings")
    assert answer is not None and answer.status == 403
    await expect(agent_page.get_by_test_id("page-error")).to_contain_text("administrators")
    await expect(
        agent_page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings")
    ).to_have_count(0)
    await screenshot(agent_page, "admin-settings-agent-refused")
    # an agent sees campaigns and contacts, without the admin-only forms
    await agent_page.goto("/campaigns")
    await expect(agent_page.get_by_role("heading", name="New campaign")).to_have_count(0)
    await agent_page.goto("/contacts")
    await expect(agent_page.get_by_role("heading", name="Import a CSV or Excel file")).to_have_count(0)
    await expect(agent_page.locator("input[name=file]")).to_have_count(0)
    # a forged post is refused all the same
    refused = await agent_page.request.post(
        "/settings/members",
        form={"username": "sneaky", "password": PASSWORD, "role": "owner"},
        headers={"x-csrftoken": await agent_page.evaluate("document.body.getAttribute('hx-headers')")},
    )
    assert refused.status in (403, 400)
    await agent_page.context.close()


async def test_another_tenant_sees_none_of_it(
    shop: Shop,
    signed_in: SignIn,
    chromium_browser: Browser,
    live_app: LiveServer,
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
) -> None:
    created = await shop.api(
        "POST", "/api/v1/contacts", json={"phone": "+4915199900001", "name": "Secret Sam"}
    )
    assert created.status_code == 201, created.text
    campaign = await shop.api(
        "POST",
        "/api/v1/campaigns",
        json={
            "name": "Private plan",
            "text": "hello",
            "recipients": {"contact_ids": [created.json()["data"]["id"]]},
        },
    )
    assert campaign.status_code == 201, campaign.text
    campaign_id = campaign.json()["data"]["id"]

    other = await add_tenant_with_user(uow_factory, f"other-{uuid4().hex[:8]}")
    page = await new_page(chromium_browser, live_app.url, other.username)
    await page.goto("/contacts")
    await expect(page.get_by_test_id("contact-total")).to_contain_text("0 contacts")
    await page.goto("/campaigns")
    await expect(page.locator("body")).not_to_contain_text("Private plan")
    answer = await page.goto(f"/campaigns/{campaign_id}")
    assert answer is not None and answer.status == 404
    await expect(page.get_by_test_id("page-error")).to_be_visible()
    await page.context.close()


async def test_the_pages_fit_a_phone(shop: Shop, signed_in: SignIn) -> None:
    page = await signed_in(shop, viewport=PHONE_VIEWPORT)
    for path in ("/dashboard", "/logs", "/contacts", "/campaigns", "/templates", "/groups", "/settings"):
        await page.goto(path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_VIEWPORT["width"] + 1, f"{path} scrolls sideways ({width}px)"
        await screenshot(page, "admin-phone-" + path.strip("/"))
    # keyboard: the search field is reachable and searching works without a mouse
    await page.goto("/contacts")
    await page.focus("#contact-q")
    await page.keyboard.type("nobody-here")
    await page.keyboard.press("Enter")
    await expect(page.locator("#contact-list")).to_contain_text("No contact matches")
