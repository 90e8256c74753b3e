"""Template analytics through the real app, PostgreSQL, the campaign sender and the simulator as "Meta".

Templates are sent directly and by a campaign; the simulator delivers and reads them (status webhooks),
fails some (an error answer, a failed status webhook) and registers button clicks. The API then shows our
own figures beside Meta's template analytics, asked exactly as Meta documents it; another tenant sees
none of it; Meta without analytics leaves our figures with `meta: null` and a note.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from tests.integration.conftest import add_tenant_with_user, connect_channel, make_settings, token_for
from tests.support.campaigns import APP_SECRET, WABA_ID, CampaignShop, numbers, open_shop
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres

OTHER_WABA_ID = "5550001112223334445"
GRAPH = "/v22.0"
PROMO = {
    "name": "spring_promo",
    "language": "en_US",
    "category": "MARKETING",
    "components": [
        {"type": "BODY", "text": "Spring is here: 20% off everything."},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Tell me more"}]},
    ],
}
RECEIPT = {
    "name": "receipt",
    "language": "en_US",
    "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Thanks for your order."}],
}


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET, auto_read=True)) as sim:
        yield sim


@pytest.fixture(scope="module")
def app(database_url: str, simulator: SimulatorServer) -> Iterator[LiveServer]:
    settings = make_settings(database_url, GRAPH_API_URL=simulator.url, CAMPAIGN_SENDER_IN_SERVE="true")
    with LiveServer(settings) as server:
        simulator.control("POST", "config", json={"webhook_url": f"{server.url}/webhooks"}).raise_for_status()
        yield server


@pytest.fixture
async def shop(
    app: LiveServer,
    fresh_simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    app_client: httpx.AsyncClient,
) -> CampaignShop:
    member = await add_tenant_with_user(uow_factory, f"shop-{uuid4().hex[:8]}")
    token = await token_for(app_client, member.username)
    return await open_shop(app_client, fresh_simulator, app.url, token, member.tenant_id, 1000)


async def other_tenant(client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory) -> dict[str, str]:
    member = await add_tenant_with_user(uow_factory, f"other-{uuid4().hex[:8]}")
    token = await token_for(client, member.username)
    await connect_channel(
        client,
        token,
        phone_number_id="1122334455669",
        access_token="EAAG-other",
        app_secret=APP_SECRET,
        waba_id=OTHER_WABA_ID,
    )
    return {"Authorization": f"Bearer {token}"}


async def stored_templates(shop: CampaignShop, *templates: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Templates at Meta in the shop's WABA, synced here: by name."""
    seeded = shop.sim.control("POST", "templates", json={"waba_id": WABA_ID, "templates": list(templates)})
    assert seeded.status_code == 200, seeded.text
    synced = await shop.client.post("/api/v1/templates/sync", headers=shop.auth)
    assert synced.status_code == 200, synced.text
    listed = await shop.client.get("/api/v1/templates", headers=shop.auth)
    return {t["name"]: t for t in listed.json()["data"]["items"]}


async def send_template(shop: CampaignShop, to: str, name: str) -> httpx.Response:
    return await shop.client.post(
        "/api/v1/messages",
        headers=shop.auth,
        json={"to": to, "type": "template", "template": {"name": name, "language": {"code": "en_US"}}},
    )


async def analytics(shop: CampaignShop, path: str, **params: Any) -> dict[str, Any]:
    answer = await shop.client.get(path, headers=shop.auth, params=params)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


async def settled(shop: CampaignShop) -> None:
    """Every status webhook out of the simulator and stored by the app."""
    await asyncio.to_thread(shop.sim.settle)


