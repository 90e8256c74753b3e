"""Tenant isolation as a Hypothesis state machine, over real HTTP against the live app.

Three tenants; an owner in each, and one user who is a member of the first two (and so switches with
`X-Tenant-Id`). Rules create records in a tenant through the API (contacts, audiences, API keys, inbound
messages through signed webhooks, which make conversations), and try every operation of
`/docs/openapi.json` that takes an id in its path with ids of another tenant's records, and forged
`X-Tenant-Id` values. What must hold after every step:

- another tenant's id is never found: 404 for reads and deletes, never a 2xx for anything;
- `X-Tenant-Id` of a tenant the user is not a member of is refused (403), whether id or slug; garbage too;
- each tenant's lists and counts hold exactly the records made in it (the model's);
- the `/ws` stream of each tenant (one opened at the start) never carries another tenant's ids.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from pywhatsapp.adapters.persistence.database import create_engine, create_session_factory
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.tenancy.membership import Role
from tests.integration.conftest import PASSWORD, Member, add_membership, add_tenant_with_user
from tests.support.live_server import LiveServer
from tests.support.meta_samples import sign
from tests.support.realtime import EventStream, text_webhook

pytestmark = pytest.mark.postgres

PATH_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
KINDS = ("contacts", "audiences", "api-keys", "conversations")


def digits(length: int = 15) -> str:
    return str(uuid4().int)[:length]


@dataclass
class World:
    url: str
    members: list[Member]
    shared: Member  # a member of tenants 0 and 1
    tokens: dict[str, str]
    channels: list[tuple[str, str]]  # (phone_number_id, app secret) per tenant
    operations: list[tuple[str, str]]  # (method, path) of every operation with a path parameter
    streams: list[EventStream]
    loop: asyncio.AbstractEventLoop


@dataclass
class Model:
    records: dict[int, dict[str, set[str]]] = field(default_factory=dict)
    """What each tenant created: record ids by kind (contacts also by their numbers, as wa_ids)."""
    wamids: dict[int, set[str]] = field(default_factory=dict)
    numbers: dict[int, set[str]] = field(default_factory=dict)
    """The WhatsApp ids of each tenant's contacts: made through the API, or by a customer writing in."""


def _login(client: httpx.Client, username: str) -> str:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["data"]["access_token"]
    return token


