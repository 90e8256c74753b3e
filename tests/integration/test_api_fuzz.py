"""Schemathesis over every operation of the real app's `/docs/openapi.json` (issue 6, item 1).

How the run is set up:

- The app is the real one (`create_app` under uvicorn, real PostgreSQL), like `live_server`, except that its
  Graph API is the Cloud API simulator: no request leaves the machine, whatever the fuzzer sends.
- Before each operation's run the database is emptied (the autouse `clean_database`) and a world is set up:
  an owner signed in through `POST /api/v1/auth/login`, a channel on the simulator, a customer's message
  (a conversation, a contact, a webhook log entry), a reply, an API key and an event endpoint. Every request
  carries the owner's bearer token (schemathesis drops it on purpose in its "missing credential" cases).
- `X-Tenant-Id` varies with each request: absent, the tenant by id or slug, a tenant where the owner is only
  an agent, a tenant the owner is no member of, one that does not exist, junk. A valid UUID in a path
  names one of the world's records half of the time (and a message's valid recipient becomes the world's
  customer), else a record that does not exist.
- Phases: examples, coverage (the schema's edge cases and invalid values, unexpected methods), fuzzing
  (`MAX_EXAMPLES` per operation, positive and negative); no stateful phase. Deterministic: a fixed seed,
  derandomized, no example database. The whole file takes about a minute.

What every answer must be:

- no 5xx (`not_a_server_error`);
- what its own schema says (`response_schema_conformance`, `content_type_conformance`): the body and the
  media type documented for its status code;
- in the envelope `{"data", "message", "status"}` (`answers_in_the_envelope`). Not JSON by design:
  `GET /webhooks`'s challenge (text/plain, Meta compares it) and `OPTIONS` (204, no body).

Exclusions, by design only: `/ws` (a WebSocket) and the HTML pages are not in the document. Every operation
in the document runs. `POST /webhooks` runs unsigned (the document describes no body and schemathesis
cannot sign), so `test_webhook_bodies_never_get_a_server_error` posts Meta-shaped bodies to it: unsigned,
wrongly signed and signed with the channel's app secret.

Below the fuzz run, each failure it found (and its siblings) is pinned by plain httpx requests.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from pywhatsapp.domain.tenancy.membership import Role
from tests.integration.conftest import add_membership, add_tenant_with_user, make_settings, token_for
from tests.support.api_fuzz import (
    OPENAPI_PATH,
    answers_in_the_envelope,
    assert_in_the_envelope,
    meta_bodies,
    openapi_document,
)
from tests.support.live_server import LiveServer
from tests.support.meta_samples import sign
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres

SEED = 20240601
MAX_EXAMPLES = 25
REQUEST_TIMEOUT = 10.0
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, answers_in_the_envelope]

APP_SECRET = "fuzz-simulator-app-secret-0123456789"
PHONE_NUMBER_ID = "1122334455667"
WABA_ID = "1234567890987654321"
VERIFY_TOKEN = "fuzz-verify-token"
CUSTOMER = "15551234567"
SIGNATURE = "X-Hub-Signature-256"


# --- the app, the simulator, a tenant with records --------------------------------------------------------


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET)) as sim:
        yield sim


@pytest.fixture(scope="module")
def app(database_url: str, simulator: SimulatorServer) -> Iterator[LiveServer]:
    """The real app, as `live_server` serves it, with the Graph API on the simulator instead of Meta."""
    with LiveServer(make_settings(database_url, GRAPH_API_URL=simulator.url)) as server:
        yield server


@dataclass(frozen=True)
class World:
    """An owner signed in to a tenant with records; a second tenant where the owner is only an agent; a
    third the owner is no member of."""

    base_url: str
    token: str
    tenant_id: UUID
    tenant_slug: str
    agent_tenant_id: UUID
    foreign_tenant_slug: str
    channel_id: UUID
    conversation_id: UUID
    webhook_entry_id: UUID
    api_key_id: UUID
    event_endpoint_id: UUID

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def tenant_header(self, choice: int) -> dict[str, str]:
        """`X-Tenant-Id` as clients send it: mostly none, else by id or slug, a tenant the owner is an agent
        in, one the owner may not use, one that does not exist, or junk."""
        values = [
            None,
            None,
            None,
            None,
            str(self.tenant_id),
            self.tenant_slug,
            str(self.agent_tenant_id),
            self.foreign_tenant_slug,
            str(UUID(int=choice % 2**128, version=4)),
            "' OR '1'='1",
        ]
        value = values[choice % len(values)]
        return {} if value is None else {"X-Tenant-Id": value}

    def records(self) -> dict[str, UUID]:
        """The world's record for each path parameter of the document."""
        return {
            "channel_id": self.channel_id,
            "conversation_id": self.conversation_id,
            "entry_id": self.webhook_entry_id,
            "key_id": self.api_key_id,
            "endpoint_id": self.event_endpoint_id,
        }


