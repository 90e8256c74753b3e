"""`pywhatsapp worker` processes sending campaigns: killed with SIGKILL mid-campaign and replaced, or two
side by side on one campaign. The app here does not send (CAMPAIGN_SENDER_IN_SERVE=false): it only serves
the API and takes Meta's status webhooks, as a web tier scaled apart from its workers would."""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from pywhatsapp.adapters.persistence.encryption import configure_secret_key
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from tests.integration.conftest import add_tenant_with_user, make_settings, token_for
from tests.support.campaigns import APP_SECRET, CampaignShop, max_in_any_window, numbers, open_shop
from tests.support.live_server import LiveServer
from tests.support.processes import RunningProcess, command_env, console_script
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres
TEMPLATE = {"template_name": "spring_sale", "language": "en_US"}
# A campaign's statuses are hundreds of webhooks: on a slow machine (embedded PostgreSQL, coverage) the app
# takes a while to take them all in.
SETTLE_SECONDS = 180
RECONCILE_SECONDS = "3"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET)) as sim:
        yield sim


@pytest.fixture(scope="module")
def app(database_url: str, simulator: SimulatorServer) -> Iterator[LiveServer]:
    settings = make_settings(database_url, GRAPH_API_URL=simulator.url, CAMPAIGN_SENDER_IN_SERVE="false")
    with LiveServer(settings) as server:
        simulator.control("POST", "config", json={"webhook_url": f"{server.url}/webhooks"}).raise_for_status()
        yield server


@pytest.fixture
async def shop(
    app: LiveServer, simulator: SimulatorServer, uow_factory: SqlAlchemyUnitOfWorkFactory, database_url: str
) -> AsyncIterator[CampaignShop]:
    simulator.settle(timeout=SETTLE_SECONDS)
    simulator.reset()
    member = await add_tenant_with_user(uow_factory, f"shop-{uuid4().hex[:8]}")
    # The channel's token is encrypted with the key the worker processes derive from the same settings.
    configure_secret_key(make_settings(database_url).secrets_encryption_key)
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        token = await token_for(client, member.username)
        yield await open_shop(client, simulator, app.url, token, member.tenant_id, rate=50)
        simulator.settle(timeout=SETTLE_SECONDS)


def start_worker(name: str, database_url: str, simulator: SimulatorServer, tmp_path: Path) -> RunningProcess:
    settings = make_settings(database_url)
    env = command_env(
        DATABASE_URL=database_url,
        GRAPH_API_URL=simulator.url,
        JWT_SECRET_KEY=settings.JWT_SECRET_KEY,
        SESSION_SECRET_KEY=settings.SESSION_SECRET_KEY,
        CAMPAIGN_RECONCILE_SECONDS=RECONCILE_SECONDS,
        PYWHATSAPP_LOG_DIR=str(tmp_path / name),
        LOG_LEVEL="WARNING",
    )
    return RunningProcess([console_script(), "worker"], env=env, cwd=tmp_path, log=tmp_path / f"{name}.log")


async def wait_for_sends(
    shop: CampaignShop, count: int, process: RunningProcess, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while len(shop.sent()) < count:
        assert process.process.poll() is None, process.output()
        assert time.monotonic() < deadline, f"{len(shop.sent())} sends after {timeout}s\n{process.output()}"
        await asyncio.sleep(0.05)


async def test_a_worker_killed_mid_campaign_is_replaced_with_no_recipient_skipped_or_sent_twice(
    shop: CampaignShop, database_url: str, simulator: SimulatorServer, tmp_path: Path
) -> None:
    recipients = numbers(200)
    campaign = await shop.create(
        name="Crash", **TEMPLATE, recipients={"phone_numbers": recipients}, start=True
    )
    first = start_worker("first", database_url, simulator, tmp_path)
    try:
        await wait_for_sends(shop, 60, first)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
    finally:
        first.stop()
    sent_by_the_first = len(shop.sent())
    assert sent_by_the_first < 200
    second = start_worker("second", database_url, simulator, tmp_path)
    try:
        await shop.wait_status(campaign["id"], "completed")
    finally:
        assert second.stop() == 0, second.output()
    per_number = shop.sends_per_number()
    assert set(per_number) == set(recipients), "a recipient was skipped"
    assert set(per_number.values()) == {1}, "a recipient was sent twice"
    done = await shop.wait_counts(campaign["id"], read=200)
    assert done["counts"]["failed"] == 0


async def test_two_workers_on_one_campaign_never_exceed_the_cap_together(
    shop: CampaignShop, database_url: str, simulator: SimulatorServer, tmp_path: Path
) -> None:
    capped = await shop.client.patch(
        f"/api/v1/channels/{shop.channel_id}", json={"messages_per_second": 20}, headers=shop.auth
    )
    assert capped.status_code == 200, capped.text
    # Measured where "Meta" receives the sends: no status webhooks load the test process meanwhile.
    simulator.control("POST", "config", json={"webhook_url": None}).raise_for_status()
    recipients = numbers(80)
    campaign = await shop.create(
        name="Pair", **TEMPLATE, recipients={"phone_numbers": recipients}, start=True
    )
    workers = [start_worker(name, database_url, simulator, tmp_path) for name in ("left", "right")]
    try:
        await shop.wait_status(campaign["id"], "completed")
    finally:
        simulator.control("POST", "config", json={"webhook_url": f"{shop.base_url}/webhooks"})
        for worker in workers:
            assert worker.stop() == 0, worker.output()
    times = [message["received_at"] for message in shop.sent()]
    assert len(times) == 80 and set(shop.sends_per_number().values()) == {1}
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(sorted(times))]
    assert max_in_any_window(times) <= 20, gaps
    assert max(times) - min(times) >= 3.0
