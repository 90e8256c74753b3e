"""Tenant isolation as a Hypothesis state machine, over real HTTP against the live app and the Cloud API
simulator as "Meta".

Three tenants, each with a channel on its own phone number and WABA at the simulator; an owner and an admin
API key in each, and one user who is an admin of the first two (and so switches with `X-Tenant-Id`). One
rule makes a record of some kind in a random tenant, through the API and the simulator: contacts, static and
dynamic audiences, API keys, customers' texts and documents (conversations, messages, stored media, webhook
log entries), replies, draft campaigns of the tenant's contacts, event webhook endpoints (to a receiver of
the tenant's own), templates (reviewed and approved by the simulator), draft flows, QR codes, groups and
contact imports. The other rules use those REAL ids from another tenant:

- in paths: every operation of `/docs/openapi.json` with a path parameter (each parameter is mapped to the
  kind of record it names; a new one fails the test until it is mapped), with a body that would do, as the
  other tenant's owner, its API key or the shared member switched to it: 404 (or the role refusal that an id
  existing nowhere gets too), answered exactly as for an id that exists nowhere, and the owner's record
  unchanged;
- in bodies and queries: a campaign's recipients (contact_ids, audience_ids) and flow, audience members,
  the channel_id of sends, QR codes, templates, flows, groups, campaigns and syncs, a reply's context, a
  group send, list filters (contact_id, group_id, wa_id, q, search, name, tag), and a channel claiming
  another tenant's phone number (refused) or WABA (Meta's reviews of the other tenant's templates must not
  reach the claimant): refused, or ignored without taking in or revealing anything of the other tenant,
  whose contacts and audiences stay as they were;
- in `X-Tenant-Id` and `?tenant=`: a tenant the caller is no member of is refused (403), by id or slug, and
  so is garbage, for lists and for that tenant's real records alike.

After every step the lists of the kinds it touched hold, in every tenant, exactly that tenant's records
(and totals count them); after every example all lists do, contacts also by number and in the CSV export.
No answer to a tenant carries another tenant's ids, numbers, wamids or texts. At the end, each tenant's
`/ws` streams (its owner's, and the shared member's for the first two) have carried the events of what
happened in it (incoming and outgoing messages, their statuses, template reviews, import progress; an
incoming message is awaited as soon as it is sent, so a dead socket fails at once) and nothing of another
tenant; and each tenant's event webhook receiver got its own incoming messages and nothing else.

The app's state outlives an example, so Hypothesis neither shrinks nor replays: the first failure is
reported as it happened, with the steps that led to it.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from websockets.exceptions import InvalidStatus

from pywhatsapp.adapters.persistence.database import create_engine, create_session_factory
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from pywhatsapp.domain.tenancy.membership import Role
from tests.integration.conftest import PASSWORD, Member, add_membership, add_tenant_with_user, make_settings
from tests.integration.test_event_webhooks import Receiver
from tests.support.flows import FLOW_JSON
from tests.support.live_server import LiveServer
from tests.support.realtime import EventStream, of_type
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres

APP_SECRET = "isolation-simulator-secret-0123456789"
TENANTS = 3
EXAMPLES, STEPS = 12, 50
PATH_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")

# The kind of record each path parameter of the API names. A parameter missing here fails the test: a new
# operation on a new kind of record must be given records to be probed with.
PARAMETER_KINDS = {
    "contact_id": "contacts",
    "audience_id": "audiences",
    "key_id": "api-keys",
    "conversation_id": "conversations",
    "message_id": "messages",
    "entry_id": "webhook-log",
    "campaign_id": "campaigns",
    "endpoint_id": "event-webhooks",
    "template_id": "templates",
    "flow_id": "flows",
    "code": "qr-codes",
    "group_id": "groups",
    "import_id": "imports",
    "channel_id": "channels",
    "delivery_id": "deliveries",
}
PARENTS = {"deliveries": "event-webhooks"}
"""A kind whose records live under a record of another kind: their paths name both."""
LISTS = {
    "contacts": "/api/v1/contacts",
    "audiences": "/api/v1/audiences",
    "api-keys": "/api/v1/api-keys",
    "conversations": "/api/v1/conversations",
    "messages": "/api/v1/messages",
    "webhook-log": "/api/v1/webhooks",
    "campaigns": "/api/v1/campaigns",
    "event-webhooks": "/api/v1/event-webhooks",
    "templates": "/api/v1/templates",
    "flows": "/api/v1/flows",
    "qr-codes": "/api/v1/qr-codes",
    "groups": "/api/v1/groups",
    "imports": "/api/v1/contacts/imports",
    "channels": "/api/v1/channels",
}
KINDS = tuple(LISTS)
RECORD_KINDS = tuple(sorted({*KINDS, *PARAMETER_KINDS.values()}))
KEY_FIELD = {"qr-codes": "code"}
"""The field of a list item that its operations' paths take (the id, unless named here)."""
DETAILS = {
    "contacts": "/api/v1/contacts/{}",
    "audiences": "/api/v1/audiences/{}",
    "conversations": "/api/v1/conversations/{}",
    "campaigns": "/api/v1/campaigns/{}",
    "templates": "/api/v1/templates/{}",
    "flows": "/api/v1/flows/{}",
    "qr-codes": "/api/v1/qr-codes/{}",
    "groups": "/api/v1/groups/{}",
    "imports": "/api/v1/contacts/imports/{}",
}
"""Where the owner reads one record to see that a probe changed nothing (the others: in their list)."""
VOLATILE = {
    "conversations": {"contact", "last_message", "last_message_at", "unread_count", "window_open"},
    "messages": {"status", "updated_at", "media_state", "media_error", "error_code", "error_title"},
    "templates": {
        "status",
        "updated_at",
        "quality_score",
        "rejected_reason",
        "meta_template_id",
        "synced_at",
    },
    "groups": {"state", "updated_at", "group_id", "invite_link", "suspended", "error"},
    "event-webhooks": {"is_active", "disabled_reason", "consecutive_failures"},
    "qr-codes": {"image_stored", "image_url", "updated_at"},
    "api-keys": {"last_used_at"},
    "deliveries": {
        "state",
        "attempts",
        "last_status_code",
        "last_error",
        "last_latency_ms",
        "next_attempt_at",
        "delivered_at",
        "attempt_log",
    },
}
"""Fields that status webhooks, reviews and deliveries change in the background, between two reads."""
ASKERS = ("owner", "key", "shared")
ROLE_REFUSALS = {"key": (403,), "shared": (403,), "owner": ()}
"""An API key or an admin may be refused an owner's operation: the same answer as for an id of nowhere."""
MAKERS = (
    "contact",
    "audience",
    "api_key",
    "customer_writes",
    "customer_writes",
    "customer_writes",
    "business_replies",
    "business_replies",
    "campaign",
    "event_webhook",
    "template",
    "flow",
    "qr_code",
    "group",
    "contact_import",
)
"""What the `make` rule makes (messages more often: they make conversations, webhook log entries, media,
events and deliveries)."""
ATTACKS = (
    "campaign_contacts",
    "campaign_audiences",
    "campaign_flow",
    "campaign_more_recipients",
    "audience_with_members",
    "audience_add_members",
    "audience_remove_members",
    "send_on_channel",
    "reply_to_their_message",
    "send_to_group",
    "create_on_channel",
    "sync",
    "filters",
    "claim_number",
    "claim_waba",
)