@pytest.fixture
async def world(
    app: LiveServer, simulator: SimulatorServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> World:
    owner = await add_tenant_with_user(uow_factory, "fuzz-shop")
    partner = await add_tenant_with_user(uow_factory, "fuzz-partner")
    await add_membership(uow_factory, owner, partner.tenant_id, Role.AGENT)
    stranger = await add_tenant_with_user(uow_factory, "fuzz-stranger")
    simulator.settle()
    simulator.reset()
    simulator.control("POST", "config", json={"webhook_url": f"{app.url}/webhooks"}).raise_for_status()
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        token = await token_for(client, owner.username)
        auth = {"Authorization": f"Bearer {token}"}
        channel = await client.post(
            "/api/v1/channels",
            headers=auth,
            json={
                "phone_number_id": PHONE_NUMBER_ID,
                "waba_id": WABA_ID,
                "access_token": "EAAG-fuzz-token",
                "app_secret": APP_SECRET,
                "verify_token": VERIFY_TOKEN,
                "name": "Fuzz shop",
            },
        )
        assert channel.status_code == 201, channel.text
        written = simulator.control(
            "POST", f"customers/{CUSTOMER}/messages", json={"type": "text", "text": {"body": "Hi"}}
        )
        assert written.status_code == 200 and written.json()["delivered"], written.text
        conversations = await client.get("/api/v1/conversations", headers=auth)
        assert conversations.status_code == 200, conversations.text
        (conversation,) = conversations.json()["data"]["items"]
        reply = await client.post("/api/v1/messages", headers=auth, json={"to": CUSTOMER, "text": "Hello"})
        assert reply.status_code == 201, reply.text
        simulator.settle()
        log = await client.get("/api/v1/webhooks", headers=auth)
        assert log.status_code == 200 and log.json()["data"]["items"], log.text
        key = await client.post("/api/v1/api-keys", headers=auth, json={"name": "Fuzz integration"})
        assert key.status_code == 201, key.text
        # An event the fuzz run never causes: the endpoint is there to be listed, read and changed, and no
        # delivery ever goes to its URL.
        endpoint = await client.post(
            "/api/v1/event-webhooks",
            headers=auth,
            json={"url": f"{simulator.url}/never-called", "events": ["campaign_completed"]},
        )
        assert endpoint.status_code == 201, endpoint.text
    # From here on the simulator sends no webhook of its own: only the test's requests reach the app.
    simulator.control("POST", "config", json={"webhook_url": None}).raise_for_status()
    return World(
        base_url=app.url,
        token=token,
        tenant_id=owner.tenant_id,
        tenant_slug=owner.tenant_slug,
        agent_tenant_id=partner.tenant_id,
        foreign_tenant_slug=stranger.tenant_slug,
        channel_id=UUID(channel.json()["data"]["id"]),
        conversation_id=UUID(conversation["id"]),
        webhook_entry_id=UUID(log.json()["data"]["items"][-1]["id"]),
        api_key_id=UUID(key.json()["data"]["id"]),
        event_endpoint_id=UUID(endpoint.json()["data"]["id"]),
    )


# --- the fuzz run -----------------------------------------------------------------------------------------

DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


def _fingerprint(case: Case[Any]) -> int:
    """A number that depends only on the generated request: a replayed or shrunk case keeps its choices."""
    parts = [case.method, case.path, case.path_parameters, case.query, case.headers, case.body]
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "big")


def _name_records(case: Case[Any], world: World, choice: int) -> None:
    """Half the time, the valid UUIDs in the path become the world's records, and a valid recipient of a
    message becomes the world's customer (whose 24-hour window is open)."""
    if choice % 2:
        return
    for name, record in world.records().items():
        value = (case.path_parameters or {}).get(name)
        try:
            UUID(str(value))
        except ValueError:
            continue
        case.path_parameters[name] = str(record)
    body = case.body
    recipient = body.get("to") if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(recipient, str) and 5 <= len(recipient) <= 32:
        body["to"] = CUSTOMER


@schema.parametrize()
# The examples of one operation share its world (and what they change in it) on purpose.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_in_its_schema_and_the_envelope(case: Case[Any], world: World) -> None:
    fingerprint = _fingerprint(case)
    _name_records(case, world, fingerprint)
    headers = {**world.auth, **world.tenant_header(fingerprint >> 8)}
    response = case.call(base_url=world.base_url, headers=headers, timeout=REQUEST_TIMEOUT)
    case.validate_response(response, checks=CHECKS, headers=headers)