async def test_figures_of_direct_and_campaign_sends_with_metas_clicks(shop: CampaignShop) -> None:
    templates = await stored_templates(shop, PROMO, RECEIPT)
    promo = templates["spring_promo"]
    recipients = numbers(7)
    for number in recipients[:4]:
        sent = await send_template(shop, number, "spring_promo")
        assert sent.status_code in (200, 201), sent.text
    # Meta refuses one send outright (an error answer): failed here with Meta's code, never at Meta.
    shop.fault(kind="error", code=131026, count=1)
    refused = await send_template(shop, recipients[4], "spring_promo")
    assert refused.status_code >= 400
    # A campaign sends the same template to two more people.
    campaign = await shop.create(
        name="Spring", template_name="spring_promo", language="en_US",
        recipients={"phone_numbers": recipients[5:]}, start=True,
    )  # fmt: skip
    await shop.wait_status(campaign["id"], "completed")
    await shop.wait_counts(campaign["id"], read=2)
    await settled(shop)
    # One accepted send fails later, as Meta's status webhook says (after it was read: a failure wins).
    first = next(m for m in shop.sent() if m["wa_id"] == recipients[0])
    pushed = shop.sim.control(
        "POST", "statuses", json={"wamid": first["wamid"], "status": "failed", "error_code": 131049}
    )
    assert pushed.status_code in (200, 201), pushed.text
    await settled(shop)
    click = {"button_content": "Tell me more", "count": 3}
    clicks = shop.sim.control("POST", f"templates/{promo['meta_template_id']}/clicks", json=click)
    assert clicks.status_code == 200, clicks.text

    report = await analytics(shop, f"/api/v1/templates/{promo['id']}/analytics")
    ours = report["ours"]
    assert report["template_id"] == promo["id"] and report["name"] == "spring_promo"
    assert ours["sends"] == 7  # 4 direct + 1 refused + 2 by the campaign
    statuses_of_first = await shop.client.get(
        "/api/v1/messages", headers=shop.auth, params={"wa_id": recipients[0], "type": "template"}
    )
    first_status = statuses_of_first.json()["data"]["items"][0]["status"]
    failed_codes = {f["error_code"]: f["count"] for f in ours["failures"]}
    if first_status == "failed":  # the ladder let the failure through
        assert ours["failed"] == 2 and failed_codes == {131026: 1, 131049: 1}
        assert ours["read"] == 5 and ours["delivered"] == 5
    else:  # read already: a later failure does not move it back
        assert ours["failed"] == 1 and failed_codes == {131026: 1}
        assert ours["read"] == 6 and ours["delivered"] == 6
    assert ours["delivery_rate"] == round(ours["delivered"] / 7, 4)
    assert ours["read_rate"] == 1.0
    assert ours["pending"] == 0

    meta = report["meta"]
    assert report["meta_note"] is None and meta is not None
    assert meta["meta_template_id"] == promo["meta_template_id"]
    assert meta["sent"] == 6  # Meta never accepted the refused one
    assert meta["read"] >= 5 and meta["delivered"] >= meta["read"]
    assert meta["clicked"] == 3
    assert meta["clicks"] == [{"type": "quick_reply_button", "button_content": "Tell me more", "count": 3}]
    assert sum(day["sent"] for day in meta["days"]) == 6 and len(meta["days"]) >= 30

    # The request as Meta documents it: UNIX seconds, DAILY, JSON arrays of metrics and template ids.
    asked = shop.sim.control("GET", "template_analytics/requests").json()
    params = asked[-1]["params"]
    assert asked[-1]["waba_id"] == WABA_ID
    assert params["granularity"] == "DAILY"
    assert json.loads(params["metric_types"]) == ["SENT", "DELIVERED", "READ", "CLICKED"]
    assert [str(i) for i in json.loads(params["template_ids"])] == [promo["meta_template_id"]]
    start, end = int(params["start"]), int(params["end"])
    assert 29 * 86400 < end - start <= 30 * 86400 + 1 and abs(end - time.time()) < 120

    every = await analytics(shop, "/api/v1/templates/analytics")
    by_name = {item["name"]: item for item in every["items"]}
    assert by_name["spring_promo"]["ours"]["sends"] == 7
    assert by_name["receipt"]["ours"]["sends"] == 0 and by_name["receipt"]["meta"]["sent"] == 0
    assert every["items"][0]["name"] == "spring_promo"  # most sent first
    # 30+ daily points for each of two templates: Meta's answer came in pages, all of them followed.
    pages = shop.sim.control("GET", "template_analytics/requests").json()[len(asked) :]
    assert len(pages) == 2 and "after" in pages[1]["params"]
    assert sorted(json.loads(pages[0]["params"]["template_ids"])) == sorted(
        int(t["meta_template_id"]) for t in templates.values()
    )

    # The /templates pages load the same figures as a panel.
    panel = await shop.client.get("/templates/analytics", headers=shop.auth)
    assert panel.status_code == 200 and panel.headers["content-type"].startswith("text/html"), panel.text
    assert 'data-template-analytics="spring_promo:en_US"' in panel.text and "Tell me more: 3" in panel.text
    one = await shop.client.get(f"/templates/{promo['id']}/analytics", headers=shop.auth)
    assert one.status_code == 200 and '<td data-label="Sends" data-field="sends">7</td>' in one.text

    # Our own figures alone, without asking Meta.
    before = len(shop.sim.control("GET", "template_analytics/requests").json())
    ours_only = await analytics(shop, "/api/v1/templates/analytics", meta="false")
    assert all(item["meta"] is None and item["meta_note"] is None for item in ours_only["items"])
    assert len(shop.sim.control("GET", "template_analytics/requests").json()) == before

    # The pages come with our figures in their one request; Meta's are added when asked for.
    page = await shop.client.get("/templates", headers=shop.auth)
    assert (
        'data-template-analytics="spring_promo:en_US"' in page.text
        and 'hx-get="/templates/analytics"' in page.text
    )
    page = await shop.client.get(f"/templates/{promo['id']}", headers=shop.auth)
    assert '<td data-label="Sends" data-field="sends">7</td>' in page.text
    assert f'hx-get="/templates/{promo["id"]}/analytics"' in page.text
    assert len(shop.sim.control("GET", "template_analytics/requests").json()) == before


