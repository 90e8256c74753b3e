"""Template management through the real app, real PostgreSQL and the Cloud API simulator as "Meta".

A template is submitted (the simulator records exactly what it got and approves it with a signed status
webhook), synced page by page from the WABA, previewed, deleted at Meta and here, and checked before every
template send; another tenant sees none of it. The CLI syncs and migrates between WABAs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from click.testing import CliRunner

from pywhatsapp.adapters.persistence.encryption import configure_secret_key
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from pywhatsapp.entrypoints.cli.main import cli
from tests.integration.conftest import add_tenant_with_user, connect_channel, make_settings, token_for
from tests.support.api_errors import assert_error
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres

APP_SECRET = "simulator-app-secret-0123456789abcdef"
WABA_ID = "1234567890987654321"
OTHER_WABA_ID = "9876543210123456789"
GRAPH = "/v22.0"

ORDER_COMPONENTS: list[dict[str, Any]] = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#42"]}},
    {
        "type": "BODY",
        "text": "Hi {{1}}, your order {{2}} ships on {{3}}.",
        "example": {"body_text": [["Alice", "#42", "Monday"]]},
    },
    {"type": "FOOTER", "text": "Lucky Shrub"},
    {
        "type": "BUTTONS",
        "buttons": [
            {
                "type": "URL",
                "text": "Track",
                "url": "https://shop.example/track/{{1}}",
                "example": ["https://shop.example/track/42"],
            },
            {"type": "QUICK_REPLY", "text": "Stop promotions"},
        ],
    },
]
GOOD_PARAMETERS: list[dict[str, Any]] = [
    {"type": "header", "parameters": [{"type": "text", "text": "#7"}]},
    {
        "type": "body",
        "parameters": [
            {"type": "text", "text": "Bo"},
            {"type": "text", "text": "#7"},
            {"type": "text", "text": "Friday"},
        ],
    },
    {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "7"}]},
]


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET, template_review_delay=0.3)) as sim:
        yield sim


@pytest.fixture(scope="module")
def app_settings(database_url: str, simulator: SimulatorServer) -> Any:
    return make_settings(database_url, GRAPH_API_URL=simulator.url)


@pytest.fixture(scope="module")
def app(app_settings: Any, simulator: SimulatorServer) -> Iterator[LiveServer]:
    with LiveServer(app_settings) as server:
        simulator.control("POST", "config", json={"webhook_url": f"{server.url}/webhooks"}).raise_for_status()
        yield server


@dataclass
class Shop:
    """A tenant's owner, signed in, with a channel on its own WABA at the simulator."""

    client: httpx.AsyncClient
    sim: SimulatorServer
    token: str
    slug: str
    tenant_id: UUID
    waba_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.auth, params=params)

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(path, headers=self.auth, json=body)

    async def templates(self, **params: Any) -> dict[str, Any]:
        answer = await self.get("/api/v1/templates", limit=200, **params)
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()["data"]
        return data

    def seed(self, *templates: dict[str, Any]) -> list[dict[str, Any]]:
        """Templates that already exist at Meta in this shop's WABA."""
        answer = self.sim.control(
            "POST", "templates", json={"waba_id": self.waba_id, "templates": list(templates)}
        )
        assert answer.status_code == 200, answer.text
        created: list[dict[str, Any]] = answer.json()["templates"]
        return created

    def at_meta(self) -> list[dict[str, Any]]:
        """What the simulator lists for this WABA (every page)."""
        found: list[dict[str, Any]] = []
        url: str | None = f"{self.sim.url}{GRAPH}/{self.waba_id}/message_templates?limit=100"
        while url:
            page = httpx.get(url, headers={"Authorization": "Bearer t"}).json()
            found.extend(page["data"])
            url = page.get("paging", {}).get("next")
        return found

    async def sync(self) -> dict[str, Any]:
        answer = await self.post("/api/v1/templates/sync")
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()["data"]
        return data

    async def wait_for_status(self, template_id: str, status: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            template: dict[str, Any] = (await self.get(f"/api/v1/templates/{template_id}")).json()["data"]
            if template["status"] == status:
                return template
            assert time.monotonic() < deadline, f"still {template['status']}, not {status}"
            await asyncio.sleep(0.05)


async def open_shop(
    app: LiveServer,
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    client: httpx.AsyncClient,
    *,
    waba_id: str,
    phone_number_id: str,
) -> Shop:
    member = await add_tenant_with_user(uow_factory, f"shop-{uuid4().hex[:8]}")
    token = await token_for(client, member.username)
    await connect_channel(
        client,
        token,
        phone_number_id=phone_number_id,
        access_token="EAAG-token",
        app_secret=APP_SECRET,
        waba_id=waba_id,
    )
    return Shop(client, simulator, token, member.tenant_slug, member.tenant_id, waba_id)


@pytest.fixture
async def shop(
    app: LiveServer,
    fresh_simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    app_client: httpx.AsyncClient,
) -> Shop:
    return await open_shop(
        app, fresh_simulator, uow_factory, app_client, waba_id=WABA_ID, phone_number_id="1122334455667"
    )


@pytest.fixture
async def other_shop(
    app: LiveServer,
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    app_client: httpx.AsyncClient,
    shop: Shop,
) -> Shop:
    return await open_shop(
        app, simulator, uow_factory, app_client, waba_id=OTHER_WABA_ID, phone_number_id="1122334455668"
    )


def order_template(name: str = "order_update", **extra: Any) -> dict[str, Any]:
    return {"name": name, "language": "en_US", "category": "UTILITY", "components": ORDER_COMPONENTS, **extra}


# --- submit ------------------------------------------------------------------------------------------------


async def test_a_submitted_template_reaches_meta_as_sent_and_its_review_webhook_approves_it(
    shop: Shop,
) -> None:
    answer = await shop.post("/api/v1/templates", order_template())
    assert answer.status_code == 201, answer.text
    created = answer.json()["data"]
    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    assert created["parameter_format"] == "POSITIONAL"

    (at_meta,) = shop.at_meta()
    assert created["meta_template_id"] == at_meta["id"]
    # Exactly what Meta documents for POST /{waba_id}/message_templates.
    assert {k: at_meta[k] for k in ("name", "language", "category", "components")} == {
        "name": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "components": ORDER_COMPONENTS,
    }

    approved = await shop.wait_for_status(created["id"], "APPROVED")
    assert approved["meta_template_id"] == at_meta["id"]

    # Meta rejects it later: the status webhook carries the reason.
    rejected = shop.sim.control(
        "POST", f"templates/{at_meta['id']}/status", json={"status": "REJECTED", "reason": "INVALID_FORMAT"}
    )
    assert rejected.status_code == 200 and rejected.json()["delivered"], rejected.text
    stored = await shop.wait_for_status(created["id"], "REJECTED")
    assert stored["rejected_reason"] == "INVALID_FORMAT"


async def test_a_template_breaking_metas_rules_is_refused_before_meta_hears_of_it(shop: Shop) -> None:
    gap = {
        **order_template("gappy"),
        "components": [
            {"type": "BODY", "text": "Hi {{1}} and {{3}}", "example": {"body_text": [["a", "b"]]}}
        ],
    }
    assert_error(await shop.post("/api/v1/templates", gap), 422, "{{1}} to {{2}}", "without gaps")
    no_example = {**order_template("plain"), "components": [{"type": "BODY", "text": "Hi {{1}}"}]}
    assert_error(await shop.post("/api/v1/templates", no_example), 422, "example")
    assert_error(await shop.post("/api/v1/templates", order_template("Bad Name")), 422, "lowercase")
    assert_error(await shop.post("/api/v1/templates", order_template(category="PROMO")), 422, "category")
    assert_error(await shop.post("/api/v1/templates", {"name": "x"}), 422)
    assert shop.at_meta() == []
    assert (await shop.templates())["total"] == 0

    assert (await shop.post("/api/v1/templates", order_template())).status_code == 201
    assert_error(await shop.post("/api/v1/templates", order_template()), 409, "already exists")


async def test_metas_own_refusal_is_told_in_metas_words(shop: Shop) -> None:
    # Already at Meta but not synced here: Meta refuses the duplicate.
    shop.seed({"name": "order_update", "language": "en_US", "category": "UTILITY"})
    message = assert_error(await shop.post("/api/v1/templates", order_template()), 422, "Meta refused")
    assert "already has content" in message


# --- sync --------------------------------------------------------------------------------------------------


def many(count: int, prefix: str = "promo", **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{prefix}_{n:03d}",
            "language": "en_US" if n % 3 else "pt_BR",
            "category": "MARKETING" if n % 2 else "UTILITY",
            "components": [{"type": "BODY", "text": f"Offer {n} for {{{{1}}}}"}],
            **extra,
        }
        for n in range(count)
    ]


