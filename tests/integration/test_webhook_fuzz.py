"""Meta's webhook fuzzed over real HTTP: every sample body, mutated at random, signed or not.

What the app promises, whatever the body:
- never a 5xx (a body is the sender's input: at worst a 4xx);
- a body for a tenant's channel with a wrong or missing signature: 403/401, and nothing of the tenant's
  changes (bodies no channel claims cannot be checked against any secret: they are logged without tenant);
- a correctly signed body is answered 200 and logged, with the bytes as they came (NUL made U+FFFD);
- no partial write: a tenant's part of a body is one transaction with its log row, so either the tenant
  gained the log row and the body's whole effect, or (an answer other than 200) nothing at all.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywhatsapp.adapters.persistence.database import create_engine, create_session_factory
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.entrypoints.http.routes.webhooks import WEBHOOK_MAX_BODY_BYTES
from tests.integration.conftest import add_tenant_with_user, token_for
from tests.support.live_server import LiveServer
from tests.support.meta_samples import (
    Body,
    SampleRewriter,
    load_samples,
    messages_change,
    sign,
    single_change_body,
    text_message,
)
from tests.support.postgres import _asyncpg_dsn

pytestmark = pytest.mark.postgres

T = TypeVar("T")
APP_SECRET = "fuzz-app-secret-0123456789abcdef"
SAMPLES = load_samples()


def digits(length: int = 15) -> str:
    return str(uuid4().int)[:length]


class Database:
    """Plain SQL on the test database from a sync test (Hypothesis drives sync functions)."""

    def __init__(self, url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._connection: asyncpg.Connection = self.run(asyncpg.connect(**_asyncpg_dsn(url)))  # type: ignore[arg-type]
        tables = self.run(
            self._connection.fetch(
                "SELECT table_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name"
            )
        )
        self.tenant_tables = [row["table_name"] for row in tables]

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(coroutine)

    def snapshot(self, tenant_id: UUID) -> dict[str, int]:
        """How many rows of the tenant each table holds, and the webhook log rows of no tenant."""
        union = " UNION ALL ".join(
            f"SELECT '{table}' AS t, count(*) AS n FROM \"{table}\" WHERE tenant_id = $1"
            for table in self.tenant_tables
        )
        rows = self.run(self._connection.fetch(union, tenant_id))
        counts = {row["t"]: int(row["n"]) for row in rows}
        counts["webhook_logs (no tenant)"] = int(
            self.run(self._connection.fetchval("SELECT count(*) FROM webhook_logs WHERE tenant_id IS NULL"))
        )
        return counts

    def logged(self, raw_text: str) -> int:
        return int(
            self.run(
                self._connection.fetchval("SELECT count(*) FROM webhook_logs WHERE raw_body = $1", raw_text)
            )
        )

    def logged_outcome(self, raw_text: str) -> str:
        outcome = self.run(
            self._connection.fetchval("SELECT outcome FROM webhook_logs WHERE raw_body = $1", raw_text)
        )
        return str(outcome)

    def stored_wamids(self, tenant_id: UUID, wamids: list[str]) -> set[str]:
        rows = self.run(
            self._connection.fetch(
                "SELECT wamid FROM messages WHERE tenant_id = $1 AND wamid = ANY($2::text[])",
                tenant_id,
                wamids,
            )
        )
        return {row["wamid"] for row in rows}

    def close(self) -> None:
        self.run(self._connection.close())
        self._loop.close()


class Target:
    def __init__(self, tenant_id: UUID, phone_number_id: str, waba_id: str) -> None:
        self.tenant_id = tenant_id
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id


@pytest.fixture
def target(live_server: LiveServer, database_url: str) -> Target:
    async def create() -> Target:
        engine = create_engine(database_url, pool_size=1, max_overflow=0)
        try:
            member = await add_tenant_with_user(
                SqlAlchemyUnitOfWorkFactory(create_session_factory(engine)), f"fuzz-{uuid4().hex[:6]}"
            )
        finally:
            await engine.dispose()
        async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
            token = await token_for(client, member.username)
            phone_number_id, waba_id = digits(), digits(18)
            response = await client.post(
                "/api/v1/channels",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "phone_number_id": phone_number_id,
                    "access_token": "EAAG-test-token",
                    "app_secret": APP_SECRET,
                    "waba_id": waba_id,
                },
            )
            assert response.status_code == 201, response.text
        return Target(member.tenant_id, phone_number_id, waba_id)

    return asyncio.run(create())


@pytest.fixture
def db(database_url: str, target: Target) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.close()


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


# --- mutations ---------------------------------------------------------------------------------------------

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
NASTY_TEXT = st.sampled_from(
    [
        "\x00",
        "nul\x00inside",
        "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
        "🙂" * 500,
        "\u202e\u200b\ufeff",
        "x" * 100_000,
        "' OR 1=1; DROP TABLE messages; --",
        "9" * 400,
    ]
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document (to a depth of 40), as the keys and indexes that lead there."""
    found = [prefix] if prefix else []
    if len(prefix) >= 40:
        return found
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(paths(value, (*prefix, index)))
    return found


