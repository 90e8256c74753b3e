"""Flow rules, the data endpoint's answers, flow completions in webhooks, and the flow use cases on fakes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from pywhatsapp.application.flows.manage_flows import ManageFlows
from pywhatsapp.application.flows.ports import CreatedFlow, FlowFilter, RemoteFlow, RemoteFlowPage
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.errors import Conflict, InvalidInput, NotFound
from pywhatsapp.domain.flows import data_exchange
from pywhatsapp.domain.flows.rules import check_categories, check_flow_interactive, check_routes
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.sending import check_payload
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.domain.webhooks.meta_payload import parse_webhook_body
from pywhatsapp.domain.webhooks.updates import InboundMessage
from tests.unit.fakes import FakeUnitOfWorkFactory

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "meta-webhooks" / "flow_completion"


def flow_message(**parameters: Any) -> dict[str, Any]:
    return {"type": "flow", "body": {"text": "Go"}, "action": {"parameters": parameters}}


def test_a_flow_message_gets_metas_defaults() -> None:
    payload = flow_message(flow_name="signup", flow_cta="Sign up", flow_action_payload={"screen": "A"})
    check_payload("interactive", payload)
    parameters = payload["action"]["parameters"]
    assert payload["action"]["name"] == "flow"
    assert parameters["flow_message_version"] == "3" and parameters["flow_action"] == "navigate"
    assert len(parameters["flow_token"]) >= 16
    exchange = flow_message(flow_id="1", flow_cta="Go")
    assert check_flow_interactive(exchange) is None
    assert exchange["action"]["parameters"]["flow_action"] == "data_exchange"


@pytest.mark.parametrize(
    ("parameters", "word"),
    [
        ({"flow_cta": "Go"}, "flow_id"),
        ({"flow_id": "1", "flow_cta": "x" * 31}, "flow_cta"),
        ({"flow_id": "1", "flow_cta": "Go", "mode": "live"}, "mode"),
        ({"flow_id": "1", "flow_cta": "Go", "flow_action": "navigate"}, "flow_action_payload"),
        ({"flow_id": "1", "flow_cta": "Go", "flow_action_payload": {"data": {}}}, "screen"),
    ],
)
def test_a_broken_flow_message_is_refused_with_the_reason(parameters: dict[str, Any], word: str) -> None:
    with pytest.raises(InvalidInput, match=word):
        check_payload("interactive", flow_message(**parameters))


def test_categories_and_routes_are_checked() -> None:
    assert check_categories(["survey", "SURVEY", "other"]) == ["SURVEY", "OTHER"]
    with pytest.raises(InvalidInput):
        check_categories(["MARKETING"])
    assert check_routes({"A": {"next_screen": "B"}}) == {"A": {"next_screen": "B", "data": {}}}
    bad: object
    for bad in ([], {"A": {}}, {"A": {"next_screen": "B", "data": []}}, {"A": {"next_screen": "B", "x": 1}}):
        with pytest.raises(InvalidInput):
            check_routes(bad)


ROUTES = {
    "INIT": {"next_screen": "ONE", "data": {"a": 1}},
    "ONE": {"next_screen": "SUCCESS", "data": {"b": 2}},
}


def test_the_data_endpoint_answers_from_the_routes() -> None:
    assert data_exchange.answer({"action": "ping"}, None) == {"data": {"status": "active"}}
    assert data_exchange.answer({"action": "INIT"}, ROUTES) == {"screen": "ONE", "data": {"a": 1}}
    assert data_exchange.answer({"action": "data_exchange", "screen": "ONE", "flow_token": "t"}, ROUTES) == {
        "screen": "SUCCESS",
        "data": {"extension_message_response": {"params": {"flow_token": "t", "b": 2}}},
    }
    assert data_exchange.answer({"action": "BACK", "screen": "ONE"}, ROUTES) == {
        "screen": "ONE",
        "data": {"a": 1},
    }
    assert data_exchange.answer({"action": "data_exchange", "data": {"error": "x"}}, ROUTES) == {
        "data": {"acknowledged": True}
    }
    with pytest.raises(NotFound):
        data_exchange.answer({"action": "data_exchange", "screen": "TWO"}, ROUTES)
    with pytest.raises(InvalidInput):
        data_exchange.answer({"action": "launch"}, ROUTES)
    with pytest.raises(InvalidInput):
        data_exchange.answer([], ROUTES)


@pytest.mark.parametrize("sample", ["completion.json", "without_flow_token.json"])
def test_a_flow_completion_keeps_its_answers_parsed(sample: str) -> None:
    (update,) = parse_webhook_body(json.loads((SAMPLES / sample).read_text()))
    assert isinstance(update, InboundMessage) and update.type == "interactive" and update.text == "Sent"
    assert update.content["flow_response"]["purchase_rating"] == "2"
    assert isinstance(update.content["nfm_reply"]["response_json"], str)
    assert update.content["flow_token"] == (
        "AQAAAAACS5FpgQ_cAAAAAD0QI3s." if sample == "completion.json" else None
    )


def test_a_completion_whose_answers_are_not_json_is_kept_without_them() -> None:
    body = json.loads((SAMPLES / "completion.json").read_text())
    body["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["nfm_reply"]["response_json"] = (
        "{oops"
    )
    (update,) = parse_webhook_body(body)
    assert isinstance(update, InboundMessage) and update.content["flow_response"] is None


class FakeMetaFlows:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.remote: list[RemoteFlow] = []

    async def create(self, channel: Channel, **kwargs: Any) -> CreatedFlow:
        self.calls.append(("create", kwargs))
        return CreatedFlow(meta_flow_id=str(len(self.calls)), validation_errors=self.errors)

    async def update_metadata(self, channel: Channel, meta_flow_id: str, **kwargs: Any) -> None:
        self.calls.append(("update", kwargs))

    async def upload_json(self, channel: Channel, meta_flow_id: str, flow_json: str) -> list[dict[str, Any]]:
        self.calls.append(("upload", flow_json))
        return self.errors

    async def publish(self, channel: Channel, meta_flow_id: str) -> None:
        self.calls.append(("publish", meta_flow_id))

    async def deprecate(self, channel: Channel, meta_flow_id: str) -> None:
        self.calls.append(("deprecate", meta_flow_id))

    async def delete(self, channel: Channel, meta_flow_id: str) -> None:
        self.calls.append(("delete", meta_flow_id))

    async def get(self, channel: Channel, meta_flow_id: str, *, invalidate_preview: bool) -> RemoteFlow:
        return next(r for r in self.remote if r.meta_flow_id == meta_flow_id)

    async def page(self, channel: Channel, *, after: str | None, limit: int) -> RemoteFlowPage:
        start = int(after or 0)
        chunk = self.remote[start : start + limit]
        following = start + limit
        return RemoteFlowPage(flows=chunk, after=str(following) if following < len(self.remote) else None)

    async def set_public_key(self, channel: Channel, public_key_pem: str) -> None:
        self.calls.append(("key", public_key_pem))


async def _tenant(factory: FakeUnitOfWorkFactory) -> Principal:
    tenant = Tenant(id=uuid4(), name="Shop", slug=f"shop-{uuid4().hex[:6]}")
    async with factory() as uow:
        await uow.tenants.add(tenant)
        await uow.commit()
    async with factory(tenant.id) as uow:
        await uow.channels.add(
            Channel(tenant_id=tenant.id, phone_number_id=uuid4().hex[:12], access_token="t")
        )
        await uow.commit()
    return Principal(
        user_id=uuid4(),
        username="u",
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        tenant_name="Shop",
        role=Role.OWNER,
    )


async def test_the_flow_lifecycle_on_fakes_and_tenant_isolation() -> None:
    factory = FakeUnitOfWorkFactory()
    meta = FakeMetaFlows()
    flows = ManageFlows(factory, meta)
    owner, stranger = await _tenant(factory), await _tenant(factory)
    meta.errors = [{"error": "MISSING_REQUIRED_PROPERTY", "message": "version"}]
    flow = await flows.create(owner, name="F", categories=["OTHER"], flow_json={"screens": []})
    assert flow.validation_errors == meta.errors and flow.status == "DRAFT"
    with pytest.raises(Conflict):
        await flows.publish(owner, flow.id)
    meta.errors = []
    flow = await flows.upload_json(owner, flow.id, {"version": "7.1", "screens": [{"id": "A", "layout": {}}]})
    assert flow.json_version == "7.1" and flow.validation_errors == []
    assert (await flows.publish(owner, flow.id)).status == "PUBLISHED"
    with pytest.raises(Conflict):
        await flows.delete(owner, flow.id)
    assert (await flows.deprecate(owner, flow.id)).status == "DEPRECATED"
    with pytest.raises(NotFound):
        await flows.get(stranger, flow.id)
    assert (await flows.list(stranger, FlowFilter())).total == 0
    assert (await flows.list(owner, FlowFilter(status="deprecated"))).total == 1


async def test_sync_follows_every_page_and_removes_what_meta_no_longer_has() -> None:
    factory = FakeUnitOfWorkFactory()
    meta = FakeMetaFlows()
    flows = ManageFlows(factory, meta)
    owner = await _tenant(factory)
    gone = await flows.create(owner, name="Gone", categories=["OTHER"])
    meta.remote = [RemoteFlow(meta_flow_id=f"m{i}", name=f"N{i}", status="DRAFT") for i in range(250)]
    report = await flows.sync(owner)
    assert (report.created, report.updated, report.removed, report.at_meta) == (250, 0, 1, 250)
    with pytest.raises(NotFound):
        await flows.get(owner, gone.id)
    assert (await flows.sync(owner)).updated == 250