async def test_sync_reads_every_page_of_the_waba_and_reports_what_changed(shop: Shop) -> None:
    seeded = shop.seed(*many(120))
    first = await shop.sync()
    assert first["at_meta"] == 120 and first["pages"] >= 3, first  # 50 a page
    assert (first["created"], first["updated"], first["removed"]) == (120, 0, 0)
    listed = await shop.templates()
    assert listed["total"] == 120
    assert {t["meta_template_id"] for t in listed["items"]} == {t["id"] for t in seeded}
    assert all(t["synced_at"] and t["status"] == "APPROVED" for t in listed["items"])

    # Filters: status, name (a part of it), language, category.
    assert (await shop.templates(language="pt_BR"))["total"] == 40
    assert (await shop.templates(category="marketing"))["total"] == 60
    assert (await shop.templates(name="PROMO_01"))["total"] == 10
    assert (await shop.templates(status="PENDING"))["total"] == 0
    assert_error(await shop.get("/api/v1/templates", limit=0), 422)

    # At Meta: five deleted, one edited.
    async with httpx.AsyncClient(base_url=shop.sim.url, headers={"Authorization": "Bearer t"}) as graph:
        for template in seeded[:5]:
            gone = await graph.delete(
                f"{GRAPH}/{WABA_ID}/message_templates", params={"name": template["name"]}
            )
            assert gone.status_code == 200, gone.text
        edited = await graph.post(
            f"{GRAPH}/{seeded[10]['id']}", json={"components": [{"type": "BODY", "text": "New text {{1}}"}]}
        )
        assert edited.status_code == 200, edited.text
    second = await shop.sync()
    assert (second["created"], second["updated"], second["unchanged"], second["removed"]) == (0, 1, 114, 5)
    deleted = await shop.templates(status="DELETED")
    assert sorted(t["name"] for t in deleted["items"]) == sorted(t["name"] for t in seeded[:5])
    (changed,) = (await shop.templates(name=seeded[10]["name"]))["items"]
    assert changed["components"] == [{"type": "BODY", "text": "New text {{1}}"}]