async def test_a_period_counts_only_its_sends_and_bad_periods_are_refused(shop: CampaignShop) -> None:
    templates = await stored_templates(shop, RECEIPT)
    receipt = templates["receipt"]
    for number in numbers(2):
        assert (await send_template(shop, number, "receipt")).status_code in (200, 201)
    await settled(shop)
    path = f"/api/v1/templates/{receipt['id']}/analytics"
    today = datetime.now(UTC).date()
    whole_day = await analytics(shop, path, since=today.isoformat(), until=today.isoformat(), meta="false")
    assert whole_day["ours"]["sends"] == 2 and whole_day["ours"]["read"] == 2
    assert whole_day["since"].startswith(today.isoformat())
    week_ago, yesterday = (today - timedelta(days=8)).isoformat(), (today - timedelta(days=1)).isoformat()
    last_week = await analytics(shop, path, since=week_ago, until=yesterday)
    assert last_week["ours"]["sends"] == 0 and last_week["ours"]["delivery_rate"] is None
    assert last_week["meta"]["sent"] == 0

    for params, words in (
        ({"since": "yesterday"}, "since must be a date"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "before until"),
        ({"since": "2020-01-01", "until": "2026-01-01"}, "366 days"),
    ):
        refused = await shop.client.get(path, headers=shop.auth, params=params)
        assert refused.status_code == 422, refused.text
        assert words in refused.json()["message"]
    missing = await shop.client.get(f"/api/v1/templates/{uuid4()}/analytics", headers=shop.auth)
    assert missing.status_code == 404


