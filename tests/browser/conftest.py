"""Browser tests: Playwright drives Debian's Chromium against the real app, the simulator and PostgreSQL.

Fixtures for test modules here:
- `simulator` (module): the Cloud API simulator as a real HTTP server, delivering signed webhooks to the app;
- `live_app` (module): the app served by uvicorn on the shared test database, talking to the simulator;
- `chromium_browser` (session): headless Chromium (`/usr/bin/chromium`, or `CHROMIUM` in the environment);
- `shop`: a fresh tenant whose owner has a channel on the simulator's number (`Shop`);
- `signed_in(shop)` (a factory fixture): a new browser page signed in as that tenant's user;
- `screenshot(page, name)`: saves `artifacts/screenshots/<name>.png` for a person to look at.
The tests skip, saying why, when Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from tests.integration.conftest import (  # the same real-PostgreSQL fixtures as the integration tests
    PASSWORD,
    add_tenant_with_user,
    clean_database,
    connect_channel,
    database_url,
    make_settings,
    postgres_server,
    settings,
    token_for,
    uow_factory,
)
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer, customer_number

try:
    from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    async_playwright = None  # type: ignore[assignment]

__all__ = ["clean_database", "customer_number", "database_url", "postgres_server", "settings", "uow_factory"]

pytestmark = pytest.mark.postgres

APP_SECRET = "browser-simulator-app-secret-0123456789"
PHONE_NUMBER_ID = "1122334455667"
WABA_ID = "1234567890987654321"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1280, "height": 860}


def chromium_missing() -> str | None:
    if async_playwright is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = chromium_missing()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET)) as sim:
        yield sim


@pytest.fixture(scope="module")
def live_app(database_url: str, simulator: SimulatorServer) -> Iterator[LiveServer]:
    settings = make_settings(
        database_url,
        GRAPH_API_URL=simulator.url,
        CAMPAIGN_SENDER_IN_SERVE="true",
        MEDIA_DOWNLOADS_IN_SERVE="true",
    )
    with LiveServer(settings) as server:
        simulator.control("POST", "config", json={"webhook_url": f"{server.url}/webhooks"}).raise_for_status()
        yield server


@pytest.fixture(scope="session")
async def chromium_browser() -> AsyncIterator[Browser]:
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield chromium
        await chromium.close()


@dataclass
class Shop:
    """A tenant whose owner can sign in, with a channel on the simulator's phone number."""

    base_url: str
    sim: SimulatorServer
    username: str
    token: str
    tenant_id: UUID
    tenant_slug: str
    channel_id: UUID | None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def customer_writes(self, wa_id: str, text: str, *, name: str = "Alice", **extra: Any) -> str:
        """A simulated customer sends a text; the wamid once the app has taken the webhook."""
        body: dict[str, Any] = {"type": "text", "text": {"body": text}, "name": name, **extra}
        answer = self.sim.control("POST", f"customers/{wa_id}/messages", json=body)
        assert answer.status_code == 200, answer.text
        delivery = answer.json()
        assert delivery["delivered"] and delivery["status_code"] == 200, delivery
        wamid: str = delivery["wamid"]
        return wamid

    async def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            return await client.request(method, path, headers=self.auth, **kwargs)


async def open_shop(
    base_url: str,
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    slug: str,
    *,
    with_channel: bool = True,
) -> Shop:
    """A tenant and its owner; with the simulator's phone number as its channel unless told otherwise (a
    phone number belongs to one tenant)."""
    member = await add_tenant_with_user(uow_factory, slug)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        token = await token_for(client, member.username)
        if not with_channel:
            return Shop(base_url, simulator, member.username, token, member.tenant_id, slug, None)
        channel_id = await connect_channel(
            client,
            token,
            phone_number_id=PHONE_NUMBER_ID,
            access_token="EAAG-browser-token",
            app_secret=APP_SECRET,
            waba_id=WABA_ID,
        )
    return Shop(
        base_url=base_url,
        sim=simulator,
        username=member.username,
        token=token,
        tenant_id=member.tenant_id,
        tenant_slug=slug,
        channel_id=channel_id,
    )


@pytest.fixture
async def shop(
    live_app: LiveServer, simulator: SimulatorServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> AsyncIterator[Shop]:
    simulator.settle()
    yield await open_shop(live_app.url, simulator, uow_factory, f"shop-{uuid4().hex[:8]}")
    simulator.settle()  # no status webhook of this test may land in the next one


SignIn = Callable[..., Awaitable[Page]]


@pytest.fixture
async def signed_in(chromium_browser: Browser) -> AsyncIterator[SignIn]:
    """`await signed_in(shop)` → a page of a fresh browser context, signed in through the login form.
    Any content security policy violation a page reports (an inline script or handler, an `hx-on`
    attribute htmx would need eval for) fails the test: it is a feature that silently does nothing."""
    contexts: list[BrowserContext] = []
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    async def sign_in(
        shop: Shop, *, base_url: str | None = None, viewport: dict[str, int] | None = None
    ) -> Page:
        context = await chromium_browser.new_context(
            base_url=base_url or shop.base_url,
            viewport=viewport or DESKTOP_VIEWPORT,  # type: ignore[arg-type]
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        context.on("console", watch)
        page = await context.new_page()
        await log_in(page, shop.username)
        return page

    yield sign_in
    for context in contexts:
        await context.close()
    assert not violations, violations


async def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/chat**")


async def screenshot(page: Page, name: str) -> Path:
    """Saves the whole page as artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