# --- preview and delete ------------------------------------------------------------------------------------


async def test_preview_renders_the_template_with_the_parameters(shop: Shop) -> None:
    shop.seed(
        {"name": "order_update", "language": "en_US", "category": "UTILITY", "components": ORDER_COMPONENTS}
    )
    await shop.sync()
    (template,) = (await shop.templates())["items"]

    answer = await shop.post(f"/api/v1/templates/{template['id']}/preview", {"components": GOOD_PARAMETERS})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == {
        "header": "Order #7",
        "body": "Hi Bo, your order #7 ships on Friday.",
        "footer": "Lucky Shrub",
        "buttons": "Track (https://shop.example/track/7)\nStop promotions",
    }
    short = [
        GOOD_PARAMETERS[0],
        {"type": "body", "parameters": [{"type": "text", "text": "Bo"}]},
        GOOD_PARAMETERS[2],
    ]
    assert_error(
        await shop.post(f"/api/v1/templates/{template['id']}/preview", {"components": short}),
        422,
        "body takes 3 parameters",
    )
    assert_error(await shop.post(f"/api/v1/templates/{uuid4()}/preview", {"components": []}), 404)


async def test_delete_removes_the_template_at_meta_and_here(shop: Shop) -> None:
    shop.seed(*many(2))
    await shop.sync()
    first, second = (await shop.templates())["items"]

    answer = await shop.client.delete(f"/api/v1/templates/{first['id']}", headers=shop.auth)
    assert answer.status_code == 200, answer.text
    assert [t["name"] for t in shop.at_meta()] == [second["name"]]
    assert_error(await shop.get(f"/api/v1/templates/{first['id']}"), 404)
    assert (await shop.templates())["total"] == 1


