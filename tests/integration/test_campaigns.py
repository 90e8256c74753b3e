"""Campaigns end to end: the app's own sender (inside `serve`) against the Cloud API simulator.

Every test counts at the simulator what "Meta" received: each recipient exactly once, whatever faults
were injected, and nothing for skipped, refused or other tenants' campaigns.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from pywhatsapp.domain.templates.template import MessageTemplate
from tests.integration.conftest import add_tenant_with_user, make_settings, token_for
from tests.support.campaigns import APP_SECRET, CampaignShop, max_in_any_window, numbers, open_shop
from tests.support.flows import FLOW_JSON
from tests.support.live_server import LiveServer
from tests.support.realtime import EventStream, of_type
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres
TEMPLATE = {"template_name": "spring_sale", "language": "en_US"}
# A campaign's statuses are hundreds of webhooks: on a slow machine (embedded PostgreSQL, coverage) the app
# takes a while to take them all in.
SETTLE_SECONDS = 180


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


async def new_shop(
    app: LiveServer,
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    client: httpx.AsyncClient,
    *,
    rate: int = 1000,
) -> CampaignShop:
    member = await add_tenant_with_user(uow_factory, f"shop-{uuid4().hex[:8]}")
    token = await token_for(client, member.username)
    return await open_shop(client, simulator, app.url, token, member.tenant_id, rate)


@pytest.fixture
async def shop(
    app: LiveServer, simulator: SimulatorServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> AsyncIterator[CampaignShop]:
    simulator.settle(timeout=SETTLE_SECONDS)
    simulator.reset()
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        yield await new_shop(app, simulator, uow_factory, client)
        simulator.settle(timeout=SETTLE_SECONDS)


async def test_a_campaign_to_hundreds_reaches_each_exactly_once_and_rolls_up_statuses(
    shop: CampaignShop,
) -> None:
    socket = await EventStream.open(shop.base_url, token=shop.token)
    recipients = numbers(300)
    campaign = await shop.create(
        name="Spring sale",
        **TEMPLATE,
        components=[{"type": "body", "parameters": [{"type": "text", "text": "{{contact.name|friend}}"}]}],
        recipients={
            "phone_numbers": [{"phone": "+" + n, "name": f"Customer {i}"} for i, n in enumerate(recipients)]
        },
        start=True,
    )
    assert campaign["status"] == "running"
    assert campaign["recipients_report"]["added"] == 300

    await shop.wait_status(campaign["id"], "completed")
    per_number = shop.sends_per_number()
    assert set(per_number) == set(recipients)
    assert set(per_number.values()) == {1}
    # every send names its recipient for reconciliation, and carries the personal parameter
    first = next(m for m in shop.sent() if m["wa_id"] == recipients[7])
    assert first["biz_opaque_callback_data"].startswith("campaign_recipient:")
    assert first["body"]["template"]["components"][0]["parameters"][0]["text"] == "Customer 7"

    # delivered and read statuses keep arriving after the last send; the counts follow them
    done = await shop.wait_counts(campaign["id"], read=300, sent=0, sending=0, pending=0)
    assert done["counts"]["total"] == 300
    await socket.wait_for(of_type("campaign_completed", id=campaign["id"]))
    progress = await socket.wait_for(of_type("campaign_progress", campaign_id=campaign["id"]))
    assert progress[-1]["data"]["counts"]["total"] == 300
    await socket.close()


async def test_opted_out_and_duplicate_recipients_are_skipped_and_counted(
    shop: CampaignShop, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    stopped, *others = numbers(4)
    shop.sim.control(
        "POST", f"customers/{stopped}/messages", json={"type": "text", "text": {"body": "STOP"}, "name": "Bo"}
    ).raise_for_status()
    listed = ["+" + stopped, *others, "+" + others[0], f"00{others[1]}"]
    campaign = await shop.create(name="Dedupe", **TEMPLATE, recipients={"phone_numbers": listed}, start=True)
    report = campaign["recipients_report"]
    assert report["duplicates"] == 2
    assert report["skipped"] == {"opted out": 1}

    done = await shop.wait_status(campaign["id"], "completed")
    assert done["counts"]["skipped"] == 1 and done["counts"]["duplicates_skipped"] == 2
    assert sorted(shop.sends_per_number()) == sorted(others)
    skipped = await shop.client.get(
        f"/api/v1/campaigns/{campaign['id']}/recipients", params={"state": "skipped"}, headers=shop.auth
    )
    (row,) = skipped.json()["data"]["items"]
    assert row["wa_id"] == stopped and row["error_title"] == "opted out"


async def test_faults_at_meta_still_end_with_every_recipient_sent_once(shop: CampaignShop) -> None:
    recipients = numbers(60)
    shop.fault(kind="http_500", count=3)
    shop.fault(kind="error", code=130429, count=2)
    shop.fault(kind="drop", count=3)
    campaign = await shop.create(
        name="Storm", **TEMPLATE, recipients={"phone_numbers": recipients}, start=True
    )

    await shop.wait_status(campaign["id"], "completed")
    per_number = shop.sends_per_number()
    # dropped replies were processed by Meta: reconciled from their status webhooks, never resent
    assert set(per_number) == set(recipients) and set(per_number.values()) == {1}
    done = await shop.wait_counts(campaign["id"], read=60)
    assert done["counts"]["failed"] == 0
    retried = await shop.client.get(
        f"/api/v1/campaigns/{campaign['id']}/recipients", params={"limit": 100}, headers=shop.auth
    )
    attempts = sorted(r["attempts"] for r in retried.json()["data"]["items"])
    assert attempts[-1] >= 2  # the 5xx answers were retried


async def test_permanent_errors_fail_the_recipient_with_meta_s_reason(shop: CampaignShop) -> None:
    recipients = numbers(5)
    shop.fault(kind="error", code=131026, count=1)
    campaign = await shop.create(
        name="Gone", **TEMPLATE, recipients={"phone_numbers": recipients}, start=True
    )
    done = await shop.wait_status(campaign["id"], "completed")
    assert done["counts"]["failed"] == 1
    assert len(shop.sent()) == 4
    failed = await shop.client.get(
        f"/api/v1/campaigns/{campaign['id']}/recipients", params={"state": "failed"}, headers=shop.auth
    )
    (row,) = failed.json()["data"]["items"]
    assert row["error_code"] == 131026 and row["attempts"] == 1


async def test_an_expired_token_pauses_the_campaign(shop: CampaignShop) -> None:
    shop.fault(kind="error", code=190, count=1)
    campaign = await shop.create(
        name="Token", **TEMPLATE, recipients={"phone_numbers": numbers(3)}, start=True
    )
    paused = await shop.wait_status(campaign["id"], "paused")
    assert "190" in paused["paused_reason"]
    resumed = await shop.action(campaign["id"], "resume")
    assert resumed.status_code == 200, resumed.text
    await shop.wait_status(campaign["id"], "completed")
    assert set(shop.sends_per_number().values()) == {1} and len(shop.sent()) == 3


async def test_a_template_whose_parameters_do_not_match_is_refused_before_meta(
    shop: CampaignShop, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    async with uow_factory(shop.tenant_id) as uow:
        await uow.templates.add(
            MessageTemplate(
                tenant_id=shop.tenant_id,
                name="order_ready",
                language="en_US",
                status="APPROVED",
                category="UTILITY",
                components=[{"type": "BODY", "text": "Hi {{1}}, order {{2}} is ready"}],
            )
        )
        await uow.commit()
    response = await shop.client.post(
        "/api/v1/campaigns",
        headers=shop.auth,
        json={
            "name": "Bad params",
            "template_name": "order_ready",
            "language": "en_US",
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "{{contact.name}}"}]}],
            "recipients": {"phone_numbers": numbers(2)},
            "start": True,
        },
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["status"] == "error"
    assert "2" in response.json()["message"]
    listed = await shop.client.get("/api/v1/campaigns", headers=shop.auth)
    assert listed.json()["data"]["total"] == 0
    await asyncio.sleep(0.3)
    assert shop.sent() == []


async def test_pause_resume_and_cancel(shop: CampaignShop) -> None:
    slow = await shop.client.patch(
        f"/api/v1/channels/{shop.channel_id}", json={"messages_per_second": 10}, headers=shop.auth
    )
    assert slow.status_code == 200, slow.text
    campaign = await shop.create(
        name="Slow", **TEMPLATE, recipients={"phone_numbers": numbers(40)}, start=True
    )
    await asyncio.sleep(1.0)
    paused = await shop.action(campaign["id"], "pause")
    assert paused.status_code == 200 and paused.json()["data"]["status"] == "paused"
    await asyncio.sleep(0.8)  # whatever was in flight lands
    sent_while_paused = len(shop.sent())
    await asyncio.sleep(1.0)
    assert len(shop.sent()) == sent_while_paused < 40

    assert (await shop.action(campaign["id"], "resume")).status_code == 200
    await asyncio.sleep(0.6)
    cancelled = await shop.action(campaign["id"], "cancel")
    assert cancelled.status_code == 200, cancelled.text
    await asyncio.sleep(0.8)
    final = await shop.get(campaign["id"])
    assert final["status"] == "cancelled"
    sent = len(shop.sent())
    assert sent < 40
    rows = (
        await shop.client.get(
            f"/api/v1/campaigns/{campaign['id']}/recipients", params={"state": "pending"}, headers=shop.auth
        )
    ).json()["data"]["items"]
    assert final["counts"]["skipped"] + sent == 40, (final["counts"], rows[:3], cancelled.json())
    assert (await shop.action(campaign["id"], "resume")).status_code == 409


async def test_a_scheduled_campaign_starts_at_its_time(shop: CampaignShop) -> None:
    at = datetime.now(UTC) + timedelta(seconds=2)
    campaign = await shop.create(
        name="Later", **TEMPLATE, recipients={"phone_numbers": numbers(3)}, scheduled_at=at.isoformat()
    )
    assert campaign["status"] == "scheduled"
    await asyncio.sleep(1.0)
    assert shop.sent() == []
    done = await shop.wait_status(campaign["id"], "completed")
    assert datetime.fromisoformat(done["started_at"]) >= at - timedelta(seconds=0.1)
    assert len(shop.sent()) == 3


async def test_the_cap_holds_in_every_one_second_window(shop: CampaignShop) -> None:
    capped = await shop.client.patch(
        f"/api/v1/channels/{shop.channel_id}", json={"messages_per_second": 25}, headers=shop.auth
    )
    assert capped.status_code == 200, capped.text
    # Measured where "Meta" receives the sends; the simulator shares this process with the app, so no
    # status webhooks load it meanwhile (they would delay its clock readings, not our sends).
    shop.sim.control("POST", "config", json={"webhook_url": None}).raise_for_status()
    try:
        campaign = await shop.create(
            name="Capped", **TEMPLATE, recipients={"phone_numbers": numbers(100)}, start=True
        )
        await shop.wait_status(campaign["id"], "completed")
    finally:
        shop.sim.control("POST", "config", json={"webhook_url": f"{shop.base_url}/webhooks"})
    times = [m["received_at"] for m in shop.sent()]
    assert len(times) == 100
    assert max_in_any_window(times) <= 25
    assert max(times) - min(times) >= 3.0  # 100 sends at 25/s cannot take less than ~4 s


async def test_free_text_reaches_only_customers_inside_their_window(shop: CampaignShop) -> None:
    recent, silent = numbers(2)
    shop.sim.control(
        "POST", f"customers/{recent}/messages", json={"type": "text", "text": {"body": "hi"}, "name": "Cy"}
    ).raise_for_status()
    campaign = await shop.create(
        name="Text",
        text="We are open today until 8pm",
        recipients={"phone_numbers": [recent, silent]},
        start=True,
    )
    assert campaign["recipients_report"]["skipped"] == {
        "outside the 24-hour window (free text needs a recent customer message)": 1
    }
    await shop.wait_status(campaign["id"], "completed")
    (sent,) = shop.sent()
    assert sent["wa_id"] == recent and sent["body"]["text"]["body"] == "We are open today until 8pm"


async def test_recipients_from_a_csv_and_the_report_as_csv(shop: CampaignShop) -> None:
    people = numbers(3)
    upload = (
        "phone,name,city\n" + "".join(f"+{n},P{i},City{i}\n" for i, n in enumerate(people)) + "12,Bad,X\n"
    )
    campaign = await shop.create(
        name="CSV",
        **TEMPLATE,
        components=[{"type": "body", "parameters": [{"type": "text", "text": "{{contact.city}}"}]}],
    )
    added = await shop.client.post(
        f"/api/v1/campaigns/{campaign['id']}/recipients/csv",
        files={"file": ("people.csv", upload.encode(), "text/csv")},
        headers=shop.auth,
    )
    assert added.status_code == 200, added.text
    report = added.json()["data"]["recipients_report"]
    assert report["added"] == 3 and report["rejected"][0]["row"] == 4
    assert (await shop.action(campaign["id"], "start")).status_code == 200
    await shop.wait_status(campaign["id"], "completed")
    cities = {
        m["wa_id"]: m["body"]["template"]["components"][0]["parameters"][0]["text"] for m in shop.sent()
    }
    assert cities == {n: f"City{i}" for i, n in enumerate(people)}

    exported = await shop.client.get(f"/api/v1/campaigns/{campaign['id']}/report.csv", headers=shop.auth)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["wa_id"] for r in rows) == sorted(people)
    assert all(r["wamid"] for r in rows)


async def test_another_tenant_sees_none_of_it(
    shop: CampaignShop, app: LiveServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    campaign = await shop.create(name="Mine", **TEMPLATE, recipients={"phone_numbers": numbers(2)})
    other = await add_tenant_with_user(uow_factory, f"other-{uuid4().hex[:8]}")
    token = await token_for(shop.client, other.username)
    theirs = {"Authorization": f"Bearer {token}"}
    cid = campaign["id"]
    for method, path in [
        ("GET", f"/api/v1/campaigns/{cid}"),
        ("GET", f"/api/v1/campaigns/{cid}/recipients"),
        ("GET", f"/api/v1/campaigns/{cid}/report.csv"),
        ("POST", f"/api/v1/campaigns/{cid}/start"),
        ("POST", f"/api/v1/campaigns/{cid}/cancel"),
    ]:
        response = await shop.client.request(method, path, headers=theirs)
        assert response.status_code == 404, (path, response.text)
    listed = await shop.client.get("/api/v1/campaigns", headers=theirs)
    assert listed.json()["data"]["total"] == 0
    assert (await shop.get(cid))["status"] == "draft"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"name": "x"}, ["template"]),
        ({"name": "x", "template_name": "t"}, ["language"]),
        ({"name": "x", "text": "hi", "template_name": "t", "language": "en"}, ["either"]),
        ({"name": "x", "text": "hi", "recipients": {"phone_numbers": [7]}}, []),
        ({"name": "x", "text": "hi", "scheduled_at": "2030-01-01T00:00:00"}, []),
    ],
)
async def test_bad_campaigns_are_refused_in_the_envelope(
    shop: CampaignShop, body: dict[str, Any], words: list[str]
) -> None:
    response = await shop.client.post("/api/v1/campaigns", json=body, headers=shop.auth)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["status"] == "error"
    for word in words:
        assert word in response.json()["message"].lower()
    assert (await shop.client.get("/api/v1/campaigns", headers=shop.auth)).json()["data"]["total"] == 0


async def test_campaign_messages_show_in_the_thread_once_the_customer_answers(shop: CampaignShop) -> None:
    (customer,) = numbers(1)
    campaign = await shop.create(
        name="Threaded", **TEMPLATE, recipients={"phone_numbers": [customer]}, start=True
    )
    await shop.wait_counts(campaign["id"], read=1)
    (sent,) = shop.sent()
    await asyncio.sleep(1.1)  # Meta's timestamps have whole seconds: the answer comes in a later one
    shop.sim.control(
        "POST", f"customers/{customer}/messages", json={"type": "text", "text": {"body": "Tell me more"}}
    ).raise_for_status()
    conversations = await shop.client.get("/api/v1/conversations", headers=shop.auth)
    (conversation,) = [c for c in conversations.json()["data"]["items"] if c["wa_id"] == customer]
    thread = await shop.client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=shop.auth)
    items = thread.json()["data"]["items"]
    assert [(m["direction"], m["type"]) for m in reversed(items)] == [
        ("outgoing", "template"),
        ("incoming", "text"),
    ]
    template = items[-1]
    assert template["wamid"] == sent["wamid"] and template["status"] == "read"
    assert template["content"]["campaign_id"] == campaign["id"]


async def test_a_flow_campaign_sends_the_published_flow_to_customers_inside_their_window(
    shop: CampaignShop,
) -> None:
    recent, also_recent, silent = numbers(3)
    for number in (recent, also_recent):
        shop.sim.control(
            "POST",
            f"customers/{number}/messages",
            json={"type": "text", "text": {"body": "hi"}, "name": "Di"},
        ).raise_for_status()
    flow = await shop.client.post(
        "/api/v1/flows",
        json={"name": "Book a table", "categories": ["APPOINTMENT_BOOKING"], "flow_json": FLOW_JSON},
        headers=shop.auth,
    )
    assert flow.status_code == 201, flow.text
    flow_id = flow.json()["data"]["id"]
    body = {
        "name": "Bookings",
        "text": "Book your table for Friday",
        "flow": {"flow_id": flow_id, "cta": "Book now", "screen": "WELCOME", "data": {"greeting": "Hello"}},
        "recipients": {"phone_numbers": [recent, also_recent, silent]},
    }
    # A draft flow would fail at Meta for every recipient: refused before anything is created.
    refused = await shop.client.post("/api/v1/campaigns", json=body, headers=shop.auth)
    assert refused.status_code == 409 and "publish it first" in refused.json()["message"]
    published = await shop.client.post(f"/api/v1/flows/{flow_id}/publish", headers=shop.auth)
    assert published.status_code == 200, published.text
    meta_flow_id = published.json()["data"]["meta_flow_id"]

    campaign = await shop.create(**body, start=True)
    assert campaign["flow"]["flow_id"] == flow_id and campaign["flow"]["cta"] == "Book now"
    assert campaign["recipients_report"]["skipped"] == {
        "outside the 24-hour window (free text needs a recent customer message)": 1
    }
    await shop.wait_status(campaign["id"], "completed")
    assert sorted(shop.sends_per_number()) == sorted([recent, also_recent])
    recipients = await shop.client.get(f"/api/v1/campaigns/{campaign['id']}/recipients", headers=shop.auth)
    recipient_of = {row["wa_id"]: row["id"] for row in recipients.json()["data"]["items"]}
    for sent in shop.sent():
        interactive = sent["body"]["interactive"]
        assert sent["body"]["type"] == "interactive" and interactive["type"] == "flow"
        assert interactive["body"]["text"] == "Book your table for Friday"
        parameters = interactive["action"]["parameters"]
        assert parameters["flow_id"] == meta_flow_id and parameters["flow_cta"] == "Book now"
        assert parameters["flow_action"] == "navigate"
        assert parameters["flow_action_payload"] == {"screen": "WELCOME", "data": {"greeting": "Hello"}}
        # Each completion names the flow and its recipient.
        assert parameters["flow_token"] == f"{flow_id}.{recipient_of[sent['wa_id']]}"


async def test_a_flow_campaign_needs_a_body_and_a_flow_of_this_tenant(shop: CampaignShop) -> None:
    no_body = await shop.client.post(
        "/api/v1/campaigns",
        json={"name": "No body", "flow": {"flow_id": str(uuid4()), "cta": "Go"}},
        headers=shop.auth,
    )
    assert no_body.status_code == 422 and "text" in no_body.json()["message"]
    unknown = await shop.client.post(
        "/api/v1/campaigns",
        json={"name": "Unknown", "text": "Hi", "flow": {"flow_id": str(uuid4()), "cta": "Go"}},
        headers=shop.auth,
    )
    assert unknown.status_code == 404 and "No flow" in unknown.json()["message"]
    with_template = await shop.client.post(
        "/api/v1/campaigns",
        json={"name": "Both", **TEMPLATE, "flow": {"flow_id": str(uuid4()), "cta": "Go"}},
        headers=shop.auth,
    )
    assert with_template.status_code == 422 and "not a template" in with_template.json()["message"]


async def test_the_pair_rate_limit_delays_that_customer_and_still_sends_each_once(shop: CampaignShop) -> None:
    recipients = numbers(6)
    shop.fault(kind="error", code=131056, count=2)
    campaign = await shop.create(
        name="Pairs", **TEMPLATE, recipients={"phone_numbers": recipients}, start=True
    )
    done = await shop.wait_status(campaign["id"], "completed")
    assert done["counts"]["failed"] == 0
    per_number = shop.sends_per_number()
    assert set(per_number) == set(recipients) and set(per_number.values()) == {1}


async def test_recipients_by_tag_and_by_contact_id_are_counted_once_and_opted_out_skipped(
    shop: CampaignShop,
) -> None:
    vip, berlin_vip, berlin, stopped, other = numbers(5)

    async def contact(number: str, tags: list[str]) -> str:
        made = await shop.client.post(
            "/api/v1/contacts", json={"phone": "+" + number, "tags": tags}, headers=shop.auth
        )
        assert made.status_code == 201, made.text
        return str(made.json()["data"]["id"])

    await contact(vip, ["vip"])
    both = await contact(berlin_vip, ["vip", "berlin"])
    berlin_id = await contact(berlin, ["berlin"])
    stopped_id = await contact(stopped, ["vip"])
    await contact(other, ["paris"])
    shop.sim.control(
        "POST", f"customers/{stopped}/messages", json={"type": "text", "text": {"body": "STOP"}, "name": "Ed"}
    ).raise_for_status()

    campaign = await shop.create(
        name="Tags",
        **TEMPLATE,
        recipients={"tags": ["vip"], "contact_ids": [both, berlin_id, stopped_id]},
        start=True,
    )
    assert campaign["recipients_report"]["skipped"] == {"opted out": 1}
    await shop.wait_status(campaign["id"], "completed")
    # vip by tag, berlin_vip by tag and by id (once), berlin by id; the opted-out one and paris never.
    per_number = shop.sends_per_number()
    assert sorted(per_number) == sorted([vip, berlin_vip, berlin]) and set(per_number.values()) == {1}
