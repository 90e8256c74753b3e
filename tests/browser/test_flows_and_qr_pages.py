"""The /flows and /qr-codes pages in a real browser, against the app, PostgreSQL and the Cloud API simulator
as "Meta": a flow created with a broken flow JSON shows Meta's validation errors, is fixed, previewed,
published and deprecated; a draft uploaded as a file is deleted; a QR code is created, its image shown, its
count goes up live when a simulated customer scans it, its message changed and the code deleted. Agents
look without changing; another tenant sees none of it; a signed-out visitor is sent to the login page;
both pages fit a phone and work from the keyboard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.tenancy.membership import Membership, Role
from tests.browser.conftest import (
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    Shop,
    SignIn,
    customer_number,
    log_in,
    screenshot,
)
from tests.integration.conftest import FAST_HASHER, PASSWORD, add_tenant_with_user
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.postgres

FLOW_JSON: dict[str, Any] = {
    "version": "7.1",
    "screens": [
        {
            "id": "WELCOME",
            "title": "Welcome",
            "terminal": True,
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextInput", "name": "email", "label": "Your e-mail", "input-type": "email"},
                    {
                        "type": "Footer",
                        "label": "Sign up",
                        "on-click-action": {"name": "complete", "payload": {"email": "${form.email}"}},
                    },
                ],
            },
        }
    ],
}


async def accept_dialogs(page: Page) -> None:
    """Confirmations (publish, deprecate, delete) are answered yes."""

    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.on("dialog", accept)


async def new_page(browser: Browser, base_url: str, username: str, **viewport: int) -> Page:
    context = await browser.new_context(base_url=base_url, viewport=viewport or DESKTOP_VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await log_in(page, username)
    return page


async def add_agent(uow_factory: SqlAlchemyUnitOfWorkFactory, shop: Shop) -> str:
    """A user of the shop's tenant with the agent role."""
    user = User(
        username=f"agent-{uuid4().hex[:8]}",
        password_hash=FAST_HASHER.hash_now(PASSWORD),
        tenant_id=shop.tenant_id,
    )
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.memberships.add(Membership(tenant_id=shop.tenant_id, user_id=user.id, role=Role.AGENT))
        await uow.commit()
    return user.username


