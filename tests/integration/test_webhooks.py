"""Meta's webhook end to end: real HTTP into the real app, real PostgreSQL behind it.

Every test posts bodies the way Meta does (raw JSON, `X-Hub-Signature-256` with the channel's app secret)
and then reads what was stored: through the API where it shows it, and with SQL for what it does not
(reactions, the webhook log rows that belong to no tenant, channel ids).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pywhatsapp.adapters.persistence.database import async_url
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from pywhatsapp.entrypoints.http.routes.webhooks import WEBHOOK_MAX_BODY_BYTES
from tests.integration.conftest import Member, add_tenant_with_user, make_settings, token_for
from tests.support.live_server import LiveServer
from tests.support.meta_samples import (
    SAMPLES_DIR,
    Body,
    SampleRewriter,
    load_samples,
    messages_change,
    messages_of,
    profile_names,
    reaction_message,
    sign,
    single_change_body,
    status_item,
    statuses_of,
    text_message,
    webhook_body,
)
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

SIGNATURE = "X-Hub-Signature-256"
APP_SECRET = "meta-app-secret-for-tests-0123456789"
ENV_VERIFY_TOKEN = "verify-token-from-the-environment"
TEMPLATE_FIELDS = frozenset(
    {
        "message_template_status_update",
        "template_category_update",
        "message_template_quality_update",
        "message_template_components_update",
    }
)


# --- helpers -------------------------------------------------------------------------------------------


def digits(length: int = 15) -> str:
    """A numeric id no other test (nor the channel directory's 30 s cache) has seen."""
    return str(uuid4().int)[:length]


@dataclass
class TenantChannel:
    member: Member
    token: str
    phone_number_id: str
    waba_id: str
    app_secret: str
    verify_token: str
    channel_id: UUID

    @property
    def tenant_id(self) -> UUID:
        return self.member.tenant_id

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def add_channel(
    client: httpx.AsyncClient,
    token: str,
    *,
    phone_number_id: str | None = None,
    waba_id: str | None = None,
    app_secret: str = APP_SECRET,
    verify_token: str | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/channels",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "phone_number_id": phone_number_id or digits(),
            "access_token": "EAAG-test-access-token",
            "waba_id": waba_id or digits(18),
            "app_secret": app_secret,
            "verify_token": verify_token or f"verify-{uuid4().hex}",
        },
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def tenant_with_channel(
    client: httpx.AsyncClient,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    slug: str,
    *,
    app_secret: str = APP_SECRET,
) -> TenantChannel:
    member = await add_tenant_with_user(uow_factory, f"{slug}-{uuid4().hex[:6]}")
    token = await token_for(client, member.username)
    verify_token = f"verify-{uuid4().hex}"
    channel = await add_channel(client, token, app_secret=app_secret, verify_token=verify_token)
    return TenantChannel(
        member=member,
        token=token,
        phone_number_id=channel["phone_number_id"],
        waba_id=channel["waba_id"],
        app_secret=app_secret,
        verify_token=verify_token,
        channel_id=UUID(channel["id"]),
    )


def raw_json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


async def post_webhook(
    client: httpx.AsyncClient,
    body: Body | bytes,
    app_secret: str | None,
    *,
    content_type: str | None = "application/json",
    signature: str | None = None,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else raw_json(body)
    headers: dict[str, str] = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if signature is not None:
        headers[SIGNATURE] = signature
    elif app_secret is not None:
        headers[SIGNATURE] = sign(raw, app_secret)
    return await client.post("/webhooks", content=raw, headers=headers)


def assert_received(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    envelope: dict[str, Any] = response.json()
    assert envelope["status"] == "ok", envelope
    return envelope


def assert_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    envelope = response.json()
    assert envelope["status"] == "error" and envelope["data"] is None and envelope["message"], envelope


async def list_all(
    client: httpx.AsyncClient, path: str, token: str, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list endpoint (following `next_cursor`, or offsets), and its `total`."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 200, **params}
    total = 0
    for _ in range(100):
        response = await client.get(path, params=query, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        items.extend(data["items"])
        total = data["total"]
        if data.get("next_cursor"):
            query["cursor"] = data["next_cursor"]
        elif "offset" in data and len(items) < total and data["items"]:
            query["offset"] = len(items)
        else:
            break
    return items, total


async def messages_by_wamid(
    client: httpx.AsyncClient, token: str, **params: Any
) -> dict[str, dict[str, Any]]:
    items, total = await list_all(client, "/api/v1/messages", token, **params)
    assert len(items) == total
    by_wamid = {item["wamid"]: item for item in items}
    assert len(by_wamid) == len(items), "a wamid is listed twice"
    return by_wamid


async def log_total(client: httpx.AsyncClient, tenant: TenantChannel) -> int:
    _, total = await list_all(client, "/api/v1/webhooks", tenant.token)
    return total


class Db:
    """Plain SQL on the test database, for what the API does not show."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            result = await connection.execute(sa.text(sql), params)
            return [dict(row) for row in result.mappings()]

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(sa.text(sql), params)).scalar()

    async def log_counts(self, tenant_id: UUID) -> tuple[int, int]:
        """Webhook-log rows of the tenant, and rows of no tenant."""
        row = (
            await self.rows(
                "SELECT count(*) FILTER (WHERE tenant_id = :tenant) AS mine,"
                " count(*) FILTER (WHERE tenant_id IS NULL) AS nobody FROM webhook_logs",
                tenant=tenant_id,
            )
        )[0]
        return int(row["mine"]), int(row["nobody"])

    async def count(self, table: str) -> int:
        return int(await self.scalar(f"SELECT count(*) FROM {table}"))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    engine = create_async_engine(async_url(database_url), pool_size=2)
    yield Db(engine)
    await engine.dispose()


@pytest.fixture(scope="module")
def relaxed_server(database_url: str) -> Iterator[LiveServer]:
    """A second app on the same database, with VALIDATE_UPDATES=false and VERIFY_TOKEN set."""
    settings = make_settings(database_url, VALIDATE_UPDATES="false", VERIFY_TOKEN=ENV_VERIFY_TOKEN)
    with LiveServer(settings) as server:
        yield server


async def add_outgoing(
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    tenant: TenantChannel,
    wamids: list[str],
    *,
    status: MessageStatus = MessageStatus.PENDING,
    channel_id: UUID | None = None,
) -> None:
    """Messages the business sent earlier, so that status webhooks have something to update."""
    async with uow_factory(tenant.tenant_id) as uow:
        for wamid in wamids:
            await uow.messages.add(
                Message(
                    tenant_id=tenant.tenant_id,
                    direction=Direction.OUTGOING,
                    type="text",
                    wa_id="15550001111",
                    wamid=wamid,
                    channel_id=channel_id or tenant.channel_id,
                    status=status,
                    text=f"outgoing {wamid}",
                )
            )
        await uow.commit()


def text_body(
    tenant: TenantChannel,
    wamid: str,
    wa_id: str,
    text: str,
    *,
    timestamp: int = 1_700_000_000,
    name: str = "Ann",
) -> Body:
    return single_change_body(
        tenant.waba_id,
        messages_change(
            tenant.phone_number_id,
            messages=[text_message(wamid, wa_id, text, timestamp=timestamp)],
            names={wa_id: name},
        ),
    )


def status_body(tenant: TenantChannel, *statuses: Body) -> Body:
    """Status bodies come without `contacts`, as in the older API versions."""
    return single_change_body(
        tenant.waba_id, messages_change(tenant.phone_number_id, statuses=list(statuses))
    )


# --- 1. every sample body ------------------------------------------------------------------------------

CAPTIONED = frozenset({"image", "video", "document", "audio", "sticker"})
NOT_STORED_AS_MESSAGES = frozenset({"reaction", "edit", "revoke", "system"})
OLDER_MESSAGES = "older-api-shapes/18.0/message.json"
OLDER_STATUSES = "older-api-shapes/18.0/message_status.json"

STATUS_TARGETS_KEY_131026 = "message_status/status_failed_131026_contact_without_user_id.json"
# Which outgoing message each status sample reports on; the others keep an id that matches no message.
STATUS_TARGETS = {
    "message_status/delivered.json": "out-a",
    "message_status/played.json": "out-a",
    "message_status/read.json": "out-a",
    "message_status/sent.json": "out-a",
    "message_status/failed.json": "out-b",
    STATUS_TARGETS_KEY_131026: "out-c",
    "message_status/with_tracker.json": "out-d",
    f"{OLDER_STATUSES}#sent": "out-e",
    f"{OLDER_STATUSES}#delivered": "out-e",
    f"{OLDER_STATUSES}#read": "out-e",
    f"{OLDER_STATUSES}#failed": "out-f",
}
# delivered, played, read, sent arrive in this order for out-a: played is the furthest and stays.
EXPECTED_OUTGOING_STATUS = {
    "out-a": "played",
    "out-b": "failed",
    "out-c": "failed",
    "out-d": "sent",
    "out-e": "read",
    "out-f": "failed",
}
# Reactions, edits and revokes point at messages of other samples (their own ids match nothing).
REACTION_TARGETS = {
    "message/reaction.json": "message/audio.json",
    "message/unreaction_empty.json": "message/audio.json",
    "message/unreaction_no_emoji.json": "message/audio.json",
    f"{OLDER_MESSAGES}#reaction": f"{OLDER_MESSAGES}#text",
    f"{OLDER_MESSAGES}#unreaction_empty": f"{OLDER_MESSAGES}#text",
    f"{OLDER_MESSAGES}#unreaction_no_emoji": f"{OLDER_MESSAGES}#text",
}
EDIT_TARGETS = {
    "edited_message/image.json": "message/image.json",
    "older-api-shapes/edit_message.json#edit_text": f"{OLDER_MESSAGES}#text",
    "older-api-shapes/edit_message.json#edit_caption": f"{OLDER_MESSAGES}#image",
}
REVOKE_TARGETS = {
    "deleted_message/revoke.json": "message/document.json",
    "older-api-shapes/delete_message.json#original_id": "message/video.json",
    "older-api-shapes/revoked_message.json#revoke": f"{OLDER_MESSAGES}#video",
}
# Meta gives each language version of a template its own id; two older samples reuse another's.
TEMPLATE_ID_FIXES = {
    "older-api-shapes/template_status.json#approved": 87654321,
    "older-api-shapes/18.0/template_status.json#approved": 87654321,
}
EXPECTED_TEMPLATES = {
    # (name, language): (status, category, quality score)
    ("order_confirmation", "en_US"): ("APPROVED", "UTILITY", None),
    ("abandoned_cart", "en"): ("REJECTED", "MARKETING", None),
    ("my_message_template", "he"): ("PENDING", "MARKETING", None),
    ("welcome_template", "en_US"): ("PENDING", None, "YELLOW"),
    ("my_message_template", "pt-BR"): ("APPROVED", None, None),
}


def readable_text(message: Body) -> tuple[bool, str | None]:
    """(whether the test knows what `text` must be, the text): bodies, captions, button and list titles."""
    kind = message.get("type")
    own = message.get(kind) if isinstance(kind, str) else None
    own = own if isinstance(own, dict) else {}
    if kind == "text":
        return True, own.get("body")
    if kind in CAPTIONED:
        return True, own.get("caption") or None
    if kind == "button":
        return True, own.get("text")
    if kind == "interactive":
        for reply in ("button_reply", "list_reply"):
            if isinstance(own.get(reply), dict):
                return True, own[reply]["title"]
    return False, None


@dataclass
class ExpectedMessage:
    sample: str
    wa_id: str
    type: str
    text_known: bool
    text: str | None
    context_wamid: str | None
    forwarded: bool
    frequently_forwarded: bool
    status: str = "received"


def is_for_tenant(body: Body, tenant: TenantChannel) -> bool:
    for entry in body.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if (value.get("metadata") or {}).get("phone_number_id") == tenant.phone_number_id:
                return True
            if change.get("field") in TEMPLATE_FIELDS and entry.get("id") == tenant.waba_id:
                return True
    return False


def kinds_of(body: Body) -> set[str]:
    return {str(message.get("type")) for message in messages_of(body)}


async def test_every_sample_body_is_accepted_and_stored_as_the_right_records(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, db: Db
) -> None:
    assert SAMPLES_DIR.is_dir(), f"the Meta webhook samples belong in {SAMPLES_DIR}"
    samples = load_samples()
    assert len({sample.key.split("#")[0] for sample in samples}) >= 89  # every file, each named body
    tenant = await tenant_with_channel(client, uow_factory, "samples")
    rewriter = SampleRewriter(phone_number_id=tenant.phone_number_id, waba_id=tenant.waba_id, run="smp")
    bodies = {sample.key: rewriter.rewrite(sample.body) for sample in samples}

    outgoing = {name: f"wamid.out.{name}.{uuid4().hex[:8]}" for name in EXPECTED_OUTGOING_STATUS}
    await add_outgoing(uow_factory, tenant, list(outgoing.values()))
    for key, target in STATUS_TARGETS.items():
        (status,) = statuses_of(bodies[key])
        status["id"] = outgoing[target]
    unknown_status_wamids = {
        status["id"]
        for key, body in bodies.items()
        if key not in STATUS_TARGETS
        for status in statuses_of(body)
    }

    def first_message(key: str) -> Body:
        return messages_of(bodies[key])[0]

    reaction_sender: dict[str, str] = {}
    for key, target in REACTION_TARGETS.items():
        (reaction,) = messages_of(bodies[key])
        reaction["reaction"]["message_id"] = first_message(target)["id"]
        # One customer reacts, then takes the reaction back: the same person each time.
        reaction["from"] = reaction_sender.setdefault(target, reaction["from"])
    for key, target in EDIT_TARGETS.items():
        first_message(key)["edit"]["original_message_id"] = first_message(target)["id"]
    for key, target in REVOKE_TARGETS.items():
        first_message(key)["revoke"]["original_message_id"] = first_message(target)["id"]
    for key, template_id in TEMPLATE_ID_FIXES.items():
        for value in [change["value"] for entry in bodies[key]["entry"] for change in entry["changes"]]:
            value["message_template_id"] = template_id

    # What must be stored: one message per inbound message id of a kind that is a message.
    expected: dict[str, ExpectedMessage] = {}
    names: dict[str, str] = {}
    for key, body in bodies.items():
        body_names = profile_names(body)
        for message in messages_of(body):
            if message.get("type") in NOT_STORED_AS_MESSAGES:
                continue
            context = message.get("context") or {}
            known, text = readable_text(message)
            expected[message["id"]] = ExpectedMessage(
                sample=key,
                wa_id=message["from"],
                type=message["type"],
                text_known=known,
                text=text,
                context_wamid=context.get("id"),
                forwarded=context.get("forwarded") is True,
                frequently_forwarded=context.get("frequently_forwarded") is True,
            )
            if message["from"] in body_names:
                names[message["from"]] = body_names[message["from"]]
    for key, target in EDIT_TARGETS.items():
        new = first_message(key)["edit"]["message"]
        known, text = readable_text(new)
        assert known
        original = expected[first_message(target)["id"]]
        original.text, original.text_known = text, True
    for target in REVOKE_TARGETS.values():
        original = expected[first_message(target)["id"]]
        original.status, original.text, original.text_known = "deleted", None, True

    # Messages first, then what refers to them (reactions, edits, revokes), each body on its own.
    refers = {key for key, body in bodies.items() if kinds_of(body) & {"reaction", "edit", "revoke"}}
    order = [key for key in bodies if key not in refers] + [key for key in bodies if key in refers]
    logged_mine, logged_nobody = await db.log_counts(tenant.tenant_id)
    for key in order:
        body = bodies[key]
        envelope = assert_received(await post_webhook(client, body, tenant.app_secret))
        assert envelope["data"]["outcome"] in {"processed", "unknown_phone_number"}, (key, envelope)
        mine, nobody = await db.log_counts(tenant.tenant_id)
        if is_for_tenant(body, tenant):
            assert (mine, nobody) == (logged_mine + 1, logged_nobody), (
                f"{key}: not logged once for the tenant"
            )
        else:
            assert (mine, nobody) == (logged_mine, logged_nobody + 1), (
                f"{key}: not logged once without tenant"
            )
        logged_mine, logged_nobody = mine, nobody
        if key in REACTION_TARGETS:
            (reaction,) = messages_of(body)
            target = reaction["reaction"]["message_id"]
            rows = await db.rows(
                "SELECT r.emoji, r.message_id, m.id AS target_id FROM reactions r"
                " JOIN messages m ON m.wamid = r.target_wamid AND m.tenant_id = r.tenant_id"
                " WHERE r.tenant_id = :tenant AND r.target_wamid = :target",
                tenant=tenant.tenant_id,
                target=target,
            )
            assert len(rows) == 1, (key, rows)
            assert rows[0]["emoji"] == (reaction["reaction"].get("emoji") or None), key
            assert rows[0]["message_id"] == rows[0]["target_id"], (
                f"{key}: reaction not attached to its message"
            )

    # Every inbound message stored once, as the right record.
    stored = await messages_by_wamid(client, tenant.token, direction="incoming")
    assert set(stored) == set(expected), {
        "missing": sorted((expected[w].sample, w) for w in set(expected) - set(stored)),
        "unexpected": sorted(set(stored) - set(expected)),
    }
    for wamid, want in expected.items():
        got = stored[wamid]
        where = f"{want.sample} ({wamid})"
        assert got["type"] == want.type, where
        assert got["wa_id"] == want.wa_id, where
        assert got["status"] == want.status, where
        if want.text_known:
            assert got["text"] == want.text, where
        assert got["context_wamid"] == want.context_wamid, where
        if want.status == "deleted":  # what the customer deleted is not kept
            assert got["content"].get("deleted") is True, where
            continue
        assert bool(got["content"].get("forwarded")) is want.forwarded, where
        assert bool(got["content"].get("frequently_forwarded")) is want.frequently_forwarded, where

    # Statuses changed the messages they are about, and created none.
    sent = await messages_by_wamid(client, tenant.token, direction="outgoing")
    assert set(sent) == set(outgoing.values())
    for name, wamid in outgoing.items():
        assert sent[wamid]["status"] == EXPECTED_OUTGOING_STATUS[name], name
    for name, key in (("out-b", "message_status/failed.json"), ("out-c", STATUS_TARGETS_KEY_131026)):
        (status,) = statuses_of(bodies[key])
        error = status["errors"][0]
        assert (sent[outgoing[name]]["error_code"], sent[outgoing[name]]["error_title"]) == (
            error["code"],
            error["title"],
        )
    assert sent[outgoing["out-c"]]["error_code"] == 131026
    stray = await db.scalar(
        "SELECT count(*) FROM messages WHERE wamid = ANY(:wamids)", wamids=sorted(unknown_status_wamids)
    )
    assert stray == 0

    # Contacts, with the profile names WhatsApp sent.
    contacts, _ = await list_all(client, "/api/v1/contacts", tenant.token)
    contact_names = {contact["wa_id"]: contact["name"] for contact in contacts}
    assert {want.wa_id for want in expected.values()} <= set(contact_names)
    for wa_id, name in names.items():
        assert contact_names[wa_id] == name, wa_id

    # Templates: status, category and quality updates, routed by the channel's WABA id.
    templates, _ = await list_all(client, "/api/v1/templates", tenant.token)
    by_key = {(t["name"], t["language"]): (t["status"], t["category"], t["quality_score"]) for t in templates}
    assert by_key == EXPECTED_TEMPLATES
    reason = await db.scalar(
        "SELECT rejected_reason FROM message_templates WHERE tenant_id = :tenant AND name = 'abandoned_cart'",
        tenant=tenant.tenant_id,
    )
    assert reason == "INVALID_FORMAT"

    # The log, as the API shows it: one row per body about this tenant.
    assert await log_total(client, tenant) == sum(is_for_tenant(body, tenant) for body in bodies.values())


# --- 2. batched bodies ---------------------------------------------------------------------------------


async def test_a_batched_body_is_processed_item_by_item(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, db: Db
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "batch")
    # A second phone number of the same tenant, under another WABA of the same Meta app (same secret).
    second = await add_channel(client, tenant.token, app_secret=tenant.app_secret)
    channels = [
        (tenant.waba_id, tenant.phone_number_id, tenant.channel_id),
        (second["waba_id"], second["phone_number_id"], UUID(second["id"])),
    ]
    run = uuid4().hex[:6]
    entries: list[tuple[str, list[Body]]] = []
    inbound: dict[str, tuple[str, str, UUID]] = {}  # wamid -> (sender, text, channel id)
    statuses: dict[str, str] = {}  # outgoing wamid -> status reported
    customers: dict[str, str] = {}
    timestamp = 1_700_000_000
    for e, (waba_id, phone_number_id, channel_id) in enumerate(channels):
        senders = [f"4420{e}{k}{digits(6)}" for k in range(2)]
        customers.update({sender: f"Customer {e}-{k}" for k, sender in enumerate(senders)})
        entry_changes: list[Body] = []
        for c in range(2):
            messages = []
            for k in range(2):
                timestamp += 1
                wamid = f"wamid.batch.{run}.{e}.{c}.{k}"
                text = f"entry {e} change {c} message {k}"
                messages.append(text_message(wamid, senders[k], text, timestamp=timestamp))
                inbound[wamid] = (senders[k], text, channel_id)
            change_statuses = []
            for k, status in enumerate(("delivered", "read")):
                wamid = f"wamid.out.{run}.{e}.{c}.{k}"
                change_statuses.append(status_item(wamid, status, senders[k], timestamp=timestamp))
                statuses[wamid] = status
            entry_changes.append(
                messages_change(
                    phone_number_id,
                    messages=messages,
                    statuses=change_statuses,
                    names={sender: customers[sender] for sender in senders},
                )
            )
        entries.append((waba_id, entry_changes))
    await add_outgoing(uow_factory, tenant, sorted(statuses))

    envelope = assert_received(await post_webhook(client, webhook_body(*entries), tenant.app_secret))
    assert envelope["data"]["updates"] == 16

    stored = await messages_by_wamid(client, tenant.token, direction="incoming")
    assert set(stored) == set(inbound)
    for wamid, (sender, text, _) in inbound.items():
        assert (stored[wamid]["wa_id"], stored[wamid]["text"], stored[wamid]["type"]) == (
            sender,
            text,
            "text",
        )
    rows = await db.rows(
        "SELECT wamid, channel_id FROM messages WHERE tenant_id = :tenant AND direction = 'incoming'",
        tenant=tenant.tenant_id,
    )
    assert {row["wamid"]: row["channel_id"] for row in rows} == {w: v[2] for w, v in inbound.items()}

    sent = await messages_by_wamid(client, tenant.token, direction="outgoing")
    assert {wamid: item["status"] for wamid, item in sent.items()} == statuses

    contacts, _ = await list_all(client, "/api/v1/contacts", tenant.token)
    assert {c["wa_id"]: c["name"] for c in contacts} == customers

    conversations, total = await list_all(client, "/api/v1/conversations", tenant.token)
    assert total == 4
    latest = {sender: max(w for w, v in inbound.items() if v[0] == sender) for sender in customers}
    for conversation in conversations:
        wa_id = conversation["contact"]["wa_id"] if "contact" in conversation else conversation["wa_id"]
        assert conversation["unread_count"] == 2, conversation
        if conversation.get("last_message") is not None:
            assert conversation["last_message"]["wamid"] == latest[wa_id]

    logs, total = await list_all(client, "/api/v1/webhooks", tenant.token)
    assert total == 1 and logs[0]["item_count"] == 16 and logs[0]["outcome"] == "processed"


# --- 3. duplicates and tenants -------------------------------------------------------------------------


def reordered(value: Any) -> Any:
    """The same JSON with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {key: reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(item) for item in value]
    return value


async def test_the_same_message_delivered_again_is_stored_once(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, db: Db
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "dupes")
    wamid = f"wamid.dup.{uuid4().hex}"
    body = text_body(tenant, wamid, "33611111111", "hello once")

    assert_received(await post_webhook(client, body, tenant.app_secret))
    assert_received(await post_webhook(client, body, tenant.app_secret))
    again = json.dumps(reordered(body), indent=3, separators=(" ,", " :  ")).encode() + b"\n\n"
    assert again != raw_json(body) and json.loads(again) == body
    assert_received(await post_webhook(client, again, tenant.app_secret))

    # Meta retrying while the first delivery is still being handled: five at once.
    other = f"wamid.dup.{uuid4().hex}"
    racing = text_body(tenant, other, "33611111111", "hello, racing")
    answers = await asyncio.gather(*(post_webhook(client, racing, tenant.app_secret) for _ in range(5)))
    for answer in answers:
        assert_received(answer)

    stored = await messages_by_wamid(client, tenant.token)
    assert set(stored) == {wamid, other}
    assert stored[wamid]["text"] == "hello once"
    conversations, total = await list_all(client, "/api/v1/conversations", tenant.token)
    assert total == 1 and conversations[0]["unread_count"] == 2
    assert await db.scalar("SELECT count(*) FROM messages WHERE tenant_id = :t", t=tenant.tenant_id) == 2
    assert await log_total(client, tenant) == 8  # every delivery is logged


async def test_each_tenant_gets_only_its_own_messages_and_may_share_a_wamid(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    first = await tenant_with_channel(client, uow_factory, "first", app_secret="first-app-secret-0123")
    second = await tenant_with_channel(client, uow_factory, "second", app_secret="second-app-secret-0123")
    mine = {first.tenant_id: f"wamid.first.{uuid4().hex}", second.tenant_id: f"wamid.second.{uuid4().hex}"}
    shared = f"wamid.shared.{uuid4().hex}"
    for tenant in (first, second):
        own = text_body(tenant, mine[tenant.tenant_id], "4915111111111", f"to {tenant.member.tenant_slug}")
        assert_received(await post_webhook(client, own, tenant.app_secret))
        same = text_body(tenant, shared, "4915111111111", "the same id at two numbers")
        assert_received(await post_webhook(client, same, tenant.app_secret))

    for tenant in (first, second):
        stored = await messages_by_wamid(client, tenant.token)
        assert set(stored) == {mine[tenant.tenant_id], shared}, tenant.member.tenant_slug
        assert stored[mine[tenant.tenant_id]]["text"] == f"to {tenant.member.tenant_slug}"
        contacts, total = await list_all(client, "/api/v1/contacts", tenant.token)
        assert total == 1 and contacts[0]["wa_id"] == "4915111111111"
        assert await log_total(client, tenant) == 2


async def test_a_body_for_a_phone_number_nobody_owns_is_logged_without_tenant(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, db: Db
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "bystander")
    stranger = digits()
    body = single_change_body(
        digits(18),
        messages_change(stranger, messages=[text_message(f"wamid.{uuid4().hex}", "4411111111", "hi")]),
    )
    envelope = assert_received(await post_webhook(client, body, "whatever-secret"))
    assert envelope["data"]["outcome"] == "unknown_phone_number"
    rows = await db.rows("SELECT tenant_id, outcome, reason, phone_number_id FROM webhook_logs")
    assert len(rows) == 1 and rows[0]["tenant_id"] is None and rows[0]["outcome"] == "unknown_phone_number"
    assert stranger in rows[0]["reason"]
    assert await db.count("messages") == 0 and await db.count("contacts") == 0
    assert await log_total(client, tenant) == 0


# --- 4. statuses out of order --------------------------------------------------------------------------


async def test_statuses_only_move_a_message_forward(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, db: Db
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "statuses")
    run = uuid4().hex[:8]
    backwards, late_failure, failure = (f"wamid.{run}.{name}" for name in ("back", "late", "fail"))
    await add_outgoing(uow_factory, tenant, [backwards])
    await add_outgoing(uow_factory, tenant, [late_failure, failure], status=MessageStatus.SENT)
    customer = "5511999999999"

    for status, at in (("read", 30), ("delivered", 20), ("sent", 10)):
        item = status_item(backwards, status, customer, timestamp=1_700_000_000 + at)
        assert_received(await post_webhook(client, status_body(tenant, item), tenant.app_secret))
    undeliverable = (131026, "Message undeliverable")
    for item in (
        status_item(late_failure, "delivered", customer),
        status_item(late_failure, "failed", customer, error=undeliverable),
        status_item(failure, "failed", customer, error=undeliverable),
        status_item(failure, "delivered", customer),  # nothing comes after a failure
    ):
        assert_received(await post_webhook(client, status_body(tenant, item), tenant.app_secret))

    before = await db.rows("SELECT wamid, status, updated_at FROM messages ORDER BY wamid")
    unknown = status_item(f"wamid.{run}.unknown", "read", customer)
    envelope = assert_received(await post_webhook(client, status_body(tenant, unknown), tenant.app_secret))
    assert envelope["data"]["outcome"] == "processed"
    assert await db.rows("SELECT wamid, status, updated_at FROM messages ORDER BY wamid") == before

    stored = await messages_by_wamid(client, tenant.token)
    assert set(stored) == {backwards, late_failure, failure}
    assert stored[backwards]["status"] == "read"
    assert (stored[late_failure]["status"], stored[late_failure]["error_code"]) == ("delivered", None)
    assert stored[failure]["status"] == "failed"
    assert (stored[failure]["error_code"], stored[failure]["error_title"]) == undeliverable
    assert await log_total(client, tenant) == 8


# --- 5. reactions before their message -----------------------------------------------------------------


async def test_a_reaction_before_its_message_is_kept_and_attached_later(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, db: Db
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "reactions")
    customer = "34600000000"
    target = f"wamid.later.{uuid4().hex}"

    def react(emoji: str | None) -> Body:
        item = reaction_message(f"wamid.r.{uuid4().hex}", customer, target, emoji)
        return single_change_body(
            tenant.waba_id, messages_change(tenant.phone_number_id, messages=[item], names={customer: "Rosa"})
        )

    async def reactions() -> list[dict[str, Any]]:
        return await db.rows(
            "SELECT emoji, message_id, wa_id FROM reactions WHERE tenant_id = :t AND target_wamid = :target",
            t=tenant.tenant_id,
            target=target,
        )

    assert_received(await post_webhook(client, react("👍"), tenant.app_secret))
    assert await reactions() == [{"emoji": "👍", "message_id": None, "wa_id": customer}]
    assert await messages_by_wamid(client, tenant.token) == {}

    assert_received(
        await post_webhook(client, text_body(tenant, target, customer, "the message"), tenant.app_secret)
    )
    message_id = UUID((await messages_by_wamid(client, tenant.token))[target]["id"])
    assert await reactions() == [{"emoji": "👍", "message_id": message_id, "wa_id": customer}]

    assert_received(await post_webhook(client, react("❤️"), tenant.app_secret))
    assert await reactions() == [{"emoji": "❤️", "message_id": message_id, "wa_id": customer}]
    assert_received(await post_webhook(client, react(None), tenant.app_secret))
    assert await reactions() == [{"emoji": None, "message_id": message_id, "wa_id": customer}]
    assert set(await messages_by_wamid(client, tenant.token)) == {target}


# --- 6. opt-out keywords -------------------------------------------------------------------------------


async def opted_out(client: httpx.AsyncClient, tenant: TenantChannel) -> dict[str, bool]:
    contacts, _ = await list_all(client, "/api/v1/contacts", tenant.token)
    return {contact["wa_id"]: contact["opted_out"] for contact in contacts}


async def test_stop_opts_a_contact_out_and_start_back_in(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "optout")
    stopper, shouter, chatty = "3312345670", "3312345671", "3312345672"
    at = 1_700_000_000

    async def say(wa_id: str, text: str) -> None:
        nonlocal at
        at += 10
        body = text_body(tenant, f"wamid.{uuid4().hex}", wa_id, text, timestamp=at)
        assert_received(await post_webhook(client, body, tenant.app_secret))

    await say(stopper, "hello")
    await say(shouter, "hi")
    await say(chatty, "please stop sending me the menu")
    assert await opted_out(client, tenant) == {stopper: False, shouter: False, chatty: False}

    await say(stopper, "STOP")
    await say(shouter, " stop! ")
    await say(chatty, "stop it, I said hello")
    assert await opted_out(client, tenant) == {stopper: True, shouter: True, chatty: False}

    await say(stopper, "START")
    assert await opted_out(client, tenant) == {stopper: False, shouter: True, chatty: False}


async def test_an_older_start_delivered_after_a_newer_stop_leaves_the_contact_opted_out(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    """Webhooks arrive in any order: what the customer said last (by Meta's timestamp) must win."""
    tenant = await tenant_with_channel(client, uow_factory, "optorder")
    customer = "3312345679"
    start = text_body(tenant, f"wamid.{uuid4().hex}", customer, "START", timestamp=1_700_000_100)
    stop = text_body(tenant, f"wamid.{uuid4().hex}", customer, "STOP", timestamp=1_700_000_200)
    assert_received(await post_webhook(client, stop, tenant.app_secret))
    assert_received(await post_webhook(client, start, tenant.app_secret))  # delayed retry of the older one
    assert await opted_out(client, tenant) == {customer: True}


# --- 7. signatures -------------------------------------------------------------------------------------


async def test_signatures_are_checked_with_the_channels_app_secret(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, db: Db
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "signed")
    wamid = f"wamid.signed.{uuid4().hex}"
    body = text_body(tenant, wamid, "4477000000", "signed or not")
    raw = raw_json(body)

    assert_error(await post_webhook(client, raw, None), 401)
    for forged in (
        sign(raw, "not-the-app-secret"),
        sign(raw + b" ", tenant.app_secret),  # a signature of other bytes
        sign(raw, tenant.app_secret).removeprefix("sha256="),
        "sha256=",
        "garbage",
    ):
        assert_error(await post_webhook(client, raw, None, signature=forged), 403)
    assert await db.count("messages") == 0
    assert await db.count("contacts") == 0
    assert await db.count("webhook_logs") == 0

    assert_received(await post_webhook(client, raw, None, signature=sign(raw, tenant.app_secret)))
    assert set(await messages_by_wamid(client, tenant.token)) == {wamid}
    assert await log_total(client, tenant) == 1


async def test_with_validate_updates_off_an_unsigned_body_is_accepted(
    relaxed_server: LiveServer, client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "relaxed")
    wamid = f"wamid.unsigned.{uuid4().hex}"
    async with httpx.AsyncClient(base_url=relaxed_server.url, timeout=30) as relaxed:
        envelope = assert_received(
            await post_webhook(relaxed, text_body(tenant, wamid, "4477000001", "no signature"), None)
        )
    assert envelope["data"]["outcome"] == "processed"
    assert set(await messages_by_wamid(client, tenant.token)) == {wamid}
    # The app that checks signatures still refuses the same kind of body.
    other = text_body(tenant, f"wamid.{uuid4().hex}", "4477000001", "no signature here either")
    assert_error(await post_webhook(client, other, None), 401)


# --- 8. bad input --------------------------------------------------------------------------------------


async def test_bodies_that_do_not_parse_are_logged_as_unparseable_and_acknowledged(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, db: Db
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "garbage")
    bodies = [
        b'{"object": "whatsapp_business_account", "entry": [',
        b"not json at all",
        b"[]",
        b"{}",
        b'"entry"',
        b"null",
        b'{"object": "whatsapp_business_account", "entry": {"id": "1"}}',
    ]
    for raw in bodies:
        envelope = assert_received(await post_webhook(client, raw, tenant.app_secret))
        assert envelope["data"]["outcome"] == "unparseable", raw
    rows = await db.rows("SELECT tenant_id, outcome, reason, raw_body FROM webhook_logs")
    assert sorted(row["raw_body"] for row in rows) == sorted(raw.decode() for raw in bodies)
    for row in rows:
        assert row["tenant_id"] is None and row["outcome"] == "unparseable" and row["reason"], row
    assert await db.count("messages") == 0
    assert await log_total(client, tenant) == 0


async def test_unparseable_bodies_with_bytes_postgresql_cannot_store_are_still_logged(
    client: httpx.AsyncClient, db: Db
) -> None:
    """Flow 1: a body that does not parse is logged with the reason and answered 200, whatever its bytes."""
    for raw in (b'{"entry": [\x00', b"\xff\xfe\xfd not utf-8"):
        envelope = assert_received(await post_webhook(client, raw, None))
        assert envelope["data"]["outcome"] == "unparseable", raw
    rows = await db.rows("SELECT tenant_id, outcome FROM webhook_logs")
    assert rows == [{"tenant_id": None, "outcome": "unparseable"}] * 2


async def test_a_message_whose_text_holds_a_nul_character_is_accepted(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    """Valid JSON may carry "\\u0000", which PostgreSQL text and jsonb refuse: Meta must not retry forever."""
    tenant = await tenant_with_channel(client, uow_factory, "nul")
    wamid = f"wamid.nul.{uuid4().hex}"
    body = text_body(tenant, wamid, "4478000001", "before\u0000after")
    assert b"\\u0000" in raw_json(body)
    assert_received(await post_webhook(client, body, tenant.app_secret))
    stored = await messages_by_wamid(client, tenant.token)
    assert set(stored) == {wamid}
    assert stored[wamid]["text"].startswith("before") and stored[wamid]["text"].endswith("after")
    assert await log_total(client, tenant) == 1


async def test_an_oversized_body_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, db: Db
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "huge")
    body = text_body(tenant, f"wamid.{uuid4().hex}", "4478000000", "x" * 64)
    raw = raw_json(body)
    padded = raw[:-1] + b" " * (WEBHOOK_MAX_BODY_BYTES + 1 - len(raw)) + b"}"
    assert len(padded) == WEBHOOK_MAX_BODY_BYTES + 1 and json.loads(padded) == body
    response = await post_webhook(client, padded, tenant.app_secret)
    assert_error(response, 413)
    assert await db.count("webhook_logs") == 0
    assert await db.count("messages") == 0


async def test_a_wrong_or_missing_content_type_is_accepted(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "ctype")
    wamids = []
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/octet-stream", None):
        wamid = f"wamid.{uuid4().hex}"
        wamids.append(wamid)
        body = text_body(tenant, wamid, "4479000000", f"sent as {content_type}")
        assert_received(await post_webhook(client, body, tenant.app_secret, content_type=content_type))
    assert set(await messages_by_wamid(client, tenant.token)) == set(wamids)


# --- 9. the subscription challenge ---------------------------------------------------------------------


async def test_the_subscription_challenge_echoes_for_a_known_verify_token_only(
    relaxed_server: LiveServer, client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    tenant = await tenant_with_channel(client, uow_factory, "challenge")

    def query(token: str, mode: str = "subscribe", challenge: str | None = "1158201444") -> dict[str, str]:
        params = {"hub.mode": mode, "hub.verify_token": token}
        if challenge is not None:
            params["hub.challenge"] = challenge
        return params

    response = await client.get("/webhooks", params=query(tenant.verify_token))
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")

    async with httpx.AsyncClient(base_url=relaxed_server.url, timeout=30) as relaxed:
        response = await relaxed.get("/webhooks", params=query(ENV_VERIFY_TOKEN, challenge="abc-123"))
        assert (response.status_code, response.text) == (200, "abc-123")
        assert response.headers["content-type"].startswith("text/plain")
        # The channel's token works on every instance: they share the database.
        response = await relaxed.get("/webhooks", params=query(tenant.verify_token, challenge="42"))
        assert (response.status_code, response.text) == (200, "42")

    for params in (
        query("wrong-token"),
        query(ENV_VERIFY_TOKEN),  # not configured on this instance
        query(tenant.verify_token, mode="unsubscribe"),
        query(tenant.verify_token, challenge=None),
        {"hub.challenge": "1"},
    ):
        assert_error(await client.get("/webhooks", params=params), 403)

    # A channel switched off no longer answers Meta's challenge.
    response = await client.patch(
        f"/api/v1/channels/{tenant.channel_id}", headers=tenant.auth, json={"is_active": False}
    )
    assert response.status_code == 200, response.text
    assert_error(await client.get("/webhooks", params=query(tenant.verify_token)), 403)


# --- 10. the database goes away ------------------------------------------------------------------------


async def test_database_down_answers_503_and_metas_retry_stores_the_message_once(
    database_url: str, uow_factory: SqlAlchemyUnitOfWorkFactory, db: Db
) -> None:
    url = make_url(async_url(database_url))
    if not url.host or url.host.startswith("/"):
        pytest.skip("the database is reached over a unix socket; set TEST_DATABASE_URL to a TCP server")
    with TcpProxy(url.host, url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        with LiveServer(make_settings(proxied)) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                tenant = await tenant_with_channel(http, uow_factory, "dbdown")
                before = text_body(tenant, f"wamid.{uuid4().hex}", "4916000000", "before the outage")
                assert_received(await post_webhook(http, before, tenant.app_secret))
                assert proxy.connections_made > 0  # the app reaches PostgreSQL through the proxy

                proxy.cut()
                wamid = f"wamid.outage.{uuid4().hex}"
                during = text_body(tenant, wamid, "4916000000", "during the outage")
                response = await post_webhook(http, during, tenant.app_secret)
                assert_error(response, 503)
                assert await db.scalar("SELECT count(*) FROM messages WHERE wamid = :w", w=wamid) == 0

                proxy.restore()
                deadline = time.monotonic() + 15
                while True:  # Meta retries until it gets a 200
                    response = await post_webhook(http, during, tenant.app_secret)
                    if response.status_code == 200 or time.monotonic() > deadline:
                        break
                    assert_error(response, 503)
                    await asyncio.sleep(0.2)
                assert_received(response)
                assert_received(await post_webhook(http, during, tenant.app_secret))  # and once more

                stored = await messages_by_wamid(http, tenant.token)
    assert stored[wamid]["text"] == "during the outage"
    assert len(stored) == 2
    assert await db.scalar("SELECT count(*) FROM messages WHERE wamid = :w", w=wamid) == 1
    assert (
        await db.scalar("SELECT unread_count FROM conversations WHERE tenant_id = :t", t=tenant.tenant_id)
        == 2
    )
