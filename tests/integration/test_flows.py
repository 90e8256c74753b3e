"""WhatsApp Flows through the real app, real PostgreSQL and the Cloud API simulator as "Meta".

Flows are created, uploaded (Meta's validation errors stored and answered), published, deprecated,
deleted, previewed and synced at the simulator, which records exactly what it was sent; flow messages go
out as Meta documents them; a flow completion (`nfm_reply`, the shared samples) lands in the thread with
its answers parsed; the data endpoint decrypts Meta-encrypted requests with the tenant's key and answers
encrypted. Another tenant sees none of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from tests.integration.conftest import add_tenant_with_user, make_settings, token_for
from tests.support.flows import FLOW_JSON
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres

APP_SECRET = "simulator-app-secret-flows-0123456789"
WABA_ID = "1234567890987654321"
OTHER_WABA_ID = "9876543210123456789"
PHONE_ID = "1122334455667"
OTHER_PHONE_ID = "1122334455668"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "meta-webhooks"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET, status_delays=(0.01, 0.02, 0.03))) as sim:
        yield sim


@pytest.fixture(scope="module")
def app(database_url: str, simulator: SimulatorServer) -> Iterator[LiveServer]:
    with LiveServer(make_settings(database_url, GRAPH_API_URL=simulator.url)) as server:
        simulator.control("POST", "config", json={"webhook_url": f"{server.url}/webhooks"}).raise_for_status()
        yield server


@pytest.fixture
async def client(app: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
        yield http


@dataclass
class Shop:
    client: httpx.AsyncClient
    sim: SimulatorServer
    token: str
    slug: str
    tenant_id: UUID
    waba_id: str
    phone_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return await self.client.request(method, path, headers=self.auth, json=body, params=params or None)

    async def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        answer = await self.call(method, path, body)
        assert answer.status_code == status, answer.text
        return answer.json()["data"]

    def meta(self) -> dict[str, Any]:
        state: dict[str, Any] = self.sim.control("GET", "flows").json()
        return state

    def meta_flow(self, meta_flow_id: str) -> dict[str, Any]:
        (flow,) = [f for f in self.meta()["flows"] if f["id"] == meta_flow_id]
        found: dict[str, Any] = flow
        return found

    def requests(self, suffix: str, method: str = "POST") -> list[dict[str, Any]]:
        return [r for r in self.meta()["requests"] if r["method"] == method and r["path"].endswith(suffix)]


async def open_shop(
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    client: httpx.AsyncClient,
    *,
    waba_id: str,
    phone_id: str,
) -> Shop:
    member = await add_tenant_with_user(uow_factory, f"flows-{uuid4().hex[:8]}")
    token = await token_for(client, member.username)
    created = await client.post(
        "/api/v1/channels",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "phone_number_id": phone_id,
            "access_token": "EAAG-token",
            "app_secret": APP_SECRET,
            "waba_id": waba_id,
        },
    )
    assert created.status_code == 201, created.text
    return Shop(client, simulator, token, member.tenant_slug, member.tenant_id, waba_id, phone_id)


@pytest.fixture
async def shop(
    app: LiveServer,
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    client: httpx.AsyncClient,
) -> Shop:
    simulator.settle()
    simulator.reset()
    return await open_shop(simulator, uow_factory, client, waba_id=WABA_ID, phone_id=PHONE_ID)


@pytest.fixture
async def other_shop(
    simulator: SimulatorServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    client: httpx.AsyncClient,
    shop: Shop,
) -> Shop:
    return await open_shop(simulator, uow_factory, client, waba_id=OTHER_WABA_ID, phone_id=OTHER_PHONE_ID)


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    envelope = response.json()
    assert envelope["status"] == "error" and envelope["data"] is None, envelope
    for word in words:
        assert word.lower() in envelope["message"].lower(), envelope["message"]


# --- managing flows at Meta --------------------------------------------------------------------------------


async def test_a_flow_created_with_its_json_reaches_meta_as_documented_and_is_stored(shop: Shop) -> None:
    created = await shop.ok(
        "POST",
        "/api/v1/flows",
        {"name": "Sign up", "categories": ["sign_up", "OTHER"], "flow_json": FLOW_JSON, "publish": True},
        status=201,
    )
    assert created["status"] == "PUBLISHED" and created["validation_errors"] == []
    assert created["categories"] == ["SIGN_UP", "OTHER"] and created["json_version"] == "7.1"
    assert created["data_endpoint_path"] == f"/flows/data/{shop.slug}/{created['id']}"

    (request,) = shop.requests(f"/{WABA_ID}/flows")
    # POST /{waba-id}/flows with name, categories, flow_json (a string) and publish, as Meta documents it.
    assert request["body"]["name"] == "Sign up"
    assert request["body"]["categories"] == ["SIGN_UP", "OTHER"]
    assert json.loads(request["body"]["flow_json"]) == FLOW_JSON and request["body"]["publish"] is True
    assert shop.meta_flow(created["meta_flow_id"])["status"] == "PUBLISHED"

    listed = await shop.ok("GET", "/api/v1/flows")
    assert listed["total"] == 1 and listed["items"][0]["id"] == created["id"]
    assert (await shop.ok("GET", f"/api/v1/flows/{created['id']}"))["meta_flow_id"] == created["meta_flow_id"]


async def test_uploaded_flow_json_brings_back_metas_validation_errors_and_a_fixed_one_publishes(
    shop: Shop,
) -> None:
    flow = await shop.ok("POST", "/api/v1/flows", {"name": "Survey", "categories": ["SURVEY"]}, status=201)
    assert flow["status"] == "DRAFT" and flow["flow_json"] is None

    answer = await shop.call("PUT", f"/api/v1/flows/{flow['id']}/json", {"screens": []})
    assert answer.status_code == 200, answer.text
    assert "2 validation errors" in answer.json()["message"]
    errors = answer.json()["data"]["validation_errors"]
    assert {e["pointers"][0]["path"] for e in errors} == {"version", "screens"}
    assert all(e["error_type"] == "JSON_SCHEMA_ERROR" for e in errors)
    # Stored: read back, and refused for publishing before Meta is asked.
    assert len((await shop.ok("GET", f"/api/v1/flows/{flow['id']}"))["validation_errors"]) == 2
    assert_error(await shop.call("POST", f"/api/v1/flows/{flow['id']}/publish"), 409, "validation errors")
    assert shop.requests("/publish") == []

    (upload,) = shop.requests("/assets")
    # POST /{flow-id}/assets, multipart: the file flow.json, asset_type FLOW_JSON.
    assert upload["path"].endswith(f"/{flow['meta_flow_id']}/assets")
    assert upload["body"]["asset_type"] == "FLOW_JSON" and upload["body"]["name"] == "flow.json"
    assert upload["body"]["file"]["filename"] == "flow.json"
    assert json.loads(upload["body"]["file"]["text"]) == {"screens": []}

    fixed = await shop.ok("PUT", f"/api/v1/flows/{flow['id']}/json", FLOW_JSON)
    assert fixed["validation_errors"] == [] and fixed["flow_json"] == FLOW_JSON
    published = await shop.ok("POST", f"/api/v1/flows/{flow['id']}/publish")
    assert (
        published["status"] == "PUBLISHED" and shop.meta_flow(flow["meta_flow_id"])["status"] == "PUBLISHED"
    )

    # A published flow is immutable and cannot be deleted; it is deprecated instead.
    assert_error(await shop.call("PUT", f"/api/v1/flows/{flow['id']}/json", FLOW_JSON), 409, "PUBLISHED")
    assert_error(await shop.call("DELETE", f"/api/v1/flows/{flow['id']}"), 409, "deprecate")
    deprecated = await shop.ok("POST", f"/api/v1/flows/{flow['id']}/deprecate")
    assert (
        deprecated["status"] == "DEPRECATED"
        and shop.meta_flow(flow["meta_flow_id"])["status"] == "DEPRECATED"
    )
    assert_error(await shop.call("POST", f"/api/v1/flows/{flow['id']}/deprecate"), 409)


async def test_a_draft_is_renamed_previewed_and_deleted_at_meta_and_here(shop: Shop) -> None:
    flow = await shop.ok("POST", "/api/v1/flows", {"name": "Book", "categories": ["OTHER"]}, status=201)
    renamed = await shop.ok(
        "PATCH", f"/api/v1/flows/{flow['id']}", {"name": "Booking", "categories": ["APPOINTMENT_BOOKING"]}
    )
    assert renamed["name"] == "Booking" and shop.meta_flow(flow["meta_flow_id"])["name"] == "Booking"
    assert shop.meta_flow(flow["meta_flow_id"])["categories"] == ["APPOINTMENT_BOOKING"]

    preview = await shop.ok("GET", f"/api/v1/flows/{flow['id']}/preview")
    assert preview["preview_url"].startswith(shop.sim.url) and "/preview/?token=" in preview["preview_url"]
    assert preview["expires_at"]
    (read,) = shop.requests(f"/{flow['meta_flow_id']}", method="GET")
    assert "preview.invalidate(false)" in read["query"]["fields"]
    again = await shop.ok("GET", f"/api/v1/flows/{flow['id']}/preview")
    assert again["preview_url"] == preview["preview_url"]

    deleted = await shop.ok("DELETE", f"/api/v1/flows/{flow['id']}")
    assert deleted["status"] == "DELETED"
    assert shop.meta()["flows"] == []
    assert_error(await shop.call("GET", f"/api/v1/flows/{flow['id']}"), 404)


async def test_sync_reads_every_page_of_the_wabas_flows(shop: Shop) -> None:
    made = []
    async with httpx.AsyncClient(
        base_url=f"{shop.sim.url}/v22.0", headers={"Authorization": "Bearer t"}
    ) as graph:
        for i in range(130):  # more than one page of 100
            answer = await graph.post(
                f"/{WABA_ID}/flows", json={"name": f"Made at Meta {i:03}", "categories": ["OTHER"]}
            )
            made.append(answer.json()["id"])
    report = await shop.ok("POST", "/api/v1/flows/sync")
    assert report == {
        "created": 130,
        "updated": 0,
        "removed": 0,
        "at_meta": 130,
        "channel_id": report["channel_id"],
    }
    listed = await shop.ok("GET", "/api/v1/flows?limit=200")
    assert listed["total"] == 130 and {f["meta_flow_id"] for f in listed["items"]} == set(made)
    again = await shop.ok("POST", "/api/v1/flows/sync")
    assert again["updated"] == 130 and again["created"] == 0


async def test_bad_input_is_refused_before_meta_hears_of_it(shop: Shop) -> None:
    assert_error(await shop.call("POST", "/api/v1/flows", {"name": "x", "categories": ["NOPE"]}), 422, "NOPE")
    assert_error(await shop.call("POST", "/api/v1/flows", {"name": "x", "categories": []}), 422)
    assert_error(
        await shop.call("POST", "/api/v1/flows", {"name": "x", "categories": ["OTHER"], "publish": True}),
        422,
        "flow JSON",
    )
    assert_error(
        await shop.call("POST", "/api/v1/flows", {"name": "x", "categories": ["OTHER"], "routes": {"A": 1}}),
        422,
    )
    assert shop.requests("/flows") == []
    assert_error(await shop.call("GET", f"/api/v1/flows/{uuid4()}"), 404)
    # Meta's own refusal comes back in its words: a second flow of the same name.
    await shop.ok("POST", "/api/v1/flows", {"name": "Twice", "categories": ["OTHER"]}, status=201)
    assert_error(
        await shop.call("POST", "/api/v1/flows", {"name": "Twice", "categories": ["OTHER"]}), 422, "exists"
    )


async def test_another_tenant_sees_none_of_it(shop: Shop, other_shop: Shop) -> None:
    flow = await shop.ok("POST", "/api/v1/flows", {"name": "Mine", "categories": ["OTHER"]}, status=201)
    assert (await other_shop.ok("GET", "/api/v1/flows"))["total"] == 0
    for method, suffix in (
        ("GET", ""),
        ("GET", "/preview"),
        ("POST", "/publish"),
        ("POST", "/deprecate"),
        ("DELETE", ""),
    ):
        assert_error(await other_shop.call(method, f"/api/v1/flows/{flow['id']}{suffix}"), 404)
    assert_error(await other_shop.call("PUT", f"/api/v1/flows/{flow['id']}/json", FLOW_JSON), 404)
    # The other tenant's sync reads its own WABA only.
    assert (await other_shop.ok("POST", "/api/v1/flows/sync"))["at_meta"] == 0
    assert (await shop.ok("GET", f"/api/v1/flows/{flow['id']}"))["status"] == "DRAFT"


async def test_an_agent_reads_flows_but_does_not_change_them(
    shop: Shop, uow_factory: SqlAlchemyUnitOfWorkFactory, client: httpx.AsyncClient
) -> None:
    from pywhatsapp.domain.tenancy.membership import Role
    from tests.integration.conftest import add_membership

    agent = await add_tenant_with_user(uow_factory, f"agent-{uuid4().hex[:6]}")
    await add_membership(uow_factory, agent, shop.tenant_id, Role.AGENT)
    token = await token_for(client, agent.username)
    headers = {"Authorization": f"Bearer {token}", "X-Tenant-Id": str(shop.tenant_id)}
    assert (await client.get("/api/v1/flows", headers=headers)).status_code == 200
    refused = await client.post("/api/v1/flows", headers=headers, json={"name": "x", "categories": ["OTHER"]})
    assert refused.status_code == 403, refused.text


# --- flow messages and completions -------------------------------------------------------------------------


def _customer_writes(shop: Shop, wa_id: str) -> None:
    answer = shop.sim.control(
        "POST",
        f"customers/{wa_id}/messages",
        json={"type": "text", "text": {"body": "hi"}, "phone_number_id": shop.phone_id},
    )
    assert answer.status_code == 200 and answer.json()["delivered"], answer.text


async def test_a_flow_message_goes_out_as_meta_documents_it(shop: Shop) -> None:
    _customer_writes(shop, "15551230001")
    body = {
        "to": "15551230001",
        "type": "interactive",
        "interactive": {
            "type": "flow",
            "body": {"text": "Sign up in a minute"},
            "action": {
                "parameters": {
                    "flow_id": "1234",
                    "flow_cta": "Sign up",
                    "flow_action_payload": {"screen": "WELCOME", "data": {"greeting": "Hi Alice"}},
                }
            },
        },
    }
    answer = await shop.call("POST", "/api/v1/messages", body)
    assert answer.status_code in (200, 201), answer.text
    sent = [m for m in shop.sim.control("GET", "sent").json() if m["type"] == "interactive"]
    (message,) = sent
    interactive = message["body"]["interactive"]
    parameters = interactive["action"]["parameters"]
    assert interactive["type"] == "flow" and interactive["action"]["name"] == "flow"
    assert parameters["flow_message_version"] == "3" and parameters["flow_action"] == "navigate"
    assert parameters["flow_id"] == "1234" and parameters["flow_cta"] == "Sign up"
    assert parameters["flow_action_payload"] == {"screen": "WELCOME", "data": {"greeting": "Hi Alice"}}
    assert isinstance(parameters["flow_token"], str) and parameters["flow_token"]

    for broken, word in (
        ({"flow_cta": "Go"}, "flow_id"),
        ({"flow_id": "1", "flow_name": "n", "flow_cta": "Go"}, "one of them"),
        ({"flow_id": "1"}, "flow_cta"),
        ({"flow_id": "1", "flow_cta": "Go", "flow_action": "navigate"}, "flow_action_payload"),
        ({"flow_id": "1", "flow_cta": "Go", "flow_action": "jump"}, "flow_action"),
    ):
        bad = {
            **body,
            "interactive": {"type": "flow", "body": {"text": "x"}, "action": {"parameters": broken}},
        }
        assert_error(await shop.call("POST", "/api/v1/messages", bad), 422, word)
    assert len([m for m in shop.sim.control("GET", "sent").json() if m["type"] == "interactive"]) == 1


def _signed(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}


@pytest.mark.parametrize("sample", ["completion.json", "without_flow_token.json"])
async def test_a_flow_completion_from_metas_samples_is_shown_in_the_thread(shop: Shop, sample: str) -> None:
    directory = FIXTURES
    body = json.loads((directory / "flow_completion" / sample).read_text())
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["id"] = f"wamid.flow-{uuid4().hex}"
    raw, headers = _signed(body)
    answer = await shop.client.post("/webhooks", content=raw, headers=headers)
    assert answer.status_code == 200, answer.text

    conversations = await shop.ok("GET", "/api/v1/conversations")
    (conversation,) = [c for c in conversations["items"] if c["contact"]["wa_id"] == "972987654321"]
    thread = await shop.ok("GET", f"/api/v1/conversations/{conversation['id']}/messages")
    (stored,) = [m for m in thread["items"] if m["wamid"] == message["id"]]
    assert stored["type"] == "interactive" and stored["direction"] == "incoming" and stored["text"] == "Sent"
    content = stored["content"]
    assert content["type"] == "nfm_reply" and content["nfm_reply"]["name"] == "flow"
    assert content["nfm_reply"]["response_json"] == message["interactive"]["nfm_reply"]["response_json"]
    assert content["flow_response"]["comment_text"] == "Comment Text"
    assert content["flow_response"]["delivery_rating"] == "4"
    expected_token = "AQAAAAACS5FpgQ_cAAAAAD0QI3s." if sample == "completion.json" else None
    assert content.get("flow_token") == expected_token


# --- the data endpoint -------------------------------------------------------------------------------------


def meta_encrypts(public_key_pem: str, request: dict[str, Any]) -> tuple[dict[str, str], bytes, bytes]:
    """What Meta does: a fresh AES-128-GCM key and IV, the key wrapped with RSA-OAEP (SHA-256)."""
    public_key = serialization.load_pem_public_key(public_key_pem.encode())
    assert isinstance(public_key, rsa.RSAPublicKey)
    aes_key, iv = AESGCM.generate_key(bit_length=128), os.urandom(16)
    encrypted = AESGCM(aes_key).encrypt(iv, json.dumps(request).encode(), None)
    wrapped = public_key.encrypt(
        aes_key,
        padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    body = {
        "encrypted_flow_data": base64.b64encode(encrypted).decode(),
        "encrypted_aes_key": base64.b64encode(wrapped).decode(),
        "initial_vector": base64.b64encode(iv).decode(),
    }
    return body, aes_key, iv


def meta_decrypts(answer: str, aes_key: bytes, iv: bytes) -> Any:
    flipped = bytes(b ^ 0xFF for b in iv)
    return json.loads(AESGCM(aes_key).decrypt(flipped, base64.b64decode(answer), None))


async def exchange(shop: Shop, path: str, public_key: str, request: dict[str, Any]) -> Any:
    body, aes_key, iv = meta_encrypts(public_key, request)
    raw, headers = _signed(body)
    answer = await shop.client.post(path, content=raw, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return meta_decrypts(answer.text, aes_key, iv)


async def test_the_data_endpoint_answers_metas_encrypted_requests_from_the_flows_routes(shop: Shop) -> None:
    key = await shop.ok("POST", "/api/v1/flows/keys/generate")
    assert key["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----") and key["registered_at"]
    # Set at Meta on the phone number: POST /{phone-id}/whatsapp_business_encryption.
    assert shop.meta()["public_keys"][PHONE_ID] == key["public_key_pem"]
    assert (await shop.ok("GET", "/api/v1/flows/keys"))["public_key_pem"] == key["public_key_pem"]

    routes = {
        "INIT": {"next_screen": "WELCOME", "data": {"greeting": "Hello"}},
        "WELCOME": {"next_screen": "SUCCESS", "data": {"booked": True}},
    }
    flow = await shop.ok(
        "POST", "/api/v1/flows", {"name": "Exchange", "categories": ["OTHER"], "routes": routes}, status=201
    )
    path = flow["data_endpoint_path"]
    pub = key["public_key_pem"]

    assert await exchange(shop, path, pub, {"version": "3.0", "action": "ping"}) == {
        "data": {"status": "active"}
    }
    assert await exchange(shop, f"/flows/data/{shop.slug}", pub, {"version": "3.0", "action": "ping"}) == {
        "data": {"status": "active"}
    }
    token = "tok-123"
    opened = await exchange(shop, path, pub, {"version": "3.0", "action": "INIT", "flow_token": token})
    assert opened == {"screen": "WELCOME", "data": {"greeting": "Hello"}}
    done = await exchange(
        shop,
        path,
        pub,
        {
            "version": "3.0",
            "action": "data_exchange",
            "screen": "WELCOME",
            "data": {"x": 1},
            "flow_token": token,
        },
    )
    assert done == {
        "screen": "SUCCESS",
        "data": {"extension_message_response": {"params": {"flow_token": token, "booked": True}}},
    }
    back = await exchange(
        shop, path, pub, {"version": "3.0", "action": "BACK", "screen": "WELCOME", "flow_token": token}
    )
    assert back == {"screen": "WELCOME", "data": {"greeting": "Hello"}}
    error = await exchange(
        shop,
        path,
        pub,
        {"version": "3.0", "action": "data_exchange", "screen": "WELCOME", "data": {"error": "x"}},
    )
    assert error == {"data": {"acknowledged": True}}

    # New routes apply at once.
    await shop.ok("PUT", f"/api/v1/flows/{flow['id']}/routes", {"INIT": {"next_screen": "OTHER", "data": {}}})
    assert (await exchange(shop, path, pub, {"version": "3.0", "action": "INIT"}))["screen"] == "OTHER"


async def test_the_data_endpoint_refuses_what_it_cannot_read_with_metas_status_codes(
    shop: Shop, other_shop: Shop
) -> None:
    await shop.ok("POST", "/api/v1/flows/keys/generate")
    path = f"/flows/data/{shop.slug}"
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    stranger_pub = (
        stranger.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    # Encrypted to a key the tenant does not hold: 421, so that the client fetches the public key again.
    body, _, _ = meta_encrypts(stranger_pub, {"action": "ping"})
    raw, headers = _signed(body)
    answer = await shop.client.post(path, content=raw, headers=headers)
    assert_error(answer, 421, "decrypt")
    # A wrong signature: 432.
    answer = await shop.client.post(
        path, content=raw, headers={**headers, "X-Hub-Signature-256": "sha256=00"}
    )
    assert_error(answer, 432, "signature")
    # Garbage and missing fields: 4xx, never 500.
    for junk in (b"not json", b"[]", b'{"encrypted_flow_data": 1}'):
        junk_headers = {"Content-Type": "application/json"}
        junk_headers["X-Hub-Signature-256"] = (
            "sha256=" + hmac.new(APP_SECRET.encode(), junk, hashlib.sha256).hexdigest()
        )
        answer = await shop.client.post(path, content=junk, headers=junk_headers)
        assert 400 <= answer.status_code < 500, answer.text
    # Another tenant's endpoint has no key yet; an unknown one does not exist.
    answer = await shop.client.post(f"/flows/data/{other_shop.slug}", content=raw, headers=headers)
    assert answer.status_code == 421, answer.text
    answer = await shop.client.post("/flows/data/no-such-tenant", content=raw, headers=headers)
    assert_error(answer, 404)
    answer = await shop.client.post(f"{path}/{uuid4()}", content=raw, headers=headers)
    assert_error(answer, 404)


async def test_an_uploaded_key_with_a_passphrase_decrypts_requests_and_is_stored_encrypted(
    shop: Shop, database_url: str
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"open sesame"),
    ).decode()
    public = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    assert_error(
        await shop.call("PUT", "/api/v1/flows/keys", {"private_key_pem": pem, "passphrase": "wrong"}), 422
    )
    assert_error(await shop.call("PUT", "/api/v1/flows/keys", {"private_key_pem": "nope"}), 422)
    stored = await shop.ok(
        "PUT", "/api/v1/flows/keys", {"private_key_pem": pem, "passphrase": "open sesame", "register": False}
    )
    assert stored["public_key_pem"] == public and stored["registered_at"] is None
    assert shop.meta()["public_keys"] == {}
    answer = await exchange(shop, f"/flows/data/{shop.slug}", public, {"version": "3.0", "action": "ping"})
    assert answer == {"data": {"status": "active"}}

    import asyncpg

    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        column = await connection.fetchval(
            "SELECT private_key_pem FROM flow_keys WHERE tenant_id = $1", shop.tenant_id
        )
    finally:
        await connection.close()
    assert "PRIVATE KEY" not in column and "open sesame" not in column