def parent_of(body: Any, path: tuple[Any, ...]) -> Any:
    node = body
    for step in path[:-1]:
        node = node[step]
    return node


@st.composite
def mutated_body(draw: st.DrawFn, target: Target) -> tuple[bytes, Body | None]:
    """A sample body, rewritten to the target's channel (mostly), then mutated 0-4 times; its raw bytes."""
    sample = draw(st.sampled_from(SAMPLES))
    body: Any = SampleRewriter(
        phone_number_id=target.phone_number_id, waba_id=target.waba_id, run=f"fz{uuid4().hex[:10]}"
    ).rewrite(sample.body)
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        kind = draw(
            st.sampled_from(
                ["delete", "retype", "nasty", "nest", "duplicate", "phone", "entries", "top"],
            )
        )
        places = paths(body)
        if kind == "top":
            body = draw(JSON_VALUES)
            continue
        if not places:
            continue
        path = draw(st.sampled_from(places))
        parent = parent_of(body, path)
        key = path[-1]
        if kind == "delete":
            del parent[key]
        elif kind == "retype":
            parent[key] = draw(JSON_VALUES)
        elif kind == "nasty":
            parent[key] = draw(NASTY_TEXT)
        elif kind == "nest":
            depth = draw(st.sampled_from([5, 50, 200]))
            value: Any = parent[key]
            for _ in range(depth):
                value = [value]
            parent[key] = value
        elif kind == "duplicate":
            if isinstance(parent, list):
                parent.append(copy.deepcopy(parent[key]))
            else:
                parent[key] = [copy.deepcopy(parent[key]), copy.deepcopy(parent[key])]
        elif kind == "phone":
            parent[key] = draw(st.sampled_from([digits(), "", 0, target.waba_id, "106540352242922"]))
        elif kind == "entries" and isinstance(body, dict) and isinstance(body.get("entry"), list):
            body["entry"] = body["entry"] * draw(st.integers(min_value=2, max_value=20))
    try:
        raw = json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    except ValueError:
        raw = b"[" * 10_000
    byte_damage = draw(st.sampled_from(["none", "none", "none", "truncate", "garbage", "deep"]))
    if byte_damage == "truncate" and raw:
        raw = raw[: draw(st.integers(min_value=0, max_value=len(raw) - 1))]
    elif byte_damage == "garbage":
        raw = raw + draw(st.binary(min_size=1, max_size=20))
    elif byte_damage == "deep":  # deeper than any JSON decoder recurses
        depth = draw(st.sampled_from([1_000, 100_000]))
        raw = b'{"object":"whatsapp_business_account","entry":' + b"[" * depth + b"]" * depth + b"}"
    return raw, body if isinstance(body, dict) else None


SIGNATURES = st.sampled_from(["valid", "valid", "wrong secret", "garbage", "missing", "other body"])


def signature_for(kind: str, raw: bytes) -> dict[str, str]:
    if kind == "valid":
        return {"X-Hub-Signature-256": sign(raw, APP_SECRET)}
    if kind == "wrong secret":
        return {"X-Hub-Signature-256": sign(raw, "not-the-app-secret")}
    if kind == "garbage":
        return {"X-Hub-Signature-256": "sha256=not-hex"}
    if kind == "other body":
        return {"X-Hub-Signature-256": sign(raw + b" ", APP_SECRET)}
    return {}