# Everything that names a record or a person: what one tenant's answers must never carry of another's.
TOKEN = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|wamid\.[A-Za-z0-9+/=_-]+"
    r"|tok[0-9a-f]{12}"
    r"|\d{9,}"
)
USED_NUMBERS: set[str] = set()


def digits(length: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(length - 1)) + "7"


def marker() -> str:
    """A word no other record has: texts and names carry one, so that they can be searched for."""
    return f"tok{uuid4().hex[:12]}"


def customer_number() -> str:
    while True:
        number = f"49151{digits(8)}"
        if number not in USED_NUMBERS:
            USED_NUMBERS.add(number)
            return number


def tokens_in(text: str) -> set[str]:
    return set(TOKEN.findall(text))


@dataclass
class Channel:
    id: str
    phone_number_id: str
    waba_id: str


@dataclass
class World:
    url: str
    simulator: SimulatorServer
    members: list[Member]
    shared: Member  # an admin of tenants 0 and 1
    tokens: dict[str, str]
    api_keys: list[tuple[str, str]]  # (id, secret) of an admin key per tenant
    channels: list[Channel]
    operations: list[tuple[str, str, str]]  # (method, path, kind of its last parameter) of every operation
    # with a path parameter
    streams: list[list[EventStream]]  # per tenant: its owner's, and the shared member's in tenants 0 and 1
    receivers: list[Receiver]
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=timeout)


@dataclass
class Books:
    """What one tenant holds, as the model knows it."""

    records: dict[str, set[str]] = field(default_factory=lambda: {kind: set() for kind in RECORD_KINDS})
    parents: dict[str, str] = field(default_factory=dict)
    """The record each record of a kind in PARENTS lives under (a delivery's endpoint)."""
    numbers: set[str] = field(default_factory=set)
    """The WhatsApp ids of its contacts: made through the API or an import, or by a customer writing in."""
    contacts: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    static_audiences: dict[str, set[str]] = field(default_factory=dict)
    customers: list[str] = field(default_factory=list)
    """Numbers that wrote in: their window is open for replies."""
    inbound: list[tuple[str, str]] = field(default_factory=list)  # (wamid, its text's marker)
    draft_campaigns: list[str] = field(default_factory=list)
    names: dict[str, list[str]] = field(default_factory=lambda: {"templates": [], "flows": []})
    tokens: set[str] = field(default_factory=set)
    literals: set[str] = field(default_factory=set)
    """Values TOKEN does not pick out (QR codes), searched for as they are."""
    named: set[str] = field(default_factory=set)
    """Another tenant's values that this tenant wrote into a record of its own (a reply's context wamid):
    what it may be shown again."""
    events: list[tuple[str, str, str]] = field(default_factory=list)
    """(type, data field, value) of the events its streams must carry."""
    deliveries: list[str] = field(default_factory=list)
    """Wamids its event webhook receiver must get."""
    endpoints: int = 0

    def add(self, kind: str, record_id: str) -> None:
        self.records[kind].add(record_id)
        self.tokens.add(record_id)


def leaks(books: list[Books], tenant: int, text: str, asked: str = "") -> dict[int, set[str]]:
    """What `text`, shown to `tenant`, carries of other tenants that the request (`asked`) did not name."""
    found = tokens_in(text) - tokens_in(asked) - books[tenant].named
    leaked = {}
    for other, theirs in enumerate(books):
        if other != tenant:
            names = (found & theirs.tokens) | {
                literal for literal in theirs.literals if literal in text and literal not in asked
            }
            if names:
                leaked[other] = names
    return leaked


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(
        SimulatorSettings(app_secret=APP_SECRET, status_delays=(0.01, 0.02, 0.03), template_review_delay=0.05)
    ) as sim:
        yield sim