async def test_another_tenant_sees_neither_the_template_nor_its_sends(
    shop: CampaignShop, app_client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    templates = await stored_templates(shop, PROMO)
    promo = templates["spring_promo"]
    assert (await send_template(shop, numbers(1)[0], "spring_promo")).status_code in (200, 201)
    await settled(shop)
    theirs = await other_tenant(app_client, uow_factory)

    hidden = await app_client.get(f"/api/v1/templates/{promo['id']}/analytics", headers=theirs)
    assert hidden.status_code == 404, hidden.text
    listed = await app_client.get("/api/v1/templates/analytics", headers=theirs)
    assert listed.status_code == 200, listed.text
    assert listed.json()["data"]["items"] == []
    # Theirs alone: a send of a same-named template in their tenant is counted there, not here.
    mine = await analytics(shop, f"/api/v1/templates/{promo['id']}/analytics", meta="false")
    assert mine["ours"]["sends"] == 1


async def test_meta_without_template_analytics_leaves_our_figures_and_a_note(shop: CampaignShop) -> None:
    templates = await stored_templates(shop, PROMO)
    promo = templates["spring_promo"]
    assert (await send_template(shop, numbers(1)[0], "spring_promo")).status_code in (200, 201)
    await settled(shop)
    path = f"/api/v1/templates/{promo['id']}/analytics"

    shop.sim.control(
        "POST", "template_analytics", json={"enabled": False, "waba_id": WABA_ID}
    ).raise_for_status()
    report = await analytics(shop, path)
    assert report["meta"] is None and report["ours"]["sends"] == 1
    assert "not enabled" in report["meta_note"]
    every = await analytics(shop, "/api/v1/templates/analytics")
    assert every["items"][0]["meta"] is None and "not enabled" in every["items"][0]["meta_note"]
    shop.sim.control(
        "POST", "template_analytics", json={"enabled": True, "waba_id": WABA_ID}
    ).raise_for_status()

    # Meta's own trouble (a 5xx) or silence: still our figures, never a 5xx of ours.
    shop.sim.control(
        "POST", "faults", json={"kind": "http_500", "match": "template_analytics"}
    ).raise_for_status()
    failing = await analytics(shop, path)
    assert failing["meta"] is None and failing["meta_note"] and failing["ours"]["sends"] == 1
    shop.sim.control(
        "POST", "faults", json={"kind": "error", "code": 190, "match": "template_analytics"}
    ).raise_for_status()
    refused = await analytics(shop, path)
    assert refused["meta"] is None and "190" in refused["meta_note"]
    recovered = await analytics(shop, path)
    assert recovered["meta"] is not None and recovered["meta"]["sent"] == 1


def test_the_simulator_answers_template_analytics_as_meta_documents_it(simulator: SimulatorServer) -> None:
    """Straight at the simulator's Graph API: the parameters Meta requires, and its refusals."""
    simulator.reset()
    (template,) = simulator.control(
        "POST", "templates", json={"waba_id": WABA_ID, "templates": [RECEIPT]}
    ).json()["templates"]
    url = f"{simulator.url}{GRAPH}/{WABA_ID}/template_analytics"
    auth = {"Authorization": "Bearer t"}
    now = int(time.time())
    good = {
        "start": str(now - 86400),
        "end": str(now),
        "granularity": "DAILY",
        "metric_types": '["SENT","READ"]',
        "template_ids": f"[{template['id']}]",
    }
    answer = httpx.get(url, params=good, headers=auth)
    assert answer.status_code == 200, answer.text
    (block,) = answer.json()["data"]
    assert block["granularity"] == "DAILY"
    point = block["data_points"][0]
    assert set(point) == {"template_id", "start", "end", "sent", "read"}
    assert point["start"] % 86400 == 0 and point["end"] - point["start"] == 86400

    for change, code in (
        ({"granularity": "MONTHLY"}, 100),
        ({"template_ids": "[1,2,3,4,5,6,7,8,9,10,11]"}, 100),
        ({"template_ids": "[424242]"}, 100),
        ({"start": "soon"}, 100),
    ):
        refused = httpx.get(url, params={**good, **change}, headers=auth)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == code, refused.text
    assert httpx.get(url, params=good).status_code == 401
    assert (
        httpx.get(f"{simulator.url}{GRAPH}/777/template_analytics", params=good, headers=auth).status_code
        == 400
    )
    unknown = simulator.control("POST", "templates/424242/clicks", json={"button_content": "x"})
    assert unknown.status_code == 404