def as_logged(raw: bytes) -> str:
    """The raw body as the log keeps it: decoded leniently, NUL made U+FFFD."""
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd").replace("\\u0000", "\\ufffd")


# --- the fuzz ----------------------------------------------------------------------------------------------


def test_mutated_sample_bodies_never_5xx_never_write_partly_and_are_always_logged(
    http: httpx.Client, db: Database, target: Target
) -> None:
    outcomes: dict[tuple[str, int], int] = {}

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(mutated_body(target), SIGNATURES)
    def post(case: tuple[bytes, Body | None], signature: str) -> None:
        raw, _ = case
        before = db.snapshot(target.tenant_id)
        logged_before = db.logged(as_logged(raw))
        response = http.post(
            "/webhooks",
            content=raw,
            headers={"Content-Type": "application/json", **signature_for(signature, raw)},
        )
        after = db.snapshot(target.tenant_id)
        key = (signature if signature == "valid" else "invalid", response.status_code)
        outcomes[key] = outcomes.get(key, 0) + 1

        assert response.status_code < 500, response.text
        if len(raw) > WEBHOOK_MAX_BODY_BYTES:
            # Larger than Meta ever sends: refused before it is read, and nothing changes.
            assert response.status_code == 413, response.text
            assert after == before
            return
        envelope = response.json()
        assert envelope["status"] == ("ok" if response.status_code == 200 else "error"), envelope
        tenant_changed = {
            t: (before[t], after[t]) for t in before if before[t] != after[t] and "(no tenant)" not in t
        }
        if signature != "valid":
            assert response.status_code in (200, 401, 403), response.text
            assert not tenant_changed, f"an unsigned body changed the tenant's {tenant_changed}"
            if response.status_code == 200:
                # Only a body no channel claims is acknowledged unsigned: logged without a tenant, to look at.
                assert after["webhook_logs (no tenant)"] == before["webhook_logs (no tenant)"] + 1
        else:
            assert response.status_code == 200, response.text
            assert db.logged(as_logged(raw)) > logged_before, "a signed body was not logged as it came"
        if tenant_changed:
            # One transaction per tenant: the body's effect always comes with its log row.
            assert after["webhook_logs"] > before["webhook_logs"], tenant_changed

    post()
    # The fuzz reached both sides: bodies stored for the tenant, and refused signatures.
    assert outcomes.get(("valid", 200), 0) > 0, outcomes
    assert outcomes.get(("invalid", 403), 0) + outcomes.get(("invalid", 401), 0) > 0, outcomes


# --- several messages, one of them broken ------------------------------------------------------------------


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(lambda m: m.pop("from"), id="no sender"),
        pytest.param(lambda m: m.update(timestamp={"not": "a time"}), id="timestamp an object"),
        pytest.param(lambda m: m.update(type=None), id="no type"),
        pytest.param(lambda m: m.update(text={"body": "\x00" + "x" * 70_000}), id="huge text with NUL"),
        pytest.param(lambda m: m.update(id="wamid." + "9" * 5000), id="huge wamid"),
        pytest.param(lambda m: m.update(context={"id": ["x"], "from": 5}), id="context of wrong types"),
    ],
)
def test_a_body_with_one_broken_message_among_good_ones_is_stored_whole_or_not_at_all(
    http: httpx.Client, db: Database, target: Target, broken: Callable[[Body], object]
) -> None:
    wamids = [f"wamid.multi.{uuid4().hex}" for _ in range(3)]
    messages = [text_message(wamid, "4915100000001", f"text {n}") for n, wamid in enumerate(wamids)]
    broken(messages[1])
    body = single_change_body(
        target.waba_id,
        messages_change(target.phone_number_id, messages=messages, names={"4915100000001": "Eve"}),
    )
    raw = json.dumps(body).encode()
    before = db.snapshot(target.tenant_id)
    response = http.post("/webhooks", content=raw, headers={"X-Hub-Signature-256": sign(raw, APP_SECRET)})
    assert response.status_code == 200, response.text
    assert db.logged(as_logged(raw)) == 1
    after = db.snapshot(target.tenant_id)
    assert after["webhook_logs"] == before["webhook_logs"] + 1
    stored = db.stored_wamids(target.tenant_id, wamids)
    if after["messages"] == before["messages"]:
        # A value PostgreSQL cannot hold (a wamid longer than its column): the tenant's transaction is
        # refused whole; the body is kept in its log as unstorable and acknowledged, so Meta stops.
        assert stored == set() and db.logged_outcome(as_logged(raw)) == "unstorable"
    else:
        # Otherwise the broken message is read defensively and kept too: all three are stored.
        assert {wamids[0], wamids[2]} <= stored
        assert after["messages"] - before["messages"] == len(stored)