# --- sends -------------------------------------------------------------------------------------------------


async def test_a_template_send_with_wrong_parameters_never_reaches_meta(shop: Shop) -> None:
    shop.seed(
        {"name": "order_update", "language": "en_US", "category": "UTILITY", "components": ORDER_COMPONENTS},
        {
            "name": "paused_one",
            "language": "en_US",
            "components": [{"type": "BODY", "text": "Hi"}],
            "status": "PAUSED",
        },
    )
    await shop.sync()

    def send(name: str, components: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "to": "15551234567",
            "type": "template",
            "template": {"name": name, "language": {"code": "en_US"}, "components": components},
        }

    wrong_count = [GOOD_PARAMETERS[0], {"type": "body", "parameters": [{"type": "text", "text": "Bo"}]}]
    assert_error(await shop.post("/api/v1/messages", send("order_update", wrong_count)), 422, "body takes 3")
    no_suffix = GOOD_PARAMETERS[:2]
    assert_error(await shop.post("/api/v1/messages", send("order_update", no_suffix)), 422, "button 0")
    image_header = [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x/y.png"}}]},
        *GOOD_PARAMETERS[1:],
    ]
    assert_error(await shop.post("/api/v1/messages", send("order_update", image_header)), 422, "header")
    assert_error(await shop.post("/api/v1/messages", send("paused_one", [])), 409, "PAUSED", "not APPROVED")
    assert shop.sim.control("GET", "sent").json() == []

    sent = await shop.post("/api/v1/messages", send("order_update", GOOD_PARAMETERS))
    assert sent.status_code in (200, 201), sent.text
    (at_meta,) = shop.sim.control("GET", "sent").json()
    assert at_meta["body"]["template"]["components"] == GOOD_PARAMETERS

    # A template not synced here goes to Meta unchecked: it may have been made in Business Manager.
    unknown = await shop.post("/api/v1/messages", send("made_elsewhere", []))
    assert unknown.status_code in (200, 201), unknown.text
    assert len(shop.sim.control("GET", "sent").json()) == 2


# --- tenants -----------------------------------------------------------------------------------------------


async def test_another_tenant_sees_none_of_the_templates(shop: Shop, other_shop: Shop) -> None:
    shop.seed(*many(3))
    other_shop.seed(*many(2, prefix="theirs"))
    assert (await shop.sync())["created"] == 3
    assert (await other_shop.sync())["created"] == 2  # its own WABA only

    mine = (await shop.templates())["items"]
    theirs = await other_shop.templates()
    assert theirs["total"] == 2 and all(t["name"].startswith("theirs") for t in theirs["items"])
    target = mine[0]["id"]
    assert_error(await other_shop.get(f"/api/v1/templates/{target}"), 404)
    assert_error(await other_shop.post(f"/api/v1/templates/{target}/preview", {"components": []}), 404)
    assert_error(await other_shop.client.delete(f"/api/v1/templates/{target}", headers=other_shop.auth), 404)
    assert (await shop.templates())["total"] == 3
    assert len(shop.at_meta()) == 3