def test_the_fuzzed_document_is_the_one_the_app_serves(world: World) -> None:
    served = httpx.get(world.base_url + OPENAPI_PATH, timeout=REQUEST_TIMEOUT)
    assert served.status_code == 200
    assert served.json() == DOCUMENT
    operations = {(method, path) for path, item in DOCUMENT["paths"].items() for method in item}
    assert ("post", "/webhooks") in operations and ("get", "/webhooks") in operations


SIGNATURES = st.sampled_from(["none", "junk", "wrong secret", "channel secret"])


@settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=meta_bodies(PHONE_NUMBER_ID, WABA_ID), signed=SIGNATURES)
def test_webhook_bodies_never_get_a_server_error(world: World, body: tuple[bytes, bool], signed: str) -> None:
    """`POST /webhooks` with Meta's bodies, some values replaced by any JSON, signed or not: never a 5xx,
    always the envelope; a real body about the channel's number that is not signed with its app secret is
    refused with a 4xx."""
    raw, names_the_channel = body
    headers = {"Content-Type": "application/json"}
    if signed == "junk":
        headers[SIGNATURE] = "sha256=" + "0" * 64
    elif signed == "wrong secret":
        headers[SIGNATURE] = sign(raw, "not-the-channel-secret")
    elif signed == "channel secret":
        headers[SIGNATURE] = sign(raw, APP_SECRET)
    response = httpx.post(world.base_url + "/webhooks", content=raw, headers=headers, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text
    assert_in_the_envelope(response)
    if names_the_channel and signed != "channel secret":
        assert 400 <= response.status_code < 500, response.text


# --- regressions: one plain request for each failure found ------------------------------------------------


def _validate_against_document(method: str, path: str, response: httpx.Response) -> None:
    """The fuzz run's schema check, on one answer: its body must fit what the document says of its status."""
    schema[path][method].validate_response(response)


def test_a_400_answer_fits_the_400_schema_of_the_document(world: World) -> None:
    """The app answers every error in the envelope: the document must not describe a 400 as Litestar's own
    `{"status_code", "detail", "extra"}`, which no answer fits."""
    response = httpx.post(
        world.base_url + "/api/v1/auth/login",
        content=b'{"username": ',
        headers={"Content-Type": "application/json"},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 400, response.text
    assert_in_the_envelope(response)
    _validate_against_document("POST", "/api/v1/auth/login", response)


def test_readyz_fits_its_schema_when_ready(world: World) -> None:
    """A 200 documented as `oneOf: [Envelope, {"type": "object"}]` fits no answer: an envelope matches both
    branches, and `oneOf` allows exactly one."""
    response = httpx.get(world.base_url + "/readyz", timeout=REQUEST_TIMEOUT)
    assert response.status_code == 200, response.text
    assert_in_the_envelope(response)
    _validate_against_document("GET", "/readyz", response)


def test_the_webhook_challenge_has_the_content_type_the_document_gives(world: World) -> None:
    """Meta's subscription challenge is echoed as text/plain (as it must be); the document says
    application/json."""
    response = httpx.get(
        world.base_url + "/webhooks",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 200 and response.text == "1158201444", response.text
    documented = DOCUMENT["paths"]["/webhooks"]["get"]["responses"]["200"]["content"]
    assert response.headers["content-type"].split(";")[0] in documented, (
        f"answered {response.headers['content-type']!r}, documented {sorted(documented)}"
    )


NUL = "before\x00after"

CHANNEL = {"phone_number_id": "987", "access_token": "t"}
ENDPOINT_URL = "http://127.0.0.1:9/hook"  # the discard port: never a delivery anywhere
ENDPOINT = {"url": ENDPOINT_URL, "events": ["campaign_completed"]}
NUL_REQUESTS = [
    pytest.param("POST", "/api/v1/channels", {"json": {**CHANNEL, "name": NUL}}, id="create-channel-name"),
    pytest.param(
        "POST",
        "/api/v1/channels",
        {"json": {**CHANNEL, "display_phone_number": "1\x00"}},
        id="create-channel-display-number",
    ),
    pytest.param("PATCH", "/api/v1/channels/{channel_id}", {"json": {"name": NUL}}, id="update-channel-name"),
    pytest.param("POST", "/api/v1/api-keys", {"json": {"name": NUL}}, id="create-api-key-name"),
    pytest.param(
        "POST",
        "/api/v1/event-webhooks",
        {"json": {**ENDPOINT, "description": NUL}},
        id="create-event-webhook-description",
    ),
    pytest.param(
        "POST",
        "/api/v1/event-webhooks",
        {"json": {**ENDPOINT, "url": ENDPOINT_URL + NUL}},
        id="create-event-webhook-url",
    ),
    pytest.param("GET", "/api/v1/messages", {"params": {"q": NUL}}, id="list-messages-q"),
    pytest.param("GET", "/api/v1/messages", {"params": {"wa_id": NUL}}, id="list-messages-wa_id"),
    pytest.param("GET", "/api/v1/messages", {"params": {"type": NUL}}, id="list-messages-type"),
    pytest.param("GET", "/api/v1/messages", {"params": {"status": NUL}}, id="list-messages-status"),
    pytest.param("GET", "/api/v1/conversations", {"params": {"search": NUL}}, id="list-conversations-search"),
    pytest.param("GET", "/api/v1/webhooks", {"params": {"field": NUL}}, id="list-webhook-log-field"),
    pytest.param("GET", "/api/v1/webhooks", {"params": {"outcome": NUL}}, id="list-webhook-log-outcome"),
]


@pytest.mark.parametrize(("method", "path", "request_kwargs"), NUL_REQUESTS)
def test_a_nul_character_is_refused_with_a_4xx_not_a_500(
    world: World, method: str, path: str, request_kwargs: dict[str, Any]
) -> None:
    """PostgreSQL text cannot hold NUL ("\\x00"): a string with one that reaches a query must be refused as
    bad input, not end in "500 Internal server error"."""
    url = world.base_url + path.format(channel_id=world.channel_id)
    response = httpx.request(method, url, headers=world.auth, timeout=REQUEST_TIMEOUT, **request_kwargs)
    assert_in_the_envelope(response)
    assert 400 <= response.status_code < 500, response.text


def _cursor(at: str) -> str:
    """A cursor shaped like the ones the API gives out (`<ISO time>|<row id>`, base64)."""
    return base64.urlsafe_b64encode(f"{at}|{UUID(int=0)}".encode()).decode()


BEFORE_YEAR_1 = "0001-01-01T00:00:00+14:00"
AFTER_YEAR_9999 = "9999-12-31T23:59:59-14:00"
OUT_OF_RANGE_REQUESTS = [
    pytest.param("GET", "/api/v1/messages", {"params": {"since": BEFORE_YEAR_1}}, id="list-messages-since"),
    pytest.param("GET", "/api/v1/messages", {"params": {"until": AFTER_YEAR_9999}}, id="list-messages-until"),
    pytest.param(
        "GET", "/api/v1/webhooks", {"params": {"since": BEFORE_YEAR_1}}, id="list-webhook-log-since"
    ),
    pytest.param(
        "GET",
        "/api/v1/conversations",
        {"params": {"cursor": _cursor(AFTER_YEAR_9999)}},
        id="list-conversations-cursor",
    ),
    pytest.param(
        "GET", "/api/v1/messages", {"params": {"cursor": _cursor(BEFORE_YEAR_1)}}, id="list-messages-cursor"
    ),
    pytest.param(
        "POST",
        "/api/v1/api-keys",
        {"json": {"name": "far", "expires_at": AFTER_YEAR_9999}},
        id="create-api-key-expiry",
    ),
]


@pytest.mark.parametrize(("method", "path", "request_kwargs"), OUT_OF_RANGE_REQUESTS)
def test_a_time_postgresql_cannot_hold_is_refused_with_a_4xx_not_a_500(
    world: World, method: str, path: str, request_kwargs: dict[str, Any]
) -> None:
    """Valid RFC 3339 times whose UTC instant falls before year 1 or after year 9999."""
    response = httpx.request(
        method, world.base_url + path, headers=world.auth, timeout=REQUEST_TIMEOUT, **request_kwargs
    )
    assert_in_the_envelope(response)
    assert 400 <= response.status_code < 500, response.text


def test_an_api_key_expiry_without_a_time_zone_is_refused_with_a_4xx_not_a_500(world: World) -> None:
    """`POST /api/v1/api-keys` with `expires_at` as a local time ("2030-01-01T00:00:00", no offset): the
    body decodes, then comparing it with the aware current time raises TypeError."""
    response = httpx.post(
        world.base_url + "/api/v1/api-keys",
        headers=world.auth,
        json={"name": "Naive expiry", "expires_at": "2030-01-01T00:00:00"},
        timeout=REQUEST_TIMEOUT,
    )
    assert_in_the_envelope(response)
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({"file": (None, "hello")}, id="file-as-a-text-field"),
        pytest.param({"note": (None, "hello")}, id="another-text-field"),
    ],
)
def test_a_media_upload_without_a_file_is_refused_with_a_4xx_not_a_500(
    world: World, files: dict[str, Any]
) -> None:
    """`POST /api/v1/media` with a multipart body whose parts are all plain fields (no file)."""
    response = httpx.post(
        world.base_url + "/api/v1/media", headers=world.auth, files=files, timeout=REQUEST_TIMEOUT
    )
    assert_in_the_envelope(response)
    assert 400 <= response.status_code < 500, response.text
