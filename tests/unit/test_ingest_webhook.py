"""Meta's webhook from raw bytes to stored, announced inbox state: `IngestWebhook` with `UpdateApplier`.

Bodies are built here in Meta's shape and signed with the channel's app secret, as Meta does; the stores
are the fakes, whose inbox writes idempotently like the SQL one and whose events appear only on commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from pywhatsapp.application.common.unit_of_work import UnitOfWork
from pywhatsapp.application.webhooks.apply_update import UpdateApplier
from pywhatsapp.application.webhooks.ingest_webhook import IngestReport, IngestWebhook
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.errors import SignatureInvalid, SignatureMissing
from pywhatsapp.domain.messaging.conversation import Conversation
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from pywhatsapp.domain.messaging.opt_out import OptOutKeywords
from pywhatsapp.domain.messaging.reaction import Reaction
from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.webhooks.signature import sign
from pywhatsapp.domain.webhooks.updates import Update
from pywhatsapp.domain.webhooks.webhook_log import WebhookLogEntry, WebhookOutcome
from tests.unit.conftest import World
from tests.unit.fakes import FakeChannelDirectory, FakeUnitOfWorkFactory

APP_SECRET = "meta-app-secret-shared-by-the-app"
ACME_PNID = "100000000000001"
ACME_WABA = "900000000000001"
GLOBEX_PNID = "200000000000002"
GLOBEX_WABA = "900000000000002"
CUSTOMER = "4915112345678"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


# --- Meta's body shape ------------------------------------------------------------------------------------


def at(seconds: int) -> str:
    return str(int((T0 + timedelta(seconds=seconds)).timestamp()))


def text(wamid: str, body: str, *, seconds: int = 0, sender: str = CUSTOMER) -> dict[str, Any]:
    return {"from": sender, "id": wamid, "timestamp": at(seconds), "type": "text", "text": {"body": body}}


def image(wamid: str, caption: str, *, seconds: int = 0) -> dict[str, Any]:
    return {
        "from": CUSTOMER,
        "id": wamid,
        "timestamp": at(seconds),
        "type": "image",
        "image": {"id": "media-1", "mime_type": "image/jpeg", "caption": caption},
    }


def reaction(wamid: str, target: str, emoji: str, *, seconds: int = 0) -> dict[str, Any]:
    return {
        "from": CUSTOMER,
        "id": wamid,
        "timestamp": at(seconds),
        "type": "reaction",
        "reaction": {"message_id": target, "emoji": emoji},
    }


def edit(wamid: str, original: str, body: str, *, seconds: int = 0) -> dict[str, Any]:
    return {
        "from": CUSTOMER,
        "id": wamid,
        "timestamp": at(seconds),
        "type": "edit",
        "edit": {"original_message_id": original, "message": {"type": "text", "text": {"body": body}}},
    }


def revoke(wamid: str, original: str, *, seconds: int = 0) -> dict[str, Any]:
    return {
        "from": CUSTOMER,
        "id": wamid,
        "timestamp": at(seconds),
        "type": "revoke",
        "revoke": {"original_message_id": original},
    }


def status(
    wamid: str,
    name: str,
    *,
    seconds: int = 0,
    error: tuple[int, str] | None = None,
    callback: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": wamid,
        "status": name,
        "timestamp": at(seconds),
        "recipient_id": CUSTOMER,
    }
    if error is not None:
        item["errors"] = [{"code": error[0], "title": error[1]}]
    if callback is not None:
        item["biz_opaque_callback_data"] = callback
    return item


def messages_change(
    pnid: str,
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    profile: str = "Ana",
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": pnid},
    }
    if messages is not None:
        value["contacts"] = [{"profile": {"name": profile}, "wa_id": CUSTOMER}]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {"field": "messages", "value": value}


def template_change(event: str, *, reason: str = "NONE", template_id: int = 5555) -> dict[str, Any]:
    return {
        "field": "message_template_status_update",
        "value": {
            "event": event,
            "message_template_id": template_id,
            "message_template_name": "welcome",
            "message_template_language": "en_US",
            "reason": reason,
        },
    }


def body(*entries: tuple[str, list[dict[str, Any]]]) -> bytes:
    """A webhook body with one entry per (WABA id, changes)."""
    document = {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba, "changes": changes} for waba, changes in entries],
    }
    return json.dumps(document).encode()


def acme_messages(*messages: dict[str, Any], profile: str = "Ana") -> bytes:
    return body((ACME_WABA, [messages_change(ACME_PNID, messages=list(messages), profile=profile)]))


def acme_statuses(*statuses: dict[str, Any]) -> bytes:
    return body((ACME_WABA, [messages_change(ACME_PNID, statuses=list(statuses))]))


# --- the system under test --------------------------------------------------------------------------------


@dataclass
class Inbound:
    factory: FakeUnitOfWorkFactory
    directory: FakeChannelDirectory
    ingest: IngestWebhook
    acme: Channel
    globex: Channel
    world: World

    async def deliver(self, raw: bytes, *, secret: str = APP_SECRET) -> IngestReport:
        return await self.ingest.execute(raw, sign(raw, secret))

    def committed_events(self) -> list[tuple[EventType, UUID]]:
        return [(event.type, event.tenant_id) for event in self.factory.published]

    def events(self, event_type: EventType) -> list[RealtimeEvent]:
        return [event for event in self.factory.published if event.type is event_type]

    def messages(self) -> list[Message]:
        rows: list[Message] = self.factory.committed("messages")
        return rows

    def message(self, wamid: str) -> Message:
        (found,) = [m for m in self.messages() if m.wamid == wamid]
        return found

    def contacts(self) -> list[Contact]:
        rows: list[Contact] = self.factory.committed("contacts")
        return rows

    def conversations(self) -> list[Conversation]:
        rows: list[Conversation] = self.factory.committed("conversations")
        return rows

    def reactions(self) -> list[Reaction]:
        rows: list[Reaction] = self.factory.committed("reactions")
        return rows

    def logs(self) -> list[WebhookLogEntry]:
        rows: list[WebhookLogEntry] = self.factory.committed("webhook_logs")
        return rows

    def nothing_stored_or_announced(self) -> bool:
        kinds = ("messages", "contacts", "conversations", "reactions", "templates", "webhook_logs")
        return all(not self.factory.store.records[kind] for kind in kinds) and not self.factory.published


def make_ingest(
    factory: FakeUnitOfWorkFactory,
    directory: FakeChannelDirectory,
    *,
    validate: bool = True,
    applier: UpdateApplier | None = None,
) -> IngestWebhook:
    return IngestWebhook(
        factory, directory, applier or UpdateApplier(OptOutKeywords()), validate_signatures=validate
    )


@pytest.fixture
def inbound(world: World) -> Inbound:
    factory = world.factory
    acme = Channel(
        tenant_id=world.acme.id,
        phone_number_id=ACME_PNID,
        waba_id=ACME_WABA,
        access_token="acme-token",
        app_secret=APP_SECRET,
    )
    globex = Channel(
        tenant_id=world.globex.id,
        phone_number_id=GLOBEX_PNID,
        waba_id=GLOBEX_WABA,
        access_token="globex-token",
        app_secret=APP_SECRET,
    )
    factory.put_record("channels", acme)
    factory.put_record("channels", globex)
    directory = FakeChannelDirectory(factory)
    return Inbound(factory, directory, make_ingest(factory, directory), acme, globex, world)


def outgoing(channel: Channel, wamid: str | None, status_now: MessageStatus = MessageStatus.SENT) -> Message:
    return Message(
        tenant_id=channel.tenant_id,
        direction=Direction.OUTGOING,
        type="text",
        wa_id=CUSTOMER,
        wamid=wamid,
        channel_id=channel.id,
        status=status_now,
        text="Your order shipped",
        timestamp=T0 - timedelta(minutes=5),
    )


# --- a signed message -------------------------------------------------------------------------------------


async def test_signed_message_is_stored_in_the_channel_tenant(inbound: Inbound) -> None:
    report = await inbound.deliver(acme_messages(text("wamid.in1", "Hello")))

    assert report.outcome is WebhookOutcome.PROCESSED
    assert (report.updates, report.tenants, report.unknown_phone_numbers) == (1, [inbound.acme.tenant_id], [])
    (contact,) = inbound.contacts()
    (conversation,) = inbound.conversations()
    message = inbound.message("wamid.in1")
    assert (contact.tenant_id, contact.wa_id, contact.name, contact.last_inbound_at) == (
        inbound.acme.tenant_id,
        CUSTOMER,
        "Ana",
        T0,
    )
    assert message.tenant_id == inbound.acme.tenant_id
    assert (message.direction, message.status, message.type, message.text) == (
        Direction.INCOMING,
        MessageStatus.RECEIVED,
        "text",
        "Hello",
    )
    assert (message.channel_id, message.contact_id, message.conversation_id) == (
        inbound.acme.id,
        contact.id,
        conversation.id,
    )
    assert message.timestamp == T0
    assert (conversation.contact_id, conversation.last_message_id, conversation.unread_count) == (
        contact.id,
        message.id,
        1,
    )
    assert conversation.last_inbound_at == T0


async def test_the_raw_body_is_logged_in_the_tenant(inbound: Inbound) -> None:
    raw = acme_messages(text("wamid.in1", "Hello"))
    await inbound.deliver(raw)

    (log,) = inbound.logs()
    assert log.tenant_id == inbound.acme.tenant_id
    assert (log.outcome, log.phone_number_id, log.field_name, log.item_count) == (
        WebhookOutcome.PROCESSED,
        ACME_PNID,
        "messages",
        1,
    )
    assert log.raw_body == raw.decode()
    assert log.body == json.loads(raw)


async def test_message_and_conversation_are_announced_after_commit(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(text("wamid.in1", "Hello")))

    tenant = inbound.acme.tenant_id
    assert inbound.committed_events() == [
        (EventType.MESSAGE_INCOMING, tenant),
        (EventType.CONVERSATION_UPDATED, tenant),
    ]
    message = inbound.message("wamid.in1")
    (conversation,) = inbound.conversations()
    incoming, updated = inbound.factory.published
    assert incoming.data["id"] == str(message.id)
    assert incoming.data["wamid"] == "wamid.in1"
    assert incoming.data["text"] == "Hello"
    assert incoming.data["conversation_id"] == str(conversation.id)
    assert updated.data["id"] == str(conversation.id)
    assert (updated.data["unread_count"], updated.data["name"], updated.data["opted_out"]) == (
        1,
        "Ana",
        False,
    )
    assert updated.data["last_message_id"] == str(message.id)
    (unit,) = [u for u in inbound.factory.units if u.tenant_id == tenant]
    assert unit.commits == 1
    assert unit.events.pending == []


class FailOnSecondUpdate(UpdateApplier):
    """Applies the first update for real, then fails, as a crash in the middle of a body would."""

    def __init__(self) -> None:
        super().__init__(OptOutKeywords())
        self.applied = 0

    async def apply(self, uow: UnitOfWork, channel: Channel, update: Update) -> None:
        self.applied += 1
        if self.applied == 2:
            raise RuntimeError("worker crashed")
        await super().apply(uow, channel, update)


async def test_a_failure_midway_stores_and_announces_nothing_of_the_tenant(inbound: Inbound) -> None:
    ingest = make_ingest(inbound.factory, inbound.directory, applier=FailOnSecondUpdate())
    raw = acme_messages(text("wamid.in1", "one"), text("wamid.in2", "two", seconds=1))

    with pytest.raises(RuntimeError, match="worker crashed"):
        await ingest.execute(raw, sign(raw, APP_SECRET))

    assert inbound.nothing_stored_or_announced()


# --- signatures -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, ""])
async def test_missing_signature_is_refused_and_nothing_kept(inbound: Inbound, header: str | None) -> None:
    with pytest.raises(SignatureMissing):
        await inbound.ingest.execute(acme_messages(text("wamid.in1", "Hello")), header)

    assert inbound.nothing_stored_or_announced()


def wrong_signatures(raw: bytes) -> dict[str, str]:
    return {
        "other secret": sign(raw, "not-the-app-secret"),
        "other body": sign(raw + b" ", APP_SECRET),
        "not hex": "sha256=" + "z" * 64,
        "bare digest": sign(raw, APP_SECRET).removeprefix("sha256="),
        "sha1 prefix": "sha1=" + sign(raw, APP_SECRET).removeprefix("sha256="),
    }


@pytest.mark.parametrize("case", ["other secret", "other body", "not hex", "bare digest", "sha1 prefix"])
async def test_wrong_signature_is_refused_and_nothing_kept(inbound: Inbound, case: str) -> None:
    raw = acme_messages(text("wamid.in1", "Hello"))

    with pytest.raises(SignatureInvalid):
        await inbound.ingest.execute(raw, wrong_signatures(raw)[case])

    assert inbound.nothing_stored_or_announced()


async def test_a_non_ascii_signature_is_refused_as_invalid(inbound: Inbound) -> None:
    # A header byte such as 0xE9 reaches the use case as "é" (headers are decoded as latin-1).
    raw = acme_messages(text("wamid.in1", "Hello"))

    with pytest.raises(SignatureInvalid):
        await inbound.ingest.execute(raw, "sha256=é" + "0" * 63)

    assert inbound.nothing_stored_or_announced()


async def test_a_channel_without_app_secret_refuses_signed_bodies(inbound: Inbound) -> None:
    no_secret = Channel(
        tenant_id=inbound.world.initech.id, phone_number_id="300000000000003", access_token="t"
    )
    inbound.factory.put_record("channels", no_secret)
    raw = body(("900000000000003", [messages_change("300000000000003", messages=[text("wamid.x", "Hi")])]))

    with pytest.raises(SignatureInvalid):
        await inbound.deliver(raw)

    assert inbound.nothing_stored_or_announced()


async def test_a_signature_with_surrounding_spaces_is_accepted(inbound: Inbound) -> None:
    raw = acme_messages(text("wamid.in1", "Hello"))

    report = await inbound.ingest.execute(raw, f"  {sign(raw, APP_SECRET)} ")

    assert report.outcome is WebhookOutcome.PROCESSED


async def test_unsigned_bodies_are_accepted_when_signatures_are_not_checked(inbound: Inbound) -> None:
    ingest = make_ingest(inbound.factory, inbound.directory, validate=False)

    report = await ingest.execute(acme_messages(text("wamid.in1", "Hello")), None)

    assert report.outcome is WebhookOutcome.PROCESSED
    assert inbound.message("wamid.in1").text == "Hello"
    assert len(inbound.factory.published) == 2


async def test_a_replay_skips_the_signature_and_is_logged_as_replayed(inbound: Inbound) -> None:
    report = await inbound.ingest.execute(acme_messages(text("wamid.in1", "Hello")), None, replay=True)

    assert report.outcome is WebhookOutcome.REPLAYED
    (log,) = inbound.logs()
    assert log.outcome is WebhookOutcome.REPLAYED
    assert inbound.message("wamid.in1").text == "Hello"


# --- bodies no tenant owns, and bodies that are not webhooks ----------------------------------------------


async def test_unknown_phone_number_is_logged_without_tenant(inbound: Inbound) -> None:
    raw = body((ACME_WABA, [messages_change("999000000000009", messages=[text("wamid.x", "Hi")])]))

    report = await inbound.ingest.execute(raw, None)  # nothing to check a signature against

    assert report.outcome is WebhookOutcome.UNKNOWN_PHONE_NUMBER
    assert (report.tenants, report.unknown_phone_numbers) == ([], ["999000000000009"])
    (log,) = inbound.logs()
    assert (log.tenant_id, log.outcome, log.field_name) == (
        None,
        WebhookOutcome.UNKNOWN_PHONE_NUMBER,
        "messages",
    )
    assert log.reason is not None and "999000000000009" in log.reason
    assert log.raw_body == raw.decode()
    assert inbound.messages() == []
    assert inbound.contacts() == []
    assert inbound.factory.published == []
    assert [u.all_tenants for u in inbound.factory.units] == [True]


async def test_unknown_phone_number_log_is_invisible_to_tenants(inbound: Inbound) -> None:
    raw = body((ACME_WABA, [messages_change("999000000000009", messages=[text("wamid.x", "Hi")])]))
    await inbound.ingest.execute(raw, None)

    async with inbound.factory(inbound.acme.tenant_id) as uow:
        assert await uow.webhook_logs.count() == 0


async def test_known_and_unknown_numbers_in_one_body(inbound: Inbound) -> None:
    raw = body(
        (
            ACME_WABA,
            [
                messages_change(ACME_PNID, messages=[text("wamid.in1", "Hello")]),
                messages_change("999000000000009", messages=[text("wamid.x", "Hi")]),
            ],
        )
    )

    report = await inbound.deliver(raw)

    assert report.outcome is WebhookOutcome.PROCESSED
    assert report.unknown_phone_numbers == ["999000000000009"]
    assert [m.wamid for m in inbound.messages()] == ["wamid.in1"]
    outcomes = sorted((log.tenant_id is None, log.outcome) for log in inbound.logs())
    assert outcomes == [(False, WebhookOutcome.PROCESSED), (True, WebhookOutcome.UNKNOWN_PHONE_NUMBER)]


async def test_template_update_for_an_unknown_waba_is_logged_without_tenant(inbound: Inbound) -> None:
    raw = body(("555000000000005", [template_change("APPROVED")]))

    report = await inbound.ingest.execute(raw, None)

    assert report.outcome is WebhookOutcome.UNKNOWN_PHONE_NUMBER
    assert report.unknown_phone_numbers == ["555000000000005"]
    assert inbound.factory.committed("templates") == []


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"",
        b"\xff\xfe{",
        b"[]",
        b"42",
        b'"entry"',
        b"{}",
        b'{"object": "whatsapp_business_account", "entry": {}}',
    ],
    ids=["text", "empty", "bad-utf8", "array", "number", "string", "no-entry", "entry-not-a-list"],
)
async def test_unparseable_body_is_logged_without_tenant(inbound: Inbound, raw: bytes) -> None:
    report = await inbound.ingest.execute(raw, None)

    assert report.outcome is WebhookOutcome.UNPARSEABLE
    (log,) = inbound.logs()
    assert (log.tenant_id, log.outcome) == (None, WebhookOutcome.UNPARSEABLE)
    assert log.raw_body == raw.decode("utf-8", errors="replace")
    assert log.reason is not None and log.reason.startswith("not a webhook body")
    assert inbound.messages() == []
    assert inbound.factory.published == []


async def test_deeply_nested_json_is_logged_as_unparseable(inbound: Inbound) -> None:
    # json.loads raises RecursionError (not a ValueError) for nesting deeper than the interpreter allows;
    # the body is still one Meta would not send and should be logged and acknowledged like other junk.
    raw = b"[" * 10_000 + b"]" * 10_000

    report = await inbound.ingest.execute(raw, None)

    assert report.outcome is WebhookOutcome.UNPARSEABLE
    (log,) = inbound.logs()
    assert log.outcome is WebhookOutcome.UNPARSEABLE


async def test_a_body_with_nothing_to_apply_is_logged_as_processed(inbound: Inbound) -> None:
    raw = body((ACME_WABA, []))

    report = await inbound.ingest.execute(raw, None)

    assert report.outcome is WebhookOutcome.PROCESSED
    (log,) = inbound.logs()
    assert (log.tenant_id, log.reason) == (None, "nothing to apply")


# --- at-least-once, out-of-order delivery -----------------------------------------------------------------


async def test_duplicate_delivery_is_stored_and_announced_once(inbound: Inbound) -> None:
    raw = acme_messages(text("wamid.in1", "Hello"))

    await inbound.deliver(raw)
    await inbound.deliver(raw)

    assert [m.wamid for m in inbound.messages()] == ["wamid.in1"]
    assert len(inbound.contacts()) == 1
    (conversation,) = inbound.conversations()
    assert conversation.unread_count == 1
    assert [event_type for event_type, _ in inbound.committed_events()] == [
        EventType.MESSAGE_INCOMING,
        EventType.CONVERSATION_UPDATED,
    ]
    assert len(inbound.logs()) == 2  # every body is kept, even a repeated one


async def test_the_same_message_twice_in_one_body_is_stored_once(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(text("wamid.in1", "Hello"), text("wamid.in1", "Hello")))

    assert len(inbound.messages()) == 1
    assert len(inbound.events(EventType.MESSAGE_INCOMING)) == 1
    (conversation,) = inbound.conversations()
    assert conversation.unread_count == 1


async def test_later_messages_count_unread_and_move_the_window(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(text("wamid.in2", "second", seconds=60)))
    await inbound.deliver(acme_messages(text("wamid.in1", "first (late)", seconds=0)))

    (contact,) = inbound.contacts()
    (conversation,) = inbound.conversations()
    assert contact.last_inbound_at == T0 + timedelta(seconds=60)
    assert conversation.unread_count == 2
    assert conversation.last_message_id == inbound.message("wamid.in2").id
    assert conversation.last_message_at == T0 + timedelta(seconds=60)
    assert inbound.message("wamid.in1").conversation_id == conversation.id


async def test_a_stored_contact_name_is_kept(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(text("wamid.in1", "Hello"), profile="Ana"))
    await inbound.deliver(acme_messages(text("wamid.in2", "Again", seconds=5), profile="Ana Maria"))

    (contact,) = inbound.contacts()
    assert contact.name == "Ana"


async def test_statuses_never_go_backwards(inbound: Inbound) -> None:
    inbound.factory.put_record("messages", outgoing(inbound.acme, "wamid.out1"))

    await inbound.deliver(acme_statuses(status("wamid.out1", "read", seconds=20)))
    await inbound.deliver(acme_statuses(status("wamid.out1", "delivered", seconds=10)))
    await inbound.deliver(acme_statuses(status("wamid.out1", "sent", seconds=5)))

    stored = inbound.message("wamid.out1")
    assert stored.status is MessageStatus.READ
    assert stored.content["status_times"] == {"read": (T0 + timedelta(seconds=20)).isoformat()}
    (announced,) = inbound.events(EventType.MESSAGE_STATUS)
    assert (announced.data["wamid"], announced.data["status"]) == ("wamid.out1", "read")


async def test_statuses_in_one_body_end_at_the_furthest(inbound: Inbound) -> None:
    inbound.factory.put_record("messages", outgoing(inbound.acme, "wamid.out1"))

    await inbound.deliver(
        acme_statuses(
            status("wamid.out1", "delivered", seconds=10),
            status("wamid.out1", "read", seconds=20),
            status("wamid.out1", "delivered", seconds=10),
        )
    )

    assert inbound.message("wamid.out1").status is MessageStatus.READ
    assert [e.data["status"] for e in inbound.events(EventType.MESSAGE_STATUS)] == ["delivered", "read"]


async def test_a_failure_records_its_error(inbound: Inbound) -> None:
    inbound.factory.put_record("messages", outgoing(inbound.acme, "wamid.out1"))

    await inbound.deliver(acme_statuses(status("wamid.out1", "failed", error=(131047, "Re-engagement"))))

    stored = inbound.message("wamid.out1")
    assert (stored.status, stored.error_code, stored.error_title) == (
        MessageStatus.FAILED,
        131047,
        "Re-engagement",
    )
    (announced,) = inbound.events(EventType.MESSAGE_STATUS)
    assert (announced.data["error_code"], announced.data["error_title"]) == (131047, "Re-engagement")


async def test_a_failure_after_delivery_is_ignored(inbound: Inbound) -> None:
    inbound.factory.put_record("messages", outgoing(inbound.acme, "wamid.out1", MessageStatus.DELIVERED))

    await inbound.deliver(acme_statuses(status("wamid.out1", "failed", error=(131026, "Undeliverable"))))

    stored = inbound.message("wamid.out1")
    assert (stored.status, stored.error_code) == (MessageStatus.DELIVERED, None)
    assert inbound.factory.published == []


async def test_status_of_an_unknown_message_or_of_an_unknown_kind_changes_nothing(inbound: Inbound) -> None:
    inbound.factory.put_record("messages", outgoing(inbound.acme, "wamid.out1"))

    await inbound.deliver(
        acme_statuses(status("wamid.never-sent", "read"), status("wamid.out1", "warning-from-the-future"))
    )

    assert inbound.message("wamid.out1").status is MessageStatus.SENT
    assert inbound.factory.published == []
    (log,) = inbound.logs()
    assert log.item_count == 2


async def test_status_of_another_tenants_message_is_not_applied(inbound: Inbound) -> None:
    # The same wamid stored in globex: a status arriving on acme's number must not touch it.
    inbound.factory.put_record("messages", outgoing(inbound.globex, "wamid.out1"))

    await inbound.deliver(acme_statuses(status("wamid.out1", "read")))

    assert inbound.message("wamid.out1").status is MessageStatus.SENT
    assert inbound.factory.published == []


async def test_a_status_finds_a_send_whose_reply_was_lost_by_its_callback_data(inbound: Inbound) -> None:
    pending = outgoing(inbound.acme, None, MessageStatus.PENDING)
    inbound.factory.put_record("messages", pending)

    await inbound.deliver(acme_statuses(status("wamid.out1", "delivered", callback=str(pending.id))))

    stored = inbound.message("wamid.out1")
    assert (stored.id, stored.status) == (pending.id, MessageStatus.DELIVERED)
    (announced,) = inbound.events(EventType.MESSAGE_STATUS)
    assert (announced.data["id"], announced.data["wamid"]) == (str(pending.id), "wamid.out1")


@pytest.mark.parametrize("case", ["not-a-uuid", "unknown-id", "has-a-wamid", "incoming", "other-tenant"])
async def test_callback_data_matches_only_an_unanswered_send_of_the_tenant(
    inbound: Inbound, case: str
) -> None:
    message = outgoing(
        inbound.globex if case == "other-tenant" else inbound.acme, None, MessageStatus.PENDING
    )
    if case == "has-a-wamid":
        message.wamid = "wamid.known"
    if case == "incoming":
        message.direction = Direction.INCOMING
    inbound.factory.put_record("messages", message)
    callback = {"not-a-uuid": "order-42", "unknown-id": str(uuid4())}.get(case, str(message.id))

    await inbound.deliver(acme_statuses(status("wamid.out1", "delivered", callback=callback)))

    (stored,) = inbound.messages()
    assert (stored.wamid, stored.status) == (message.wamid, MessageStatus.PENDING)
    assert inbound.factory.published == []


async def test_reaction_before_its_message_is_attached_later(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(reaction("wamid.r1", "wamid.in1", "👍", seconds=5)))

    (early,) = inbound.reactions()
    assert (early.target_wamid, early.emoji, early.message_id) == ("wamid.in1", "👍", None)
    (announced,) = inbound.events(EventType.REACTION)
    assert (announced.data["message_id"], announced.data["emoji"]) == (None, "👍")

    await inbound.deliver(acme_messages(text("wamid.in1", "Hello")))

    (attached,) = inbound.reactions()
    assert attached.id == early.id
    assert attached.message_id == inbound.message("wamid.in1").id


async def test_reaction_to_a_stored_message_is_linked_at_once(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(text("wamid.in1", "Hello")))
    await inbound.deliver(acme_messages(reaction("wamid.r1", "wamid.in1", "❤️", seconds=5)))

    (stored,) = inbound.reactions()
    assert stored.message_id == inbound.message("wamid.in1").id
    (announced,) = inbound.events(EventType.REACTION)
    assert announced.data["message_id"] == str(stored.message_id)


async def test_a_new_emoji_replaces_the_old_and_an_empty_one_removes_it(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(reaction("wamid.r1", "wamid.in1", "👍", seconds=1)))
    await inbound.deliver(acme_messages(reaction("wamid.r2", "wamid.in1", "😂", seconds=2)))

    (replaced,) = inbound.reactions()
    assert (replaced.emoji, replaced.wamid) == ("😂", "wamid.r2")

    await inbound.deliver(acme_messages(reaction("wamid.r3", "wamid.in1", "", seconds=3)))

    (removed,) = inbound.reactions()
    assert removed.emoji is None
    assert [e.data["emoji"] for e in inbound.events(EventType.REACTION)] == ["👍", "😂", None]


async def test_an_edit_is_stored_with_its_history(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(text("wamid.in1", "Helo")))
    await inbound.deliver(acme_messages(edit("wamid.e1", "wamid.in1", "Hello", seconds=30)))

    edited = inbound.message("wamid.in1")
    assert edited.text == "Hello"
    assert edited.content["edited"] is True
    assert edited.content["edits"] == [
        {"text": "Helo", "at": (T0 + timedelta(seconds=30)).isoformat(), "wamid": "wamid.e1"}
    ]


async def test_a_repeated_edit_is_applied_and_announced_once(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(text("wamid.in1", "Helo")))
    raw = acme_messages(edit("wamid.e1", "wamid.in1", "Hello", seconds=30))
    await inbound.deliver(raw)
    await inbound.deliver(raw)  # Meta delivers at least once

    edited = inbound.message("wamid.in1")
    assert edited.content["edits"] == [
        {"text": "Helo", "at": (T0 + timedelta(seconds=30)).isoformat(), "wamid": "wamid.e1"}
    ]
    assert len([e for e in inbound.events(EventType.MESSAGE_INCOMING) if e.data.get("edited")]) == 1


async def test_a_revoked_message_loses_its_text(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(text("wamid.in1", "oops")))
    await inbound.deliver(acme_messages(revoke("wamid.d1", "wamid.in1", seconds=30)))

    deleted = inbound.message("wamid.in1")
    assert (deleted.status, deleted.text, deleted.content) == (
        MessageStatus.DELETED,
        None,
        {"deleted": True, "type": "text"},
    )
    (announced,) = inbound.events(EventType.MESSAGE_STATUS)
    assert announced.data["status"] == "deleted"


async def test_an_edit_arriving_after_the_revoke_does_not_bring_the_text_back(inbound: Inbound) -> None:
    # The customer edited, then deleted; Meta delivered the two webhooks in the other order.
    await inbound.deliver(acme_messages(text("wamid.in1", "secret")))
    await inbound.deliver(acme_messages(revoke("wamid.d1", "wamid.in1", seconds=60)))
    await inbound.deliver(acme_messages(edit("wamid.e1", "wamid.in1", "secret, edited", seconds=30)))

    deleted = inbound.message("wamid.in1")
    assert deleted.status is MessageStatus.DELETED
    assert deleted.text is None
    assert "secret" not in json.dumps(deleted.content)


async def test_edit_or_revoke_of_an_unknown_message_changes_nothing(inbound: Inbound) -> None:
    await inbound.deliver(
        acme_messages(edit("wamid.e1", "wamid.nope", "x"), revoke("wamid.d1", "wamid.nope", seconds=1))
    )

    assert inbound.messages() == []
    assert inbound.factory.published == []


# --- opt-out keywords -------------------------------------------------------------------------------------


async def test_stop_opts_out_and_start_opts_back_in(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(text("wamid.in1", "STOP")))

    (contact,) = inbound.contacts()
    assert (contact.opted_out, contact.opted_out_changed_at) == (True, T0)
    assert inbound.events(EventType.CONVERSATION_UPDATED)[-1].data["opted_out"] is True

    await inbound.deliver(acme_messages(text("wamid.in2", " start! ", seconds=60)))

    (contact,) = inbound.contacts()
    assert (contact.opted_out, contact.opted_out_changed_at) == (False, T0 + timedelta(seconds=60))
    assert inbound.events(EventType.CONVERSATION_UPDATED)[-1].data["opted_out"] is False


async def test_the_keyword_message_itself_is_kept(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(text("wamid.in1", "Stop.")))

    assert inbound.message("wamid.in1").text == "Stop."
    assert inbound.contacts()[0].opted_out


async def test_a_repeated_stop_keeps_the_first_opt_out_time(inbound: Inbound) -> None:
    await inbound.deliver(acme_messages(text("wamid.in1", "STOP")))
    await inbound.deliver(acme_messages(text("wamid.in2", "stop", seconds=60)))

    (contact,) = inbound.contacts()
    assert (contact.opted_out, contact.opted_out_changed_at) == (True, T0)


@pytest.mark.parametrize(
    "message",
    [
        text("wamid.in1", "please stop sending me this"),
        text("wamid.in1", "STOP IT"),
        image("wamid.in1", "STOP"),
    ],
    ids=["sentence", "two-words", "image-caption"],
)
async def test_only_a_text_that_is_just_a_keyword_opts_out(inbound: Inbound, message: dict[str, Any]) -> None:
    await inbound.deliver(acme_messages(message))

    (contact,) = inbound.contacts()
    assert not contact.opted_out
    assert inbound.events(EventType.CONVERSATION_UPDATED)[-1].data["opted_out"] is False


async def test_configured_keywords_replace_the_defaults(inbound: Inbound) -> None:
    keywords = OptOutKeywords.from_setting("BASTA, no más", "VOLVER")
    ingest = make_ingest(inbound.factory, inbound.directory, applier=UpdateApplier(keywords))

    raw = acme_messages(text("wamid.in1", "STOP"), text("wamid.in2", "No  más!", seconds=1))
    await ingest.execute(raw, sign(raw, APP_SECRET))

    (contact,) = inbound.contacts()
    assert contact.opted_out
    assert contact.opted_out_changed_at == T0 + timedelta(seconds=1)


async def test_a_duplicate_stop_after_start_does_not_opt_out_again(inbound: Inbound) -> None:
    stop = acme_messages(text("wamid.in1", "STOP"))
    await inbound.deliver(stop)
    await inbound.deliver(acme_messages(text("wamid.in2", "START", seconds=60)))
    await inbound.deliver(stop)  # the STOP delivered again, late

    (contact,) = inbound.contacts()
    assert not contact.opted_out


# --- templates --------------------------------------------------------------------------------------------


async def test_template_status_update_creates_and_then_updates_the_template(inbound: Inbound) -> None:
    await inbound.deliver(body((ACME_WABA, [template_change("APPROVED")])))

    (template,) = inbound.factory.committed("templates")
    assert isinstance(template, MessageTemplate)
    assert (template.tenant_id, template.channel_id) == (inbound.acme.tenant_id, inbound.acme.id)
    assert (template.name, template.language, template.meta_template_id) == ("welcome", "en_US", "5555")
    assert (template.status, template.rejected_reason) == ("APPROVED", None)
    (announced,) = inbound.events(EventType.TEMPLATE_STATUS)
    assert (announced.tenant_id, announced.data["status"], announced.data["kind"]) == (
        inbound.acme.tenant_id,
        "APPROVED",
        "status",
    )

    await inbound.deliver(body((ACME_WABA, [template_change("REJECTED", reason="INVALID_FORMAT")])))

    (rejected,) = inbound.factory.committed("templates")
    assert rejected.id == template.id
    assert (rejected.status, rejected.rejected_reason) == ("REJECTED", "INVALID_FORMAT")


async def test_template_known_by_name_gets_metas_id(inbound: Inbound) -> None:
    stored = MessageTemplate(tenant_id=inbound.acme.tenant_id, name="welcome", language="en_US")
    inbound.factory.put_record("templates", stored)

    await inbound.deliver(body((ACME_WABA, [template_change("APPROVED")])))

    (template,) = inbound.factory.committed("templates")
    assert (template.id, template.meta_template_id, template.status) == (stored.id, "5555", "APPROVED")


async def test_template_update_needs_a_signature(inbound: Inbound) -> None:
    with pytest.raises(SignatureMissing):
        await inbound.ingest.execute(body((ACME_WABA, [template_change("APPROVED")])), None)

    assert inbound.nothing_stored_or_announced()


# --- several tenants in one body --------------------------------------------------------------------------


async def test_each_tenants_part_is_written_in_its_own_unit_of_work(inbound: Inbound) -> None:
    raw = body(
        (ACME_WABA, [messages_change(ACME_PNID, messages=[text("wamid.a1", "for acme")])]),
        (GLOBEX_WABA, [messages_change(GLOBEX_PNID, messages=[text("wamid.g1", "for globex")])]),
    )
    acme, globex = inbound.acme.tenant_id, inbound.globex.tenant_id

    report = await inbound.deliver(raw)

    assert sorted(report.tenants) == sorted([acme, globex])
    assert sorted((u.tenant_id, u.all_tenants, u.commits) for u in inbound.factory.units) == sorted(
        [(acme, False, 1), (globex, False, 1)]
    )
    assert {m.wamid: m.tenant_id for m in inbound.messages()} == {"wamid.a1": acme, "wamid.g1": globex}
    assert {c.tenant_id for c in inbound.contacts()} == {acme, globex}  # one contact per tenant
    assert sorted((log.tenant_id, log.phone_number_id, log.item_count) for log in inbound.logs()) == sorted(
        [(acme, ACME_PNID, 1), (globex, GLOBEX_PNID, 1)]
    )
    by_tenant = {
        tenant: [e.data["wamid"] for e in inbound.events(EventType.MESSAGE_INCOMING) if e.tenant_id == tenant]
        for tenant in (acme, globex)
    }
    assert by_tenant == {acme: ["wamid.a1"], globex: ["wamid.g1"]}
    async with inbound.factory(acme) as uow:
        assert await uow.messages.count() == 1
        assert await uow.webhook_logs.count() == 1


async def test_two_channels_of_one_tenant_share_its_unit_of_work(inbound: Inbound) -> None:
    second = Channel(
        tenant_id=inbound.acme.tenant_id,
        phone_number_id="100000000000009",
        waba_id=ACME_WABA,
        access_token="t2",
        app_secret=APP_SECRET,
    )
    inbound.factory.put_record("channels", second)
    raw = body(
        (
            ACME_WABA,
            [
                messages_change(ACME_PNID, messages=[text("wamid.a1", "one")]),
                messages_change("100000000000009", messages=[text("wamid.a2", "two", seconds=1)]),
            ],
        )
    )

    await inbound.deliver(raw)

    assert [(u.tenant_id, u.commits) for u in inbound.factory.units] == [(inbound.acme.tenant_id, 1)]
    assert {m.wamid: m.channel_id for m in inbound.messages()} == {
        "wamid.a1": inbound.acme.id,
        "wamid.a2": second.id,
    }
    (log,) = inbound.logs()
    assert log.item_count == 2


async def test_a_replay_for_one_tenant_touches_only_that_tenant(inbound: Inbound) -> None:
    raw = body(
        (ACME_WABA, [messages_change(ACME_PNID, messages=[text("wamid.a1", "for acme")])]),
        (GLOBEX_WABA, [messages_change(GLOBEX_PNID, messages=[text("wamid.g1", "for globex")])]),
        ("555000000000005", [messages_change("999000000000009", messages=[text("wamid.x", "nobody")])]),
    )
    acme = inbound.acme.tenant_id

    report = await inbound.ingest.execute(raw, None, replay=True, only_tenant=acme)

    assert (report.outcome, report.tenants) == (WebhookOutcome.REPLAYED, [acme])
    assert [(m.wamid, m.tenant_id) for m in inbound.messages()] == [("wamid.a1", acme)]
    assert [(log.tenant_id, log.outcome) for log in inbound.logs()] == [(acme, WebhookOutcome.REPLAYED)]
    assert {event.tenant_id for event in inbound.factory.published} == {acme}


async def test_a_wrong_signature_for_one_tenant_refuses_the_whole_body(inbound: Inbound) -> None:
    globex = inbound.factory.store.records["channels"][inbound.globex.id]
    globex.app_secret = "globex-own-app-secret"
    raw = body(
        (ACME_WABA, [messages_change(ACME_PNID, messages=[text("wamid.a1", "for acme")])]),
        (GLOBEX_WABA, [messages_change(GLOBEX_PNID, messages=[text("wamid.g1", "for globex")])]),
    )

    with pytest.raises(SignatureInvalid):
        await inbound.deliver(raw)

    assert inbound.nothing_stored_or_announced()
