"""Signing in and out in a real browser; every page sends a signed-out visitor to the login form."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import Shop, SignIn, screenshot
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.postgres


async def test_signed_out_pages_go_to_login_and_a_bad_password_says_so(
    chromium_browser: Browser, live_app: LiveServer, shop: Shop
) -> None:
    context = await chromium_browser.new_context(base_url=live_app.url)
    page = await context.new_page()
    try:
        for path in ("/chat", "/dashboard", "/logs"):
            await page.goto(path)
            assert "/login" in page.url, path
        await page.fill("#username", shop.username)
        await page.fill("#password", "not-the-password")
        await page.click("button[type=submit]")
        await expect(page.get_by_role("alert")).to_contain_text("Invalid")
        await screenshot(page, "login-error")
    finally:
        await context.close()


async def test_sign_in_shows_the_user_and_sign_out_ends_the_session(shop: Shop, signed_in: SignIn) -> None:
    page = await signed_in(shop)
    await expect(page.get_by_test_id("signed-in-user")).to_contain_text(shop.username)
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/login")
    await page.goto("/chat")
    assert "/login" in page.url