async def test_agents_read_but_only_admins_change_templates(
    shop: Shop, uow_factory: SqlAlchemyUnitOfWorkFactory, app_client: httpx.AsyncClient
) -> None:
    from pywhatsapp.domain.tenancy.membership import Role
    from tests.integration.conftest import add_membership

    member = await add_tenant_with_user(uow_factory, f"agents-{uuid4().hex[:6]}")
    await add_membership(uow_factory, member, shop.tenant_id, Role.AGENT)
    token = await token_for(app_client, member.username)
    agent = {"Authorization": f"Bearer {token}", "X-Tenant-Id": str(shop.tenant_id)}
    assert (await app_client.get("/api/v1/templates", headers=agent)).status_code == 200
    assert_error(await app_client.post("/api/v1/templates/sync", headers=agent), 403)
    assert_error(await app_client.post("/api/v1/templates", headers=agent, json=order_template()), 403)


# --- the CLI -----------------------------------------------------------------------------------------------


def run_cli(app_settings: Any, simulator: SimulatorServer, *args: str) -> Any:
    env = {
        "DATABASE_URL": app_settings.external_database_url,
        "GRAPH_API_URL": simulator.url,
        "PASSWORD_HASH_ROUNDS": "4",
        "SESSION_SECRET_KEY": app_settings.SESSION_SECRET_KEY,
        "JWT_SECRET_KEY": app_settings.JWT_SECRET_KEY,
        "WHATSAPP_TOKEN": "t",
    }
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def same_secrets_key(
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    app_settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CLI runs in this process and sets the key for stored channel secrets from its settings: the
    channels of the test are written with that same key (set after `uow_factory` sets its own)."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    configure_secret_key(app_settings.secrets_encryption_key)


async def test_the_cli_syncs_a_tenants_templates_with_progress(
    same_secrets_key: None, shop: Shop, app_settings: Any, simulator: SimulatorServer
) -> None:
    shop.seed(*many(60))
    result = await asyncio.to_thread(
        run_cli, app_settings, simulator, "templates", "sync", "--tenant", shop.slug
    )
    assert result.exit_code == 0, result.output
    assert f"Synced 60 template(s) of tenant {shop.slug} from Meta in 2 page(s)" in result.output
    assert "60 created, 0 updated, 0 unchanged, 0 removed at Meta" in result.output
    assert (await shop.templates())["total"] == 60

    missing = await asyncio.to_thread(
        run_cli, app_settings, simulator, "templates", "sync", "--tenant", "nope"
    )
    assert missing.exit_code == 1 and "no tenant 'nope'" in missing.output


async def test_the_cli_migrates_approved_templates_to_another_waba(
    same_secrets_key: None, shop: Shop, other_shop: Shop, app_settings: Any, simulator: SimulatorServer
) -> None:
    shop.seed(*many(4), {"name": "paused_one", "language": "en_US", "status": "PAUSED"})
    other_shop.seed({"name": "promo_000", "language": "pt_BR"})  # already there
    result = await asyncio.to_thread(
        run_cli,
        app_settings,
        simulator,
        "templates",
        "migrate",
        "--from-tenant",
        shop.slug,
        "--to-tenant",
        other_shop.slug,
    )
    assert result.exit_code == 0, result.output
    assert f"Migrated 3 template(s) from WABA {WABA_ID} to {OTHER_WABA_ID}; 2 not migrated" in result.output
    assert "already exists" in result.output and "Only APPROVED" in result.output
    names = sorted(t["name"] for t in (await other_shop.templates())["items"])
    assert names == ["promo_000", "promo_001", "promo_002", "promo_003"]
    assert len(shop.at_meta()) == 5  # the source keeps its own

    both = await asyncio.to_thread(
        run_cli, app_settings, simulator, "templates", "migrate", "--to-tenant", other_shop.slug
    )
    assert both.exit_code == 1 and "exactly one of --from-tenant or --source-waba-id" in both.output