async def test_a_flow_is_created_fixed_previewed_published_and_deprecated(
    shop: Shop, signed_in: SignIn, tmp_path: Path
) -> None:
    page = await signed_in(shop)
    await accept_dialogs(page)
    await page.goto("/flows")
    await expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Flows")
    ).to_have_attribute("aria-current", "page")
    await expect(page.get_by_test_id("flow-total")).to_have_text("0 flows")

    # Created with a flow JSON Meta finds two errors in: listed as a DRAFT with them.
    name = f"Sign-up {uuid4().hex[:6]}"
    form = page.locator("#flow-form")
    await form.get_by_label("Name").fill(name)
    await form.get_by_label("Sign up").check()
    await form.get_by_label("Lead generation").check()
    await form.locator("textarea[name=flow_json]").fill('{"screens": []}')
    await form.get_by_role("button", name="Create flow").click()
    await expect(page.get_by_test_id("flow-notice")).to_contain_text("2 validation errors")
    row = page.locator("#flow-list tr", has_text=name)
    await expect(row.locator("[data-field=status]")).to_have_text("DRAFT")
    await expect(row).to_contain_text("SIGN_UP")
    await expect(row).to_contain_text("LEAD_GENERATION")
    await expect(row).to_contain_text("2 errors")
    await expect(row).to_contain_text('"version"')
    await expect(form.get_by_label("Name")).to_have_value("")  # the form is ready for the next one
    await screenshot(page, "flows-list-draft")

    # Its page: Meta's errors, where they are; a paste that is not JSON is refused before Meta hears of it.
    await row.get_by_role("link", name=name).click()
    await page.wait_for_url("**/flows/*")
    await expect(page.get_by_test_id("flow-status")).to_have_text("DRAFT")
    errors = page.get_by_test_id("validation-errors")
    await expect(errors.locator("li")).to_have_count(2)
    await expect(errors).to_contain_text("version")
    json_form = page.locator("form", has=page.get_by_role("button", name="Upload and validate"))
    await json_form.locator("textarea[name=flow_json]").fill('{"version": "7.1", "screens": [')
    await json_form.get_by_role("button", name="Upload and validate").click()
    await expect(json_form.locator("[data-errors]")).to_contain_text("is not valid JSON (line 1")
    await expect(json_form.locator("[data-errors]")).to_contain_text("fix it and send it again")
    # Publishing with errors is refused, saying what to do.
    publish_form = page.locator("form", has=page.get_by_role("button", name="Publish"))
    await publish_form.get_by_role("button", name="Publish").click()
    await expect(publish_form.locator("[data-errors]")).to_contain_text("upload a fixed one first")
    await screenshot(page, "flow-validation-errors")

    # The fixed flow JSON, as a file: valid; then Meta's preview link.
    fixed = tmp_path / "sign-up.json"
    fixed.write_text(json.dumps(FLOW_JSON))
    json_form = page.locator("form", has=page.get_by_role("button", name="Upload and validate"))
    await json_form.get_by_label("…or its file").set_input_files(str(fixed))
    await json_form.get_by_role("button", name="Upload and validate").click()
    await expect(page.get_by_test_id("flow-notice")).to_contain_text("no validation errors")
    await expect(page.get_by_test_id("validation-ok")).to_be_visible()
    await expect(page.locator("textarea[name=flow_json]")).to_have_value(json.dumps(FLOW_JSON, indent=2))
    await page.get_by_role("button", name="Preview").click()
    link = page.get_by_test_id("preview-link")
    await expect(link).to_have_attribute(
        "href", re.compile(rf"^{re.escape(shop.sim.url)}/.*/preview/\?token=")
    )
    await expect(link).to_have_attribute("target", "_blank")
    await screenshot(page, "flow-valid-preview")

    # Published at Meta; then deprecated.
    await page.get_by_role("button", name="Publish").click()
    await expect(page.get_by_test_id("flow-status")).to_have_text("PUBLISHED")
    await expect(page.get_by_test_id("flow-notice")).to_contain_text("Published")
    await expect(page.get_by_role("button", name="Delete draft")).to_have_count(0)
    await expect(page.get_by_role("button", name="Upload and validate")).to_have_count(0)
    stored = (await shop.api("GET", "/api/v1/flows")).json()["data"]["items"]
    assert [(f["name"], f["status"]) for f in stored] == [(name, "PUBLISHED")]
    await page.goto("/flows")
    await expect(page.locator("#flow-list tr", has_text=name).locator("[data-field=status]")).to_have_text(
        "PUBLISHED"
    )
    await screenshot(page, "flows-list-published")
    await page.locator("#flow-list tr", has_text=name).get_by_role("link").click()
    await page.get_by_role("button", name="Deprecate").click()
    await expect(page.get_by_test_id("flow-status")).to_have_text("DEPRECATED")
    await expect(page.get_by_role("button", name="Deprecate")).to_have_count(0)


async def test_a_draft_is_deleted_and_the_list_filters_by_status(shop: Shop, signed_in: SignIn) -> None:
    page = await signed_in(shop)
    await accept_dialogs(page)
    await page.goto("/flows")
    for name, category in (("Booking draft", "Appointment booking"), ("Survey draft", "Survey")):
        await page.locator("#flow-form").get_by_label("Name").fill(name)
        await page.locator("#flow-form").get_by_label(category).check()
        await page.locator("#flow-form").get_by_role("button", name="Create flow").click()
        await expect(page.get_by_test_id("flow-notice")).to_contain_text(f"Created “{name}” at Meta as DRAFT")
    await expect(page.get_by_test_id("flow-total")).to_have_text("2 flows")
    # A flow without a category is refused, saying what to do.
    await page.locator("#flow-form").get_by_label("Name").fill("No category")
    await page.locator("#flow-form").get_by_role("button", name="Create flow").click()
    await expect(page.locator("#flow-form [data-errors]")).to_contain_text("Tick at least one category")
    await expect(page.get_by_test_id("flow-total")).to_have_text("2 flows")

    await page.locator("#flow-list tr", has_text="Booking draft").get_by_role("link").click()
    await expect(page.get_by_test_id("flow-status")).to_have_text("DRAFT")
    await page.get_by_role("button", name="Delete draft").click()
    await page.wait_for_url("**/flows")
    await expect(page.get_by_test_id("flow-total")).to_have_text("1 flow")
    await expect(page.locator("#flow-list")).not_to_contain_text("Booking draft")
    at_meta = {f["name"] for f in shop.sim.control("GET", "flows").json()["flows"]}
    assert "Survey draft" in at_meta and "Booking draft" not in at_meta

    await page.select_option("#flow-status", "PUBLISHED")
    await expect(page.locator("#flow-list")).to_contain_text("No flow matches")
    await page.select_option("#flow-status", "DRAFT")
    await expect(page.locator("#flow-list tr", has_text="Survey draft")).to_be_visible()