@pytest.fixture(scope="module")
def app(
    database_url: str, simulator: SimulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    settings = make_settings(
        database_url,
        GRAPH_API_URL=simulator.url,
        PYWHATSAPP_DATA_DIR=str(tmp_path_factory.mktemp("isolation-data")),
        MEDIA_DOWNLOADS_IN_SERVE="true",
        MEDIA_RETRY_SECONDS="0.2",
    )
    with LiveServer(settings) as server:
        simulator.control("POST", "config", json={"webhook_url": f"{server.url}/webhooks"}).raise_for_status()
        yield server


def _login(client: httpx.Client, username: str) -> str:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["data"]["access_token"]
    return token


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    operations = []
    for path, item in spec["paths"].items():
        parameters = PATH_PARAMETER.findall(path)
        if not path.startswith("/api/") or not parameters:
            continue
        kinds = [PARAMETER_KINDS.get(parameter) for parameter in parameters]
        assert None not in kinds, f"map {path}'s parameters {parameters} to kinds of records"
        assert kinds[:-1] == [PARENTS.get(str(kinds[-1]))][: len(kinds) - 1], f"{path}: a kind's parent?"
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                operations.append((method.upper(), path, str(kinds[-1])))
    return sorted(operations)


def _path(path: str, keys: list[str]) -> str:
    """The path with its parameters (parent first) replaced by `keys`."""
    remaining = iter(keys)
    return PATH_PARAMETER.sub(lambda _: next(remaining), path)


@pytest.fixture
def world(app: LiveServer, simulator: SimulatorServer, database_url: str) -> Iterator[World]:
    async def seed() -> tuple[list[Member], Member]:
        engine = create_engine(database_url, pool_size=1, max_overflow=0)
        try:
            factory = SqlAlchemyUnitOfWorkFactory(create_session_factory(engine))
            members = [
                await add_tenant_with_user(factory, f"iso{n}-{uuid4().hex[:6]}") for n in range(TENANTS)
            ]
            shared = await add_tenant_with_user(factory, f"isoshared-{uuid4().hex[:6]}")
            for tenant in members[:2]:
                await add_membership(factory, shared, tenant.tenant_id, Role.ADMIN)
            return members, shared
        finally:
            await engine.dispose()

    simulator.settle()
    simulator.reset()
    members, shared = asyncio.run(seed())
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    receivers = [Receiver() for _ in range(TENANTS)]
    for receiver in receivers:
        receiver.start()
    with httpx.Client(base_url=app.url, timeout=30) as client:
        tokens = {m.username: _login(client, m.username) for m in [*members, shared]}
        channels, api_keys = [], []
        for member in members:
            auth = {"Authorization": f"Bearer {tokens[member.username]}"}
            phone_number_id, waba_id = digits(15), digits(18)
            response = client.post(
                "/api/v1/channels",
                headers=auth,
                json={
                    "phone_number_id": phone_number_id,
                    "access_token": f"EAAG-isolation-{uuid4().hex}",
                    "app_secret": APP_SECRET,
                    "waba_id": waba_id,
                },
            )
            assert response.status_code == 201, response.text
            channels.append(Channel(response.json()["data"]["id"], phone_number_id, waba_id))
            key = client.post("/api/v1/api-keys", headers=auth, json={"name": "isolation", "role": "admin"})
            assert key.status_code == 201, key.text
            api_keys.append((key.json()["data"]["id"], key.json()["data"]["key"]))
        operations = _operations(client.get("/docs/openapi.json").json())

    def stream(member: Member, tenant: Member | None = None) -> EventStream:
        headers = {"X-Tenant-Id": str(tenant.tenant_id)} if tenant else None
        opened: EventStream = asyncio.run_coroutine_threadsafe(
            EventStream.open(app.url, token=tokens[member.username], headers=headers), loop
        ).result(timeout=30)
        return opened

    streams = [[stream(m), *([stream(shared, m)] if n < 2 else [])] for n, m in enumerate(members)]

    async def refused() -> None:
        with pytest.raises(InvalidStatus) as refusal:
            await EventStream.open(
                app.url, token=tokens[shared.username], headers={"X-Tenant-Id": str(members[2].tenant_id)}
            )
        assert refusal.value.response.status_code == 403

    # The shared member's socket in a tenant it is no member of is refused.
    asyncio.run_coroutine_threadsafe(refused(), loop).result(timeout=30)
    world = World(
        app.url, simulator, members, shared, tokens, api_keys, channels, operations, streams, receivers, loop
    )
    yield world
    for opened in [s for tenant_streams in streams for s in tenant_streams]:
        world.run(opened.close(), timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    for receiver in receivers:
        receiver.stop()
    simulator.settle(timeout=30)


def _without(record: dict[str, Any] | None, volatile: set[str]) -> dict[str, Any] | None:
    return None if record is None else {k: v for k, v in record.items() if k not in volatile}


def _error(response: httpx.Response, record_id: str) -> tuple[int, str]:
    """An error answer as a client sees it, with the id it asked about taken out."""
    try:
        message = str(response.json().get("message", ""))
    except ValueError:
        message = response.text
    return response.status_code, message.replace(record_id, "<id>")


@dataclass
class Journal:
    """The steps run, and the first failure. The app's state outlives an example, so Hypothesis' replay of a
    failing example (to report it) does not fail the same way: the first failure is what to report."""

    steps: list[str] = field(default_factory=list)
    failure: BaseException | None = None

    def kept(self, function: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(function)
        def step(machine: Any, **arguments: Any) -> None:
            self.steps.append(f"{function.__name__}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})")
            try:
                function(machine, **arguments)
            except BaseException as error:
                if self.failure is None:
                    error.add_note("Steps, the last one failing:\n  " + "\n  ".join(self.steps[-40:]))
                    self.failure = error
                raise

        return step


def isolation_machine(world: World, books: list[Books], journal: Journal) -> type[RuleBasedStateMachine]:
    class TenantIsolation(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.http = httpx.Client(base_url=world.url, timeout=30)
            self.touched: set[str] = set()

        def teardown(self) -> None:
            self.check_every_list()

        @journal.kept
        def check_every_list(self) -> None:
            try:
                self.touched = set(KINDS)
                self.lists_hold_exactly_the_tenants_records()
                for tenant in range(TENANTS):
                    self.contacts_export_holds_exactly_the_tenants_numbers(tenant)
                    self.record_deliveries(tenant)
            finally:
                self.http.close()

        def record_deliveries(self, tenant: int) -> None:
            """The deliveries to the tenant's endpoints so far: records of their own, to probe with."""
            mine = books[tenant]
            for endpoint in sorted(mine.records["event-webhooks"]):
                listed = self.ok(tenant, "GET", f"/api/v1/event-webhooks/{endpoint}/deliveries")["items"]
                for delivery in listed:
                    assert delivery["payload"].get("tenant_id") == str(world.members[tenant].tenant_id)
                    mine.add("deliveries", delivery["id"])
                    mine.parents[delivery["id"]] = endpoint

        def keys(self, tenant: int, kind: str, key: str) -> list[str]:
            """What a path naming this record takes: its parent's key first, if it has one."""
            return [books[tenant].parents[key], key] if kind in PARENTS else [key]

        # --- who asks ------------------------------------------------------------------------------------

        def auth(self, tenant: int, how: str = "owner") -> dict[str, str]:
            """The tenant's owner, its API key, or the shared member switched to it with X-Tenant-Id."""
            if how == "shared" and tenant < 2:
                return {
                    "Authorization": f"Bearer {world.tokens[world.shared.username]}",
                    "X-Tenant-Id": str(world.members[tenant].tenant_id),
                }
            if how == "key":
                return {"X-API-Key": world.api_keys[tenant][1]}
            return {"Authorization": f"Bearer {world.tokens[world.members[tenant].username]}"}

        def call(
            self,
            tenant: int,
            method: str,
            url: str,
            *,
            how: str = "owner",
            headers: dict[str, str] | None = None,
            **kwargs: Any,
        ) -> httpx.Response:
            """A request in `tenant`'s name; its answer must carry nothing of another tenant that the request
            did not name itself."""
            response = self.http.request(method, url, headers=headers or self.auth(tenant, how), **kwargs)
            assert response.status_code < 500, (method, url, response.status_code, response.text)
            asked = url + json.dumps(kwargs.get("json")) + json.dumps(kwargs.get("params"), default=str)
            leaked = leaks(books, tenant, response.text, asked)
            assert not leaked, f"{method} {url} in tenant {tenant} answered {leaked}: {response.text[:3000]}"
            return response

        def ok(self, tenant: int, method: str, url: str, status: int = 200, **kwargs: Any) -> Any:
            response = self.call(tenant, method, url, **kwargs)
            assert response.status_code == status, (method, url, response.text)
            return response.json()["data"]

        def list_all(self, tenant: int, kind: str, **params: Any) -> tuple[list[dict[str, Any]], int | None]:
            """Every item of a list, page after page (by cursor or offset), and the total it announced."""
            items: list[dict[str, Any]] = []
            query: dict[str, Any] = {} if kind == "event-webhooks" else {"limit": 200, **params}
            while True:
                data = self.ok(tenant, "GET", LISTS[kind], params=query)
                if isinstance(data, list):
                    return data, None
                items += data["items"]
                total = data.get("total")
                if data.get("next_cursor"):
                    query["cursor"] = data["next_cursor"]
                elif "next_cursor" not in data and total is not None and len(items) < total and data["items"]:
                    query["offset"] = len(items)
                else:
                    return items, total

        def view(self, tenant: int, kind: str, key: str) -> dict[str, Any] | None:
            """The owner's own view of one record (None once it is gone)."""
            if kind == "deliveries":
                endpoint = books[tenant].parents[key]
                listed = self.ok(tenant, "GET", f"/api/v1/event-webhooks/{endpoint}/deliveries")["items"]
                found = [item for item in listed if item["id"] == key]
                return _without(found[0], VOLATILE[kind]) if found else None
            if kind in DETAILS:
                response = self.call(tenant, "GET", DETAILS[kind].format(key))
                if response.status_code == 404:
                    return None
                assert response.status_code == 200, response.text
                record: dict[str, Any] = response.json()["data"]
                return _without(record, VOLATILE.get(kind, set()))
            items, _ = self.list_all(tenant, kind)
            found = [item for item in items if str(item[KEY_FIELD.get(kind, "id")]) == key]
            return _without(found[0], VOLATILE.get(kind, set())) if found else None

        # --- making records ------------------------------------------------------------------------------

        @rule(what=st.sampled_from(MAKERS), tenant=st.integers(0, TENANTS - 1), variant=st.integers(0, 11))
        @journal.kept
        def make(self, what: str, tenant: int, variant: int) -> None:
            getattr(self, f"make_{what}")(tenant, variant)

        def make_contact(self, tenant: int, variant: int) -> None:
            number, tag, name = customer_number(), marker(), marker()
            created = self.ok(
                tenant,
                "POST",
                "/api/v1/contacts",
                201,
                how=ASKERS[variant % 3],
                json={"phone": f"+{number}", "name": f"Someone {name}", "tags": [tag, "vip"]},
            )
            mine = books[tenant]
            mine.add("contacts", created["id"])
            mine.contacts.append(created["id"])
            mine.numbers.add(created["wa_id"])
            mine.tags.append(tag)
            mine.tokens |= {number, tag, name}
            self.touched.add("contacts")

        def make_audience(self, tenant: int, variant: int) -> None:
            mine, name, count = books[tenant], marker(), variant % 4
            body: dict[str, Any] = {"name": f"Audience {name}"}
            members = mine.contacts[-count:] if count else []
            if variant % 2:
                body |= {"kind": "static", "contact_ids": members}
            else:
                body |= {"tags": [mine.tags[-1] if mine.tags else "vip"]}
            created = self.ok(tenant, "POST", "/api/v1/audiences", 201, json=body)
            mine.add("audiences", created["id"])
            mine.tokens.add(name)
            if variant % 2:
                assert created["member_count"] == len(set(members)), created
                mine.static_audiences[created["id"]] = set(members)
            self.touched.add("audiences")

        def make_api_key(self, tenant: int, variant: int) -> None:
            name = marker()
            created = self.ok(tenant, "POST", "/api/v1/api-keys", 201, json={"name": f"key {name}"})
            books[tenant].add("api-keys", created["id"])
            books[tenant].tokens.add(name)
            self.touched.add("api-keys")

        def make_customer_writes(self, tenant: int, variant: int) -> None:
            """A customer writes to the tenant's number at "Meta", which sends the app a signed webhook."""
            mine, channel = books[tenant], world.channels[tenant]
            document = variant % 4 == 0
            number = mine.customers[-1] if mine.customers and variant % 3 == 0 else customer_number()
            text = marker()
            body: dict[str, Any] = {"phone_number_id": channel.phone_number_id, "name": f"Customer {text}"}
            if document:
                pdf = b"%PDF-1.4\n" + text.encode() + b"\n%%EOF\n"
                body |= {
                    "type": "document",
                    "document": {
                        "mime_type": "application/pdf",
                        "filename": f"{text}.pdf",
                        "data_base64": base64.b64encode(pdf).decode(),
                    },
                }
            else:
                body |= {"type": "text", "text": {"body": f"hello {text}"}}
            answer = world.simulator.control("POST", f"customers/{number}/messages", json=body)
            assert answer.status_code == 200 and answer.json()["status_code"] == 200, answer.text
            wamid = answer.json()["wamid"]
            mine.tokens |= {wamid, number, text}
            mine.numbers.add(number)  # the customer became a contact of this tenant only
            if number not in mine.customers:
                mine.customers.append(number)
            mine.inbound.append((wamid, text))
            # The tenant's own sockets hear of it at once: a dead socket fails here, not at the end.
            for stream in world.streams[tenant]:
                (event,) = world.run(stream.wait_for(of_type("message_incoming", wamid=wamid)))
            data = event["data"]
            mine.add("messages", data["id"])
            mine.add("conversations", data["conversation_id"])
            if data["contact_id"] not in mine.records["contacts"]:
                mine.add("contacts", data["contact_id"])
                mine.contacts.append(data["contact_id"])
            if mine.endpoints:
                mine.deliveries.append(wamid)
            if document:
                self._media_is_stored(tenant, data["id"], text)
            self.touched |= {"contacts", "messages", "conversations", "webhook-log"}

        def _media_is_stored(self, tenant: int, message_id: str, text: str) -> None:
            deadline = time.monotonic() + 30
            while True:
                response = self.call(tenant, "GET", f"/api/v1/messages/{message_id}/media")
                if response.status_code == 200:
                    assert text.encode() in response.content
                    return
                assert response.status_code == 404 and time.monotonic() < deadline, response.text
                time.sleep(0.05)

        def make_business_replies(self, tenant: int, variant: int) -> None:
            mine = books[tenant]
            if not mine.customers:
                self.make_customer_writes(tenant, variant)
                return
            text = marker()
            body: dict[str, Any] = {"to": mine.customers[-1], "type": "text", "text": {"body": f"Hi {text}"}}
            if variant % 2 and mine.inbound:
                body["context"] = {"message_id": mine.inbound[-1][0]}
            response = self.call(tenant, "POST", "/api/v1/messages", how=ASKERS[variant % 3], json=body)
            assert response.status_code in (200, 201, 202), response.text
            sent = response.json()["data"]
            mine.add("messages", sent["id"])
            mine.tokens |= {sent["wamid"], text}
            mine.events += [
                ("message_outgoing", "wamid", sent["wamid"]),
                ("message_status", "wamid", sent["wamid"]),
            ]
            self.touched |= {"messages", "conversations", "webhook-log"}

        def make_campaign(self, tenant: int, variant: int) -> None:
            mine, name, count = books[tenant], marker(), variant % 5
            contacts = mine.contacts[-count:] if count else []
            body: dict[str, Any] = {
                "name": f"Campaign {name}",
                "template_name": "spring_sale",
                "language": "en_US",
            }
            if contacts:
                body["recipients"] = {"contact_ids": contacts}
            created = self.ok(tenant, "POST", "/api/v1/campaigns", 201, json=body)
            assert created["status"] == "draft", created
            if contacts:
                assert created["recipients_report"]["added"] == len(set(contacts)), created
            mine.add("campaigns", created["id"])
            mine.draft_campaigns.append(created["id"])
            mine.tokens.add(name)
            self.touched.add("campaigns")

        def make_event_webhook(self, tenant: int, variant: int) -> None:
            mine = books[tenant]
            if mine.endpoints >= 2:
                self.make_customer_writes(tenant, variant)
                return
            created = self.ok(
                tenant,
                "POST",
                "/api/v1/event-webhooks",
                201,
                json={"url": f"{world.receivers[tenant].url}/hook", "events": ["message_incoming"]},
            )
            mine.add("event-webhooks", created["id"])
            mine.endpoints += 1
            self.touched.add("event-webhooks")

        def make_template(self, tenant: int, variant: int) -> None:
            mine, name = books[tenant], marker()
            created = self.ok(
                tenant,
                "POST",
                "/api/v1/templates",
                201,
                json={
                    "name": f"iso_{name}",
                    "language": "en_US",
                    "category": "UTILITY",
                    "components": [{"type": "BODY", "text": f"Your order {name} is ready"}],
                },
            )
            mine.add("templates", created["id"])
            mine.names["templates"].append(f"iso_{name}")
            mine.tokens.add(name)
            # Meta reviews it and announces the approval by a webhook about the tenant's WABA.
            mine.events.append(("template_status", "id", created["id"]))
            self.touched |= {"templates", "webhook-log"}

        def make_flow(self, tenant: int, variant: int) -> None:
            mine, name = books[tenant], marker()
            created = self.ok(
                tenant, "POST", "/api/v1/flows", 201, json={"name": f"Flow {name}", "categories": ["OTHER"]}
            )
            assert created["status"] == "DRAFT", created
            mine.add("flows", created["id"])
            mine.names["flows"].append(f"Flow {name}")
            mine.tokens |= {name, created["meta_flow_id"]}
            self.touched.add("flows")

        def make_qr_code(self, tenant: int, variant: int) -> None:
            mine, text = books[tenant], marker()
            created = self.ok(
                tenant, "POST", "/api/v1/qr-codes", 201, json={"prefilled_message": f"Order {text}"}
            )
            mine.records["qr-codes"].add(created["code"])
            mine.literals.add(created["code"])
            mine.tokens |= {created["id"], text}
            self.touched.add("qr-codes")

        def make_group(self, tenant: int, variant: int) -> None:
            mine, subject = books[tenant], marker()
            created = self.ok(tenant, "POST", "/api/v1/groups", 201, json={"subject": f"Club {subject}"})
            mine.add("groups", created["id"])
            mine.tokens.add(subject)
            self.touched |= {"groups", "webhook-log"}

        def make_contact_import(self, tenant: int, variant: int) -> None:
            mine = books[tenant]
            people = [(customer_number(), marker()) for _ in range(2)]
            text = "Mobile,Who\n" + "".join(f"+{number},Person {name}\n" for number, name in people)
            response = self.call(
                tenant,
                "POST",
                "/api/v1/contacts/imports",
                files={"file": ("people.csv", text.encode(), "text/csv")},
                data={"mapping": json.dumps({"phone": "Mobile", "name": "Who"})},
            )
            assert response.status_code == 202, response.text
            job = response.json()["data"]
            mine.add("imports", job["id"])
            deadline = time.monotonic() + 30
            while job["status"] not in ("completed", "failed"):
                assert time.monotonic() < deadline, job
                time.sleep(0.05)
                job = self.ok(tenant, "GET", f"/api/v1/contacts/imports/{job['id']}")
            assert (job["status"], job["created"]) == ("completed", 2), job
            for number, name in people:
                mine.numbers.add(number)
                mine.tokens |= {number, name}
            contacts, _ = self.list_all(tenant, "contacts")
            for contact in contacts:
                if contact["wa_id"] in {number for number, _ in people}:
                    mine.add("contacts", contact["id"])
                    mine.contacts.append(contact["id"])
            mine.events.append(("contact_import_progress", "id", job["id"]))
            self.touched |= {"contacts", "imports"}

        # --- another tenant's ids in paths -------------------------------------------------------------

        @rule(
            asker=st.integers(0, TENANTS - 1),
            offset=st.integers(1, TENANTS - 1),
            how=st.sampled_from(ASKERS),
            picks=st.lists(st.integers(0, 10_000), min_size=3, max_size=3),
        )
        @journal.kept
        def use_foreign_id(self, asker: int, offset: int, how: str, picks: list[int]) -> None:
            """An operation on a record of another tenant. Draws never depend on the records (the app's state
            outlives an example): what exists is picked from by index."""
            owner = (asker + offset) % TENANTS
            if how == "shared" and asker >= 2:
                how = "owner"
            usable = [op for op in world.operations if books[owner].records[op[2]]]
            method, path, kind = usable[picks[0] % len(usable)]
            foreign = sorted(books[owner].records[kind])
            key = foreign[picks[1] % len(foreign)]
            keys = self.keys(owner, kind, key)
            own_parents = sorted(books[asker].records[PARENTS.get(kind, kind)])
            if len(keys) > 1 and own_parents and picks[2] % 2:
                keys[0] = own_parents[picks[2] % len(own_parents)]  # their record under the asker's own
            nowhere = self.nowhere(kind)
            before = self.view(owner, kind, key)
            response = self.probe(asker, how, method, path, keys)
            twin = self.probe(asker, how, method, path, [*keys[:-1], nowhere])
            after = self.view(owner, kind, key)
            url = _path(path, keys)
            assert not response.is_success, f"{method} {url} of another tenant's record: {response.text}"
            assert response.status_code in (404, *ROLE_REFUSALS[how]), (method, url, response.text)
            # Answered as if the record did not exist: nothing tells that it does, in another tenant.
            assert _error(response, key) == _error(twin, nowhere), (method, path, response.text, twin.text)
            assert before == after, f"{method} {url} from tenant {asker} changed tenant {owner}'s record"
            self.touched.add(PARENTS.get(kind, kind))

        @staticmethod
        def nowhere(kind: str) -> str:
            if kind == "qr-codes":
                return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(14))
            return str(uuid4())

        def probe(self, asker: int, how: str, method: str, path: str, keys: list[str]) -> httpx.Response:
            """The operation on the record `keys` name, with a body that would do for one of the asker's."""
            url = _path(path, keys)
            mine = books[asker]
            own_contact = mine.contacts[-1] if mine.contacts else str(uuid4())
            everyones_contacts = sorted(books[n].contacts[-1] for n in range(TENANTS) if books[n].contacts)
            bodies: dict[tuple[str, str], Any] = {
                ("PATCH", "/api/v1/contacts/{contact_id}"): {"name": "Taken over", "tags": ["taken"]},
                ("PATCH", "/api/v1/audiences/{audience_id}"): {"name": "Taken over"},
                ("POST", "/api/v1/audiences/{audience_id}/members"): {"contact_ids": [own_contact]},
                ("DELETE", "/api/v1/audiences/{audience_id}/members"): {
                    "contact_ids": everyones_contacts or [own_contact]
                },
                ("PATCH", "/api/v1/groups/{group_id}/settings"): {"subject": "Taken over"},
                ("POST", "/api/v1/groups/{group_id}/join-requests/approve"): {"join_request_ids": ["1"]},
                ("POST", "/api/v1/groups/{group_id}/join-requests/reject"): {"join_request_ids": ["1"]},
                ("DELETE", "/api/v1/groups/{group_id}/participants"): {"wa_ids": ["4915100000000"]},
                ("PATCH", "/api/v1/qr-codes/{code}"): {"prefilled_message": "Taken over"},
                ("POST", "/api/v1/templates/{template_id}/preview"): {"components": []},
                ("PATCH", "/api/v1/flows/{flow_id}"): {"name": "Taken over"},
                ("PUT", "/api/v1/flows/{flow_id}/json"): FLOW_JSON,
                ("PUT", "/api/v1/flows/{flow_id}/routes"): {"WELCOME": {"next_screen": "SUCCESS"}},
                ("POST", "/api/v1/campaigns/{campaign_id}/recipients"): {"contact_ids": [own_contact]},
                ("PATCH", "/api/v1/channels/{channel_id}"): {"name": "Taken over"},
            }
            kwargs: dict[str, Any] = {}
            if (method, path) == ("POST", "/api/v1/campaigns/{campaign_id}/recipients/csv"):
                kwargs["files"] = {"file": ("r.csv", b"phone\n+4915100000001\n", "text/csv")}
            elif (method, path) in bodies:
                kwargs["json"] = bodies[(method, path)]
            return self.call(asker, method, url, how=how, **kwargs)

        # --- another tenant in X-Tenant-Id or ?tenant= ---------------------------------------------------

        @rule(
            asker=st.integers(0, TENANTS - 1),
            other=st.integers(0, TENANTS - 1),
            form=st.sampled_from(["id", "slug", "garbage", "empty", "uuid"]),
            how=st.sampled_from(ASKERS),
            where=st.sampled_from(["header", "query"]),
            picks=st.lists(st.integers(0, 10_000), min_size=2, max_size=2),
        )
        @journal.kept
        def forge_tenant(
            self, asker: int, other: int, form: str, how: str, where: str, picks: list[int]
        ) -> None:
            target = world.members[other]
            value = {
                "id": str(target.tenant_id),
                "slug": target.tenant_slug,
                "garbage": "../../etc;-- OR 1=1",
                "empty": "",
                "uuid": str(uuid4()),
            }[form]
            if how == "shared":  # a member of tenants 0 and 1 only
                headers = {"Authorization": f"Bearer {world.tokens[world.shared.username]}"}
                member_of = {0, 1}
            elif how == "key":
                headers = {"X-API-Key": world.api_keys[asker][1]}
                member_of = {asker}
            else:
                headers = {"Authorization": f"Bearer {world.tokens[world.members[asker].username]}"}
                member_of = {asker}
            params: dict[str, Any] = {"limit": 200}
            if where == "header":
                headers["X-Tenant-Id"] = value
            else:
                params["tenant"] = value
            acting = other if form in ("id", "slug") and other in member_of else None
            if form == "empty":
                acting = None if how == "shared" else asker  # no tenant named: the caller's own
            response = self.http.get("/api/v1/contacts", headers=headers, params=params)
            assert response.status_code < 500, response.text
            if acting is not None:
                assert response.status_code == 200, (how, form, response.text)
                numbers = {item["wa_id"] for item in response.json()["data"]["items"]}
                assert numbers == books[acting].numbers, (how, form, acting)
                return
            if form == "empty":  # the shared member's own tenant, which has nothing
                assert response.status_code == 200 and response.json()["data"]["items"] == [], response.text
                return
            assert response.status_code == 403, (how, form, response.status_code, response.text)
            assert not (tokens_in(response.text) - tokens_in(value)) & books[other].tokens, response.text
            if form not in ("id", "slug"):
                return
            # The named tenant's real records, through any operation: refused too, and left as they were.
            usable = [op for op in world.operations if books[other].records[op[2]]]
            method, path, kind = usable[picks[0] % len(usable)]
            foreign = sorted(books[other].records[kind])
            key = foreign[picks[1] % len(foreign)]
            before = self.view(other, kind, key)
            url = _path(path, self.keys(other, kind, key))
            body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
            answer = self.http.request(method, url, headers=headers, params=params, json=body)
            assert answer.status_code == 403, (method, url, answer.status_code, answer.text)
            assert self.view(other, kind, key) == before

        # --- another tenant's ids in bodies and queries --------------------------------------------------

        @rule(
            asker=st.integers(0, TENANTS - 1),
            offset=st.integers(1, TENANTS - 1),
            attack=st.sampled_from(ATTACKS),
            which=st.integers(0, 10_000),
        )
        @journal.kept
        def use_foreign_ids_in_bodies(self, asker: int, offset: int, attack: str, which: int) -> None:
            owner = (asker + offset) % TENANTS
            if attack == "reply_to_their_message" and not books[owner].inbound:
                self.make_customer_writes(owner, 1)  # a message of theirs to reply to, before the snapshot
            before = {kind: self.list_all(owner, kind)[0] for kind in ("contacts", "audiences")}
            members_before = {
                a: self.view(owner, "audiences", a) for a in sorted(books[owner].static_audiences)
            }
            getattr(self, f"attack_{attack}")(asker, owner, which)
            after = {kind: self.list_all(owner, kind)[0] for kind in ("contacts", "audiences")}
            assert before == after, f"{attack} from tenant {asker} changed tenant {owner}'s records"
            members_after = {
                a: self.view(owner, "audiences", a) for a in sorted(books[owner].static_audiences)
            }
            assert members_before == members_after, attack

        def new_campaign(self, asker: int, **body: Any) -> httpx.Response:
            name = marker()
            books[asker].tokens.add(name)
            return self.call(
                asker,
                "POST",
                "/api/v1/campaigns",
                json={
                    "name": f"Campaign {name}",
                    "template_name": "spring_sale",
                    "language": "en_US",
                    **body,
                },
            )

        def attack_campaign_contacts(self, asker: int, owner: int, which: int) -> None:
            own = books[asker].contacts[-1:]
            response = self.new_campaign(asker, recipients={"contact_ids": own + books[owner].contacts[-5:]})
            self.campaign_took_none_of_theirs(asker, owner, response, own)
            self.touched.add("campaigns")

        def attack_campaign_audiences(self, asker: int, owner: int, which: int) -> None:
            audiences = sorted(books[owner].records["audiences"])[:5] or [str(uuid4())]
            response = self.new_campaign(asker, recipients={"audience_ids": audiences})
            self.campaign_took_none_of_theirs(asker, owner, response, [])
            self.touched.add("campaigns")

        def campaign_took_none_of_theirs(
            self, asker: int, owner: int, response: httpx.Response, own_contacts: list[str]
        ) -> None:
            assert response.status_code in (201, 404, 422), response.text
            if response.status_code != 201:
                return
            created = response.json()["data"]
            books[asker].add("campaigns", created["id"])
            books[asker].draft_campaigns.append(created["id"])
            listed = self.recipients(asker, created["id"])
            assert {r["contact_id"] for r in listed} == set(own_contacts), listed
            assert not {r["wa_id"] for r in listed} & books[owner].numbers

        def recipients(self, tenant: int, campaign: str) -> list[dict[str, Any]]:
            data = self.ok(tenant, "GET", f"/api/v1/campaigns/{campaign}/recipients", params={"limit": 200})
            items: list[dict[str, Any]] = data["items"]
            return sorted(items, key=lambda r: str(r["id"]))

        def attack_campaign_flow(self, asker: int, owner: int, which: int) -> None:
            flows = sorted(books[owner].records["flows"]) or [str(uuid4())]
            flow = {"flow_id": flows[which % len(flows)], "cta": "Go"}
            response = self.call(
                asker,
                "POST",
                "/api/v1/campaigns",
                json={"name": "Book", "text": "Book now", "flow": flow},
            )
            assert response.status_code in (404, 409, 422), response.text

        def attack_campaign_more_recipients(self, asker: int, owner: int, which: int) -> None:
            mine, theirs = books[asker], books[owner]
            if not mine.draft_campaigns:
                self.make_campaign(asker, which)
            campaign = mine.draft_campaigns[which % len(mine.draft_campaigns)]
            listed = self.recipients(asker, campaign)
            response = self.call(
                asker,
                "POST",
                f"/api/v1/campaigns/{campaign}/recipients",
                json={
                    "contact_ids": theirs.contacts[-5:] or [str(uuid4())],
                    "audience_ids": sorted(theirs.records["audiences"])[:5],
                },
            )
            assert response.status_code in (200, 201, 404, 409, 422), response.text
            assert self.recipients(asker, campaign) == listed
            self.touched.add("campaigns")

        def attack_audience_with_members(self, asker: int, owner: int, which: int) -> None:
            response = self.call(
                asker,
                "POST",
                "/api/v1/audiences",
                json={
                    "name": f"Audience {marker()}",
                    "kind": "static",
                    "contact_ids": books[owner].contacts[-3:] or [str(uuid4())],
                },
            )
            assert response.status_code in (404, 409, 422), response.text
            self.touched.add("audiences")

        def own_static_audience(self, asker: int, which: int) -> str:
            mine = books[asker]
            if not mine.static_audiences:
                self.make_audience(asker, 1)
            return sorted(mine.static_audiences)[which % len(mine.static_audiences)]

        def attack_audience_add_members(self, asker: int, owner: int, which: int) -> None:
            audience = self.own_static_audience(asker, which)
            response = self.call(
                asker,
                "POST",
                f"/api/v1/audiences/{audience}/members",
                json={"contact_ids": books[owner].contacts[-3:] or [str(uuid4())]},
            )
            assert response.status_code in (404, 409, 422), response.text
            counted = self.ok(asker, "GET", f"/api/v1/audiences/{audience}")
            assert counted["member_count"] == len(books[asker].static_audiences[audience]), counted

        def attack_audience_remove_members(self, asker: int, owner: int, which: int) -> None:
            audience = self.own_static_audience(asker, which)
            theirs = books[owner].static_audiences
            members = sorted(set().union(*theirs.values())) if theirs else []
            response = self.call(
                asker,
                "DELETE",
                f"/api/v1/audiences/{audience}/members",
                json={"contact_ids": members or books[owner].contacts[-3:] or [str(uuid4())]},
            )
            assert response.status_code in (200, 404, 422), response.text
            if response.is_success:
                assert response.json()["data"]["changed"] == 0, response.text

        def own_customer(self, asker: int, which: int) -> str:
            if not books[asker].customers:
                self.make_customer_writes(asker, 1)
            return books[asker].customers[-1]

        def attack_send_on_channel(self, asker: int, owner: int, which: int) -> None:
            their_channel = world.channels[owner]
            sent_before = self.sent_from(their_channel.phone_number_id)
            response = self.call(
                asker,
                "POST",
                "/api/v1/messages",
                json={
                    "to": self.own_customer(asker, which),
                    "type": "text",
                    "text": {"body": "on your number"},
                    "channel_id": their_channel.id,
                },
            )
            assert response.status_code in (404, 422), response.text
            assert self.sent_from(their_channel.phone_number_id) == sent_before
            self.touched.add("messages")

        @staticmethod
        def sent_from(phone_number_id: str) -> int:
            sent = world.simulator.control("GET", "sent").json()
            return sum(1 for message in sent if message["phone_number_id"] == phone_number_id)

        def attack_reply_to_their_message(self, asker: int, owner: int, which: int) -> None:
            theirs, mine = books[owner], books[asker]
            wamid, _ = theirs.inbound[which % len(theirs.inbound)]
            text = marker()
            customer = self.own_customer(asker, which)
            response = self.call(
                asker,
                "POST",
                "/api/v1/messages",
                json={
                    "to": customer,
                    "type": "text",
                    "text": {"body": f"Re {text}"},
                    "context": {"message_id": wamid},
                },
            )
            assert response.status_code in (200, 201, 202, 404, 422), response.text
            if response.is_success:
                # Sent as a reply to the message id the sender named, showing nothing of the quoted message:
                # the thread is read back (its answer is searched for the other tenant's message).
                sent = response.json()["data"]
                mine.add("messages", sent["id"])
                mine.tokens |= {sent["wamid"], text}
                mine.named.add(wamid)
                mine.events.append(("message_outgoing", "wamid", sent["wamid"]))
                thread = self.call(asker, "GET", "/api/v1/messages", params={"wa_id": customer, "limit": 200})
                assert thread.status_code == 200, thread.text
                conversation = self.call(
                    asker, "GET", f"/api/v1/conversations/{sent['conversation_id']}/messages"
                )
                assert conversation.status_code == 200, conversation.text
                self.touched |= {"messages", "conversations"}

        def attack_send_to_group(self, asker: int, owner: int, which: int) -> None:
            groups = sorted(books[owner].records["groups"]) or [str(uuid4())]
            response = self.call(
                asker,
                "POST",
                "/api/v1/messages",
                json={"group_id": groups[which % len(groups)], "type": "text", "text": {"body": "hi"}},
            )
            assert response.status_code in (404, 409, 422), response.text
            self.touched.add("messages")

        def attack_create_on_channel(self, asker: int, owner: int, which: int) -> None:
            creations: list[tuple[str, dict[str, Any]]] = [
                ("/api/v1/qr-codes", {"prefilled_message": "On your number"}),
                ("/api/v1/flows", {"name": f"Flow {marker()}", "categories": ["OTHER"]}),
                ("/api/v1/groups", {"subject": "On your number"}),
                (
                    "/api/v1/templates",
                    {
                        "name": f"iso_{marker()}",
                        "language": "en_US",
                        "category": "UTILITY",
                        "components": [{"type": "BODY", "text": "Hello"}],
                    },
                ),
                ("/api/v1/campaigns", {"name": "On your number", "text": "Hello"}),
                ("/api/v1/flows/sync", {}),
                ("/api/v1/templates/sync", {}),
            ]
            path, body = creations[which % len(creations)]
            response = self.call(asker, "POST", path, json={**body, "channel_id": world.channels[owner].id})
            assert response.status_code in (404, 422), (path, response.text)
            self.touched.add(path.split("/")[3])

        def attack_sync(self, asker: int, owner: int, which: int) -> None:
            """The asker's own syncs read the asker's own WABA only: nothing of the owner's comes in."""
            for path in ("/api/v1/templates/sync", "/api/v1/flows/sync"):
                response = self.call(asker, "POST", path, json={})
                assert response.status_code == 200, response.text
            for kind in ("templates", "flows"):
                listed, _ = self.list_all(asker, kind)
                assert {item["id"] for item in listed} == books[asker].records[kind], kind

        def attack_filters(self, asker: int, owner: int, which: int) -> None:
            theirs = books[owner]
            queries: list[tuple[str, dict[str, Any]]] = []
            if theirs.contacts:
                queries.append(
                    ("/api/v1/messages", {"contact_id": theirs.contacts[which % len(theirs.contacts)]})
                )
            if theirs.records["groups"]:
                queries.append(("/api/v1/messages", {"group_id": sorted(theirs.records["groups"])[0]}))
            if theirs.numbers:
                number = sorted(theirs.numbers)[which % len(theirs.numbers)]
                queries += [
                    ("/api/v1/messages", {"wa_id": number}),
                    ("/api/v1/contacts", {"q": number}),
                    ("/api/v1/conversations", {"search": number}),
                ]
            if theirs.inbound:
                queries.append(("/api/v1/messages", {"q": theirs.inbound[which % len(theirs.inbound)][1]}))
            if theirs.tags:
                queries.append(("/api/v1/contacts", {"tag": theirs.tags[which % len(theirs.tags)]}))
            for kind in ("templates", "flows"):
                if theirs.names[kind]:
                    queries.append(
                        (LISTS[kind], {"name": theirs.names[kind][which % len(theirs.names[kind])]})
                    )
            for path, params in queries:
                response = self.call(asker, "GET", path, params={"limit": 200, **params})
                assert response.status_code in (200, 404, 422), (path, params, response.text)
                if response.status_code == 200:
                    assert response.json()["data"]["items"] == [], (path, params, response.text)

        def attack_claim_number(self, asker: int, owner: int, which: int) -> None:
            their_number = world.channels[owner].phone_number_id
            claimed = self.call(
                asker,
                "POST",
                "/api/v1/channels",
                json={
                    "phone_number_id": their_number,
                    "access_token": "EAAG-claim",
                    "app_secret": APP_SECRET,
                },
            )
            assert claimed.status_code == 409, claimed.text
            moved = self.call(
                asker,
                "PATCH",
                f"/api/v1/channels/{world.channels[asker].id}",
                json={"phone_number_id": their_number},
            )
            assert moved.status_code == 409, moved.text
            self.touched.add("channels")

        def attack_claim_waba(self, asker: int, owner: int, which: int) -> None:
            """The asker names the owner's WABA on its own channel: Meta's reviews of the owner's templates
            (webhooks about the WABA, not a phone number) must not reach the asker. Refused, or while the
            claim stands they reach no one (they cannot be told apart); afterwards the owner's again."""
            mine, theirs = world.channels[asker], world.channels[owner]
            claimed = self.call(
                asker, "PATCH", f"/api/v1/channels/{mine.id}", json={"waba_id": theirs.waba_id}
            )
            assert claimed.status_code in (200, 409), claimed.text
            try:
                # The owner changes its channel too (its row moves in the table) and submits a template.
                self.ok(
                    owner,
                    "PATCH",
                    f"/api/v1/channels/{theirs.id}",
                    json={"messages_per_second": 79 + which % 2},
                )
                self.make_template(owner, which)
                world.simulator.settle()  # its review has come in
                if claimed.status_code == 200:
                    books[owner].events.pop()  # ... to no one, while the claim stands
            finally:
                self.ok(asker, "PATCH", f"/api/v1/channels/{mine.id}", json={"waba_id": mine.waba_id})
            self.touched |= {"channels", "templates"}

        # --- what each tenant sees -----------------------------------------------------------------------

        @invariant()
        @journal.kept
        def lists_hold_exactly_the_tenants_records(self) -> None:
            """The lists of what the last step touched, in every tenant (each list it all at the end)."""
            for tenant, mine in enumerate(books):
                for kind in sorted(self.touched):
                    items, total = self.list_all(tenant, kind)
                    keys = {str(item[KEY_FIELD.get(kind, "id")]) for item in items}
                    if total is not None and kind != "webhook-log":  # that one grows in the background
                        assert total == len(items), (tenant, kind, total, len(items))
                    if kind == "contacts":
                        assert {item["wa_id"] for item in items} == mine.numbers, tenant
                        assert keys == mine.records[kind], (tenant, kind, keys ^ mine.records[kind])
                    elif kind == "webhook-log":
                        # Webhooks about its own number only (status webhooks come in the background):
                        # their entries' ids are probed with from the other tenants.
                        own = {world.channels[tenant].phone_number_id}
                        assert {item["phone_number_id"] for item in items} <= own, (tenant, items)
                        for key in keys - mine.records[kind]:
                            mine.add(kind, key)
                    else:
                        assert keys == mine.records[kind], (tenant, kind, keys ^ mine.records[kind])
            self.touched = set()

        def contacts_export_holds_exactly_the_tenants_numbers(self, tenant: int) -> None:
            exported = self.call(tenant, "GET", "/api/v1/contacts/export")
            assert exported.status_code == 200, exported.text
            numbers = {token for token in tokens_in(exported.text) if token.isdigit()}
            assert numbers == books[tenant].numbers, (tenant, numbers ^ books[tenant].numbers)

    return TenantIsolation


def test_nothing_of_one_tenant_is_read_changed_counted_or_announced_in_another(world: World) -> None:
    books = [Books() for _ in range(TENANTS)]
    for n, mine in enumerate(books):
        mine.add("channels", world.channels[n].id)
        mine.add("api-keys", world.api_keys[n][0])
        mine.tokens |= {
            str(world.members[n].tenant_id),
            str(world.members[n].user_id),
            world.channels[n].phone_number_id,
            world.channels[n].waba_id,
        }
    journal = Journal()
    try:
        run_state_machine_as_test(
            isolation_machine(world, books, journal),
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                # The app's state outlives an example: a replay to shrink would not see what the run saw.
                phases=[Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    except BaseException:
        if journal.failure is not None:
            raise journal.failure from None
        raise

    for n, mine in enumerate(books):
        for stream in world.streams[n]:
            # Each tenant's sockets carried the events of what happened in it (so they were alive) ...
            for kind, key, value in mine.events:
                world.run(stream.wait_for(of_type(kind, **{key: value}), timeout=30))
            # ... and nothing of another tenant.
            assert stream.events, "a socket that carried nothing"
            assert {event.get("tenant_id") for event in stream.events} == {str(world.members[n].tenant_id)}
            leaked = leaks(books, n, json.dumps(stream.events))
            assert not leaked, f"tenant {n}'s socket announced {leaked}"

    for n, (mine, receiver) in enumerate(zip(books, world.receivers, strict=True)):
        # Each tenant's event webhook receiver got its own incoming messages, and nothing of another tenant.
        _delivered(receiver, set(mine.deliveries), timeout=60)
        bodies = [body for body, _, _ in receiver.received]
        assert {body["tenant_id"] for body in bodies} <= {str(world.members[n].tenant_id)}, bodies
        leaked = leaks(books, n, json.dumps(bodies))
        assert not leaked, f"tenant {n}'s event webhooks announced {leaked}"


def _delivered(receiver: Receiver, wamids: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = {str(body["data"].get("wamid")) for body, _, _ in receiver.received}
        if wamids <= got:
            return
        assert time.monotonic() < deadline, f"never delivered: {wamids - got}"
        time.sleep(0.05)