# --- bodies whose envelope cannot be stored as parsed ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text_body"),
    [
        pytest.param([[["messages"]]] * 20, "hello", id="field a nested list"),
        pytest.param("messages" + "x" * 5000, "hello", id="field a huge string"),
        pytest.param("messages", "\ud800 lone surrogate", id="text with a lone surrogate escape"),
    ],
)
def test_a_signed_body_that_cannot_be_stored_as_parsed_is_acknowledged_and_logged_as_it_came(
    http: httpx.Client, db: Database, target: Target, field: Any, text_body: str
) -> None:
    wamid = f"wamid.envelope.{uuid4().hex}"
    body = single_change_body(
        target.waba_id,
        messages_change(
            target.phone_number_id,
            messages=[text_message(wamid, "4915100000002", text_body)],
            names={"4915100000002": "Eve"},
        ),
    )
    body["entry"][0]["changes"][0]["field"] = field
    raw = json.dumps(body).encode()  # ASCII escapes: a lone surrogate travels as "\ud800"
    response = http.post("/webhooks", content=raw, headers={"X-Hub-Signature-256": sign(raw, APP_SECRET)})
    # Meta would send a refused body again and again: it is acknowledged and kept in the log to look at.
    assert response.status_code == 200, response.text
    assert db.logged(as_logged(raw)) == 1


def test_a_body_for_an_unknown_number_with_a_lone_surrogate_is_logged_without_a_tenant(
    http: httpx.Client, db: Database, target: Target
) -> None:
    body = single_change_body(
        target.waba_id,
        messages_change(
            "999" + digits(),
            messages=[text_message(f"wamid.nobody.{uuid4().hex}", "4915100000003", "\udc80 stray")],
            names={"4915100000003": "Eve"},
        ),
    )
    raw = json.dumps(body).encode()
    response = http.post("/webhooks", content=raw, headers={"X-Hub-Signature-256": sign(raw, APP_SECRET)})
    assert response.status_code == 200, response.text
    assert db.logged(as_logged(raw)) == 1
    assert db.logged_outcome(as_logged(raw)) == "unknown_phone_number"


def test_a_body_of_three_megabytes_is_taken_and_a_larger_one_refused_before_it_is_read(
    http: httpx.Client, db: Database, target: Target
) -> None:
    wamid = f"wamid.big.{uuid4().hex}"
    body = single_change_body(
        target.waba_id,
        messages_change(
            target.phone_number_id,
            messages=[text_message(wamid, "4915100000004", "a large batch")],
            names={"4915100000004": "Eve"},
        ),
    )
    body["padding"] = "x" * (3 * 1024 * 1024 - 1000)  # Meta's largest bodies are about 3 MB
    raw = json.dumps(body).encode()
    response = http.post("/webhooks", content=raw, headers={"X-Hub-Signature-256": sign(raw, APP_SECRET)})
    assert response.status_code == 200, response.text
    assert db.stored_wamids(target.tenant_id, [wamid]) == {wamid}

    body["padding"] = "x" * WEBHOOK_MAX_BODY_BYTES
    raw = json.dumps(body).encode()
    before = db.snapshot(target.tenant_id)
    response = http.post("/webhooks", content=raw, headers={"X-Hub-Signature-256": sign(raw, APP_SECRET)})
    assert response.status_code == 413
    assert response.json()["status"] == "error"
    assert db.snapshot(target.tenant_id) == before