async def test_a_qr_code_is_shown_counted_live_edited_and_deleted(shop: Shop, signed_in: SignIn) -> None:
    page = await signed_in(shop)
    await accept_dialogs(page)
    await page.goto("/qr-codes")
    await expect(page.locator("body")).to_have_attribute("data-live", "on")
    await expect(page.get_by_test_id("qr-total")).to_have_text("0 QR codes")

    message = f"Hi! I saw your poster {uuid4().hex[:4]}"
    form = page.locator("#qr-form")
    await form.get_by_label("Prefilled message").fill(message)
    await form.get_by_role("button", name="Create QR code").click()
    await expect(page.get_by_test_id("qr-notice")).to_contain_text("created at Meta")
    row = page.locator("#qr-code-list tr", has_text=message)
    await expect(row.get_by_test_id("qr-messages")).to_have_text("0")
    code = await row.get_attribute("data-qr-code")
    assert code
    await expect(row.get_by_role("link", name=f"https://wa.me/message/{code}")).to_be_visible()
    image = row.locator("img.qr-image")
    await expect(image).to_have_attribute("src", f"/api/v1/qr-codes/{code}/image")
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=await image.element_handle()
    )

    # A customer scans it: the count goes up on the page as the message arrives.
    scanned = shop.sim.control("POST", f"qr_codes/{code}/scan", json={"wa_id": customer_number()})
    assert scanned.status_code == 200 and scanned.json()["delivered"], scanned.text
    await expect(row.get_by_test_id("qr-messages")).to_have_text("1", timeout=15_000)
    await expect(row.locator("[data-field=last-message]")).to_contain_text("last ")
    # An SVG one too; a message of blanks is refused, saying so.
    await form.get_by_label("Prefilled message").fill("Flyer at the market")
    await form.get_by_label("Image").select_option("SVG")
    await form.get_by_role("button", name="Create QR code").click()
    await expect(page.get_by_test_id("qr-total")).to_have_text("2 QR codes")
    svg = page.locator("#qr-code-list tr", has_text="Flyer at the market")
    await expect(svg.get_by_role("link", name="Download SVG")).to_be_visible()
    await form.get_by_label("Prefilled message").fill("   ")
    await form.get_by_role("button", name="Create QR code").click()
    await expect(form.locator("[data-errors]")).to_contain_text("Write the message")
    await screenshot(page, "qr-codes")
    # After a reload the count is the stored one.
    await page.reload()
    await expect(page.locator(f"tr[data-qr-code='{code}']").get_by_test_id("qr-messages")).to_have_text("1")

    # Its message changed at Meta.
    row = page.locator(f"tr[data-qr-code='{code}']")
    await row.get_by_text("Edit message").click()
    await row.get_by_label("Prefilled message").fill("Hello from the new poster")
    await row.get_by_role("button", name="Save at Meta").click()
    await expect(page.get_by_test_id("qr-notice")).to_contain_text("Hello from the new poster")
    await expect(page.locator(f"tr[data-qr-code='{code}'] [data-field=prefilled]")).to_have_text(
        "Hello from the new poster"
    )
    at_meta = {c["code"]: c for c in shop.sim.control("GET", "qr_codes").json()["codes"]}
    assert at_meta[code]["prefilled_message"] == "Hello from the new poster"

    # Deleted at Meta and here.
    await page.get_by_role("button", name=f"Delete QR code {code}").click()
    await expect(page.get_by_test_id("qr-notice")).to_contain_text("deleted")
    await expect(page.locator(f"tr[data-qr-code='{code}']")).to_have_count(0)
    await expect(page.get_by_test_id("qr-total")).to_have_text("1 QR code")
    assert code not in {c["code"] for c in shop.sim.control("GET", "qr_codes").json()["codes"]}