@pytest.fixture
def world(live_server: LiveServer, database_url: str) -> Iterator[World]:
    async def seed() -> tuple[list[Member], Member]:
        engine = create_engine(database_url, pool_size=1, max_overflow=0)
        try:
            factory = SqlAlchemyUnitOfWorkFactory(create_session_factory(engine))
            members = [await add_tenant_with_user(factory, f"iso{n}-{uuid4().hex[:6]}") for n in range(3)]
            shared = await add_tenant_with_user(factory, f"isoshared-{uuid4().hex[:6]}")
            for tenant in members[:2]:
                await add_membership(factory, shared, tenant.tenant_id, Role.ADMIN)
            return members, shared
        finally:
            await engine.dispose()

    members, shared = asyncio.run(seed())
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        tokens = {m.username: _login(client, m.username) for m in [*members, shared]}
        channels = []
        for member in members:
            phone_number_id, secret = digits(), f"secret-{uuid4().hex}"
            response = client.post(
                "/api/v1/channels",
                headers={"Authorization": f"Bearer {tokens[member.username]}"},
                json={
                    "phone_number_id": phone_number_id,
                    "access_token": "EAAG-test-token",
                    "app_secret": secret,
                    "waba_id": digits(18),
                },
            )
            assert response.status_code == 201, response.text
            channels.append((phone_number_id, secret))
        spec = client.get("/docs/openapi.json").json()
    operations = sorted(
        (method.upper(), path)
        for path, item in spec["paths"].items()
        if path.startswith("/api/") and PATH_PARAMETER.search(path)
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )
    streams = [
        asyncio.run_coroutine_threadsafe(
            EventStream.open(live_server.url, token=tokens[m.username]), loop
        ).result(timeout=30)
        for m in members
    ]
    yield World(live_server.url, members, shared, tokens, channels, operations, streams, loop)
    for stream in streams:
        asyncio.run_coroutine_threadsafe(stream.close(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)


def isolation_machine(world: World, model: Model) -> type[RuleBasedStateMachine]:
    class TenantIsolation(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.http = httpx.Client(base_url=world.url, timeout=30)

        def teardown(self) -> None:
            self.http.close()

        # --- who asks ------------------------------------------------------------------------------------

        def auth(self, tenant: int, *, shared: bool = False) -> dict[str, str]:
            """The tenant's owner, or the shared member switched to the tenant with X-Tenant-Id."""
            if shared and tenant < 2:
                return {
                    "Authorization": f"Bearer {world.tokens[world.shared.username]}",
                    "X-Tenant-Id": str(world.members[tenant].tenant_id),
                }
            return {"Authorization": f"Bearer {world.tokens[world.members[tenant].username]}"}

        # --- creating records ----------------------------------------------------------------------------

        @initialize()
        def start(self) -> None:
            pass

        @rule(tenant=st.integers(0, 2), shared=st.booleans())
        def create_contact(self, tenant: int, shared: bool) -> None:
            response = self.http.post(
                "/api/v1/contacts",
                headers=self.auth(tenant, shared=shared),
                json={"phone": f"+1415555{digits(4)}", "name": "Someone"},
            )
            if response.status_code == 409:  # the same random number twice in a tenant
                return
            assert response.status_code == 201, response.text
            created = response.json()["data"]
            model.records[tenant]["contacts"].add(created["id"])
            model.numbers[tenant].add(created["wa_id"])

        @rule(tenant=st.integers(0, 2), shared=st.booleans())
        def create_audience(self, tenant: int, shared: bool) -> None:
            response = self.http.post(
                "/api/v1/audiences",
                headers=self.auth(tenant, shared=shared),
                json={"name": f"Audience {uuid4().hex[:8]}", "tags": ["vip"]},
            )
            assert response.status_code == 201, response.text
            model.records[tenant]["audiences"].add(response.json()["data"]["id"])

        @rule(tenant=st.integers(0, 2))
        def create_api_key(self, tenant: int) -> None:
            response = self.http.post(
                "/api/v1/api-keys", headers=self.auth(tenant), json={"name": f"key {uuid4().hex[:6]}"}
            )
            assert response.status_code == 201, response.text
            model.records[tenant]["api-keys"].add(response.json()["data"]["id"])

        @rule(tenant=st.integers(0, 2))
        def customer_writes(self, tenant: int) -> None:
            phone_number_id, secret = world.channels[tenant]
            wamid = f"wamid.iso.{uuid4().hex}"
            customer = f"4917{digits(8)}"
            body = text_webhook(phone_number_id, customer, "hello", wamid=wamid)
            raw = json.dumps(body).encode()
            response = self.http.post(
                "/webhooks", content=raw, headers={"X-Hub-Signature-256": sign(raw, secret)}
            )
            assert response.status_code == 200, response.text
            model.wamids[tenant].add(wamid)
            model.numbers[tenant].add(customer)  # the customer became a contact of this tenant only
            listed = self.http.get(
                "/api/v1/conversations", headers=self.auth(tenant), params={"limit": 200}
            ).json()["data"]["items"]
            model.records[tenant]["conversations"] |= {item["id"] for item in listed}

        # --- trying another tenant's records -------------------------------------------------------------

        @rule(
            data=st.data(),
            asker=st.integers(0, 2),
            owner=st.integers(0, 2),
            shared=st.booleans(),
        )
        def use_foreign_id(self, data: st.DataObject, asker: int, owner: int, shared: bool) -> None:
            # Drawn before looking at the records: the draws must not depend on what earlier examples made.
            pick = data.draw(st.integers(0, 10_000), label="which record")
            method, path = data.draw(st.sampled_from(world.operations), label="operation")
            foreign = sorted(set().union(*model.records[owner].values()))
            if asker == owner or not foreign:
                return
            record_id = foreign[pick % len(foreign)]
            url = PATH_PARAMETER.sub(record_id, path)
            body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
            response = self.http.request(method, url, headers=self.auth(asker, shared=shared), json=body)
            assert response.status_code < 500, (method, url, response.text)
            assert not response.is_success, f"{method} {url} of another tenant's record: {response.text}"
            if method in ("GET", "DELETE") and path.count("{") == 1:
                # 422: a delete that takes a body checks the body first; nothing was looked up.
                allowed = (404, 405) if method == "GET" else (404, 405, 422)
                assert response.status_code in allowed, (method, url, response.status_code, response.text)

        @rule(
            asker=st.integers(0, 2),
            other=st.integers(0, 2),
            form=st.sampled_from(["id", "slug", "garbage", "empty", "uuid"]),
        )
        def forge_tenant_header(self, asker: int, other: int, form: str) -> None:
            target = world.members[other]
            value = {
                "id": str(target.tenant_id),
                "slug": target.tenant_slug,
                "garbage": "../../etc;-- OR 1=1",
                "empty": "",
                "uuid": str(uuid4()),
            }[form]
            headers = {"Authorization": f"Bearer {world.tokens[world.members[asker].username]}"}
            headers["X-Tenant-Id"] = value
            response = self.http.get("/api/v1/contacts", headers=headers, params={"limit": 200})
            assert response.status_code < 500, response.text
            if form in ("id", "slug") and other == asker:
                assert response.status_code == 200, response.text
                numbers = {item["wa_id"] for item in response.json()["data"]["items"]}
                assert numbers == model.numbers[asker]
            elif form == "empty" and response.status_code == 200:
                numbers = {item["wa_id"] for item in response.json()["data"]["items"]}
                assert numbers == model.numbers[asker]  # no header: the user's own tenant
            else:
                assert response.status_code in (400, 403, 404), (form, response.status_code, response.text)

        # --- what each tenant sees -----------------------------------------------------------------------

        @invariant()
        def lists_hold_exactly_the_tenants_records(self) -> None:
            for tenant in range(len(world.members)):
                for kind in KINDS:
                    response = self.http.get(
                        f"/api/v1/{kind}", headers=self.auth(tenant), params={"limit": 200}
                    )
                    assert response.status_code == 200, response.text
                    data = response.json()["data"]
                    items = data["items"] if isinstance(data, dict) else data
                    ids = {item["id"] for item in items}
                    expected = len(model.records[tenant][kind])
                    if kind == "contacts":
                        assert {item["wa_id"] for item in items} == model.numbers[tenant], tenant
                        assert model.records[tenant][kind] <= ids, tenant
                        expected = len(model.numbers[tenant])
                    else:
                        assert ids == model.records[tenant][kind], (tenant, kind)
                    if isinstance(data, dict) and "total" in data:
                        assert data["total"] == expected, (tenant, kind)

    return TenantIsolation


def test_nothing_of_one_tenant_is_read_changed_counted_or_announced_in_another(world: World) -> None:
    model = Model()
    for n in range(len(world.members)):
        model.records[n] = {kind: set() for kind in KINDS}
        model.wamids[n] = set()
        model.numbers[n] = set()
    machine = isolation_machine(world, model)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=4,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )

    # The streams, opened before anything was created, carried no other tenant's ids or messages.
    all_ids = {n: set().union(*model.records[n].values(), model.wamids[n]) for n in model.records}
    for n, stream in enumerate(world.streams):
        frames = json.dumps(list(stream.events))
        for other, ids in all_ids.items():
            if other == n:
                continue
            leaked = {record_id for record_id in ids if record_id in frames}
            assert not leaked, f"tenant {n}'s socket announced tenant {other}'s {leaked}"
        assert all(
            event.get("tenant_id") in (None, str(world.members[n].tenant_id)) for event in stream.events
        ), stream.events