async def test_agents_look_and_another_tenant_sees_none_of_it(
    shop: Shop,
    chromium_browser: Browser,
    live_app: LiveServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
) -> None:
    flow = await shop.api("POST", "/api/v1/flows", json={"name": "Private survey", "categories": ["SURVEY"]})
    assert flow.status_code == 201, flow.text
    flow_id = UUID(flow.json()["data"]["id"])
    qr = await shop.api("POST", "/api/v1/qr-codes", json={"prefilled_message": "Private poster"})
    assert qr.status_code == 201, qr.text
    code = qr.json()["data"]["code"]

    # An agent of the tenant sees both, without the forms that change them; a forged post is refused.
    agent = await new_page(chromium_browser, live_app.url, await add_agent(uow_factory, shop))
    await agent.goto("/flows")
    await expect(agent.locator("#flow-list tr", has_text="Private survey")).to_be_visible()
    await expect(agent.get_by_role("heading", name="New flow")).to_have_count(0)
    await agent.goto(f"/flows/{flow_id}")
    await expect(agent.get_by_role("button", name="Preview")).to_be_visible()
    await expect(agent.get_by_role("button", name="Publish")).to_have_count(0)
    await agent.goto("/qr-codes")
    await expect(agent.locator(f"tr[data-qr-code='{code}']")).to_contain_text("Private poster")
    await expect(agent.get_by_role("heading", name="New QR code")).to_have_count(0)
    await expect(agent.get_by_text("Edit message")).to_have_count(0)
    csrf = json.loads(await agent.evaluate("document.body.getAttribute('hx-headers')"))
    refused = await agent.request.post(f"/qr-codes/{code}/delete", headers={**csrf, "hx-request": "true"})
    assert refused.status == 403
    assert "needs the admin role" in await refused.text()
    await agent.context.close()

    # Another tenant's user sees neither, and is told so for the flow's own page.
    other = await add_tenant_with_user(uow_factory, f"other-{uuid4().hex[:8]}")
    page = await new_page(chromium_browser, live_app.url, other.username)
    await page.goto("/flows")
    await expect(page.get_by_test_id("flow-total")).to_have_text("0 flows")
    await expect(page.locator("main")).not_to_contain_text("Private survey")
    answer = await page.goto(f"/flows/{flow_id}")
    assert answer is not None and answer.status == 404
    await expect(page.get_by_test_id("page-error")).to_be_visible()
    await page.goto("/qr-codes")
    await expect(page.get_by_test_id("qr-total")).to_have_text("0 QR codes")
    await expect(page.locator("main")).not_to_contain_text("Private poster")
    image = await page.request.get(f"/api/v1/qr-codes/{code}/image")
    assert image.status == 404
    await page.context.close()


async def test_signed_out_visitors_go_to_the_login_page(live_app: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_app.url, timeout=30) as client:
        for path in ("/flows", "/qr-codes", f"/flows/{uuid4()}"):
            answer = await client.get(path)
            assert answer.status_code in (302, 303), (path, answer.status_code, answer.text)
            assert answer.headers["location"] == f"/login?next={path}"


async def test_both_pages_fit_a_phone_and_work_from_the_keyboard(shop: Shop, signed_in: SignIn) -> None:
    made = await shop.api("POST", "/api/v1/flows", json={"name": "Phone flow", "categories": ["OTHER"]})
    assert made.status_code == 201, made.text
    qr = await shop.api("POST", "/api/v1/qr-codes", json={"prefilled_message": "Seen on the bus shelter"})
    assert qr.status_code == 201, qr.text
    page = await signed_in(shop, viewport=PHONE_VIEWPORT)
    for path, name in (
        ("/flows", "flows"),
        (f"/flows/{made.json()['data']['id']}", "flow"),
        ("/qr-codes", "qr-codes"),
    ):
        await page.goto(path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_VIEWPORT["width"] + 1, f"{path} scrolls sideways ({width}px)"
        await screenshot(page, f"phone-{name}")

    # Keyboard only: the message field is reached with Tab, typed in, and Enter creates the code.
    await page.goto("/qr-codes")
    field = page.locator("#qr-form input[name=prefilled_message]")
    for _ in range(80):
        await page.keyboard.press("Tab")
        if await field.evaluate("el => el === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the prefilled message field")
    await page.keyboard.type("Typed from the keyboard")
    await page.keyboard.press("Enter")
    await expect(page.locator("#qr-code-list tr", has_text="Typed from the keyboard")).to_be_visible()
    await expect(page.get_by_test_id("qr-total")).to_have_text("2 QR codes")
