"""The fakes must behave like the real adapters where the use cases rely on it, or other tests lie."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from pywhatsapp.application.messaging.ports import ChannelDirectory
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from pywhatsapp.domain.messaging.reaction import Reaction
from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.domain.webhooks.webhook_log import WebhookLogEntry
from tests.unit.conftest import World
from tests.unit.fakes import (
    FakeChannelDirectory,
    FakeEventPublisher,
    FakeIntegrityError,
    FakeLoginAttempts,
    FakePasswordHasher,
    FakeTenantScopeError,
    FakeUnitOfWorkFactory,
)


async def test_committed_changes_are_visible_to_the_next_unit_of_work(factory: FakeUnitOfWorkFactory) -> None:
    async with factory() as uow:
        await uow.tenants.add(Tenant(name="Acme", slug="acme"))
        await uow.commit()
    async with factory() as uow:
        assert await uow.tenants.get_by_slug("acme") is not None


async def test_uncommitted_changes_are_discarded(factory: FakeUnitOfWorkFactory) -> None:
    async with factory() as uow:
        await uow.tenants.add(Tenant(name="Acme", slug="acme"))
        assert await uow.tenants.get_by_slug("acme") is not None  # visible inside its own transaction
    async with factory() as uow:
        assert await uow.tenants.get_by_slug("acme") is None


async def add_tenant_then_fail(factory: FakeUnitOfWorkFactory) -> None:
    async with factory() as uow:
        await uow.tenants.add(Tenant(name="Acme", slug="acme"))
        raise RuntimeError("boom")


async def test_changes_are_discarded_when_the_block_raises(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        await add_tenant_then_fail(factory)
    assert factory.store.tenants == {}


async def test_rollback_drops_what_was_not_committed(factory: FakeUnitOfWorkFactory) -> None:
    async with factory() as uow:
        await uow.tenants.add(Tenant(name="Acme", slug="acme"))
        await uow.rollback()
        assert await uow.tenants.get_by_slug("acme") is None


async def test_entities_handed_out_are_copies(world: World) -> None:
    async with world.factory() as uow:
        alice = await uow.users.get(world.alice.id)
        assert alice is not None
        alice.is_active = False
        await uow.commit()
    assert world.factory.store.users[world.alice.id].is_active


async def test_records_are_confined_to_the_unit_of_work_tenant(world: World) -> None:
    acme_contact = Contact(tenant_id=world.acme.id, wa_id="491510000001")
    world.factory.put_record("contacts", acme_contact)
    world.factory.put_record("contacts", Contact(tenant_id=world.globex.id, wa_id="491510000002"))

    async with world.factory(world.acme.id) as uow:
        assert await uow.contacts.count() == 1
        assert [c.id for c in await uow.contacts.list(limit=10)] == [acme_contact.id]
    async with world.factory(world.globex.id) as uow:
        assert await uow.contacts.get(acme_contact.id) is None
        assert await uow.contacts.count() == 1


async def test_a_unit_of_work_without_tenant_sees_no_tenant_records(world: World) -> None:
    contact = Contact(tenant_id=world.acme.id, wa_id="491510000001")
    world.factory.put_record("contacts", contact)
    async with world.factory() as uow:
        assert await uow.contacts.get(contact.id) is None
        assert await uow.contacts.count() == 0
        assert list(await uow.contacts.list(limit=10)) == []
        with pytest.raises(FakeTenantScopeError):
            await uow.contacts.add(Contact(tenant_id=world.acme.id, wa_id="491510000003"))


async def test_a_record_of_another_tenant_cannot_be_added(world: World) -> None:
    async with world.factory(world.acme.id) as uow:
        with pytest.raises(FakeTenantScopeError):
            await uow.channels.add(Channel(tenant_id=world.globex.id, phone_number_id="1", access_token="t"))


async def test_a_record_without_tenant_is_stamped_with_the_unit_of_work_tenant(world: World) -> None:
    async with world.factory(world.acme.id) as uow:
        added = await uow.webhook_logs.add(WebhookLogEntry(tenant_id=None, raw_body="{}"))
        await uow.commit()
    assert added.tenant_id == world.acme.id
    async with world.factory(world.acme.id) as uow:
        assert await uow.webhook_logs.count() == 1


async def test_unique_keys_are_enforced(world: World) -> None:
    async with world.factory() as uow:
        with pytest.raises(FakeIntegrityError):
            await uow.tenants.add(Tenant(name="Acme again", slug="acme"))
        with pytest.raises(FakeIntegrityError):
            await uow.users.add(
                User(username="alice", password_hash="x", tenant_id=world.acme.id, id=uuid4())
            )


async def test_fake_password_hasher_round_trip() -> None:
    hasher = FakePasswordHasher()
    assert await hasher.verify("secret-pw", await hasher.hash("secret-pw"))
    assert not await hasher.verify("other-pw", await hasher.hash("secret-pw"))


async def test_fake_login_attempts_count_and_clear() -> None:
    attempts = FakeLoginAttempts()
    assert await attempts.register_attempt("k", window_seconds=60) == 1
    assert await attempts.register_attempt("k", window_seconds=60) == 2
    assert await attempts.failures("k") == 2
    assert await attempts.failures("other") == 0
    await attempts.clear("k")
    assert await attempts.failures("k") == 0


# --- update and all-tenant units of work ------------------------------------------------------------------


async def test_update_changes_a_stored_record_but_keeps_its_creation_time(world: World) -> None:
    channel = Channel(tenant_id=world.acme.id, phone_number_id="1", access_token="t")
    world.factory.put_record("channels", channel)

    async with world.factory(world.acme.id) as uow:
        changed = replace(channel, name="Sales", created_at=T0)
        saved = await uow.channels.update(changed)
        await uow.commit()

    assert (saved.name, saved.created_at) == ("Sales", channel.created_at)
    assert world.factory.committed("channels") == [saved]


async def test_update_of_a_record_the_unit_of_work_cannot_see_is_a_lookup_error(world: World) -> None:
    theirs = Channel(tenant_id=world.globex.id, phone_number_id="1", access_token="t")
    world.factory.put_record("channels", theirs)

    async with world.factory(world.acme.id) as uow:
        with pytest.raises(LookupError):
            await uow.channels.update(replace(theirs, name="stolen"))
        with pytest.raises(LookupError):
            await uow.channels.update(Channel(tenant_id=world.acme.id, phone_number_id="2", access_token="t"))
    async with world.factory() as uow:
        with pytest.raises(LookupError):
            await uow.channels.update(theirs)


async def test_update_cannot_move_a_record_to_another_tenant(world: World) -> None:
    mine = Channel(tenant_id=world.acme.id, phone_number_id="1", access_token="t")
    world.factory.put_record("channels", mine)

    async with world.factory(world.acme.id) as uow:
        with pytest.raises(FakeTenantScopeError):
            await uow.channels.update(replace(mine, tenant_id=world.globex.id))


async def test_unique_constraints_of_tenant_tables(world: World) -> None:
    world.factory.put_record(
        "channels", Channel(tenant_id=world.globex.id, phone_number_id="1", access_token="t")
    )

    async with world.factory(world.acme.id) as uow:
        with pytest.raises(FakeIntegrityError):  # a phone number id is unique across tenants
            await uow.channels.add(Channel(tenant_id=world.acme.id, phone_number_id="1", access_token="t"))
        await uow.contacts.add(Contact(tenant_id=world.acme.id, wa_id="49151"))
        with pytest.raises(FakeIntegrityError):
            await uow.contacts.add(Contact(tenant_id=world.acme.id, wa_id="49151"))
    async with world.factory(world.globex.id) as uow:
        await uow.contacts.add(Contact(tenant_id=world.globex.id, wa_id="49151"))  # per tenant only


async def test_a_unit_of_work_for_all_tenants_sees_and_writes_every_tenant(world: World) -> None:
    world.factory.put_record("contacts", Contact(tenant_id=world.acme.id, wa_id="1"))
    world.factory.put_record("contacts", Contact(tenant_id=world.globex.id, wa_id="2"))

    async with world.factory.for_all_tenants() as uow:
        assert await uow.contacts.count() == 2
        log = await uow.webhook_logs.add(WebhookLogEntry(tenant_id=None, raw_body="{}"))
        await uow.commit()

    assert log.tenant_id is None
    (stored,) = world.factory.committed("webhook_logs")
    assert stored.tenant_id is None
    async with world.factory(world.acme.id) as uow:
        assert await uow.webhook_logs.count() == 0


async def test_inbox_writes_need_a_tenant(world: World) -> None:
    for opened in (world.factory(), world.factory.for_all_tenants()):
        async with opened as uow:
            with pytest.raises(FakeTenantScopeError):
                await uow.inbox.record_contact("49151", name=None, inbound_at=None)
            with pytest.raises(FakeTenantScopeError):
                await uow.inbox.add_message(incoming(world.acme.id, "wamid.1"))


# --- inbox ------------------------------------------------------------------------------------------------

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def incoming(tenant_id: UUID, wamid: str, at: datetime = T0) -> Message:
    return Message(
        tenant_id=tenant_id,
        direction=Direction.INCOMING,
        type="text",
        wa_id="49151",
        wamid=wamid,
        timestamp=at,
    )


async def test_record_contact_keeps_a_stored_name_and_moves_the_window_forward_only(world: World) -> None:
    later = T0 + timedelta(hours=1)
    async with world.factory(world.acme.id) as uow:
        first = await uow.inbox.record_contact("49151", name=None, inbound_at=later)
        named = await uow.inbox.record_contact("49151", name="Ana", inbound_at=T0)
        kept = await uow.inbox.record_contact("49151", name="Other", inbound_at=None)

    assert first.id == named.id == kept.id
    assert (named.name, named.last_inbound_at) == ("Ana", later)  # a missing name is filled
    assert (kept.name, kept.last_inbound_at) == ("Ana", later)


async def test_set_opted_out_changes_the_time_only_on_a_change(world: World) -> None:
    async with world.factory(world.acme.id) as uow:
        contact = await uow.inbox.record_contact("49151", name=None, inbound_at=None)
        await uow.inbox.set_opted_out(contact.id, True, T0)
        await uow.inbox.set_opted_out(contact.id, True, T0 + timedelta(days=1))
        stored = await uow.contacts.get(contact.id)

    assert stored is not None
    assert (stored.opted_out, stored.opted_out_changed_at) == (True, T0)


async def test_add_message_is_false_for_a_stored_wamid(world: World) -> None:
    async with world.factory(world.acme.id) as uow:
        assert await uow.inbox.add_message(incoming(world.acme.id, "wamid.1"))
        assert not await uow.inbox.add_message(incoming(world.acme.id, "wamid.1"))
        assert await uow.messages.count() == 1
    async with world.factory(world.globex.id) as uow:
        assert await uow.inbox.add_message(incoming(world.globex.id, "wamid.1"))  # per tenant
        with pytest.raises(FakeTenantScopeError):
            await uow.inbox.add_message(incoming(world.acme.id, "wamid.2"))


async def test_advance_status_moves_forward_only_and_records_failures(world: World) -> None:
    sent = replace(
        incoming(world.acme.id, "wamid.1"), direction=Direction.OUTGOING, status=MessageStatus.SENT
    )
    world.factory.put_record("messages", sent)

    async with world.factory(world.acme.id) as uow:
        read = await uow.inbox.advance_status("wamid.1", MessageStatus.READ, at=T0)
        assert await uow.inbox.advance_status("wamid.1", MessageStatus.DELIVERED, at=T0) is None
        assert await uow.inbox.advance_status("wamid.1", MessageStatus.FAILED, at=T0, error_code=1) is None
        assert await uow.inbox.advance_status("wamid.unknown", MessageStatus.READ, at=T0) is None
    assert read is not None
    assert (read.status, read.content["status_times"]) == (MessageStatus.READ, {"read": T0.isoformat()})

    world.factory.put_record("messages", replace(sent, id=uuid4(), wamid="wamid.2"))
    async with world.factory(world.acme.id) as uow:
        failed = await uow.inbox.advance_status(
            "wamid.2", MessageStatus.FAILED, at=T0, error_code=131026, error_title="Undeliverable"
        )
    assert failed is not None
    assert (failed.status, failed.error_code, failed.error_title) == (
        MessageStatus.FAILED,
        131026,
        "Undeliverable",
    )


async def test_one_reaction_per_person_per_message_linked_when_the_message_comes(world: World) -> None:
    def reaction(emoji: str | None) -> Reaction:
        return Reaction(
            tenant_id=world.acme.id,
            target_wamid="wamid.1",
            wa_id="49151",
            direction=Direction.INCOMING,
            emoji=emoji,
        )

    async with world.factory(world.acme.id) as uow:
        first = await uow.inbox.save_reaction(reaction("👍"))
        second = await uow.inbox.save_reaction(reaction(None))
        message = incoming(world.acme.id, "wamid.1")
        await uow.inbox.add_message(message)
        assert await uow.inbox.attach_reactions("wamid.1", message.id) == 1
        assert await uow.inbox.attach_reactions("wamid.1", message.id) == 0
        third = await uow.inbox.save_reaction(reaction("🎉"))
        await uow.commit()

    assert first.id == second.id == third.id
    assert (first.message_id, second.emoji) == (None, None)
    assert (third.emoji, third.message_id) == ("🎉", message.id)
    assert len(world.factory.committed("reactions")) == 1


async def test_touch_conversation_one_per_contact_latest_message_only_forward(world: World) -> None:
    async with world.factory(world.acme.id) as uow:
        contact = await uow.inbox.record_contact("49151", name=None, inbound_at=None)
        newer = incoming(world.acme.id, "wamid.2", T0 + timedelta(minutes=5))
        older = incoming(world.acme.id, "wamid.1", T0)
        reply = replace(
            incoming(world.acme.id, "wamid.3", T0 + timedelta(minutes=9)), direction=Direction.OUTGOING
        )
        for message in (newer, older, reply):
            await uow.inbox.add_message(message)
        first = await uow.inbox.touch_conversation(contact, newer)
        second = await uow.inbox.touch_conversation(contact, older)
        after_older = (second.last_message_id, second.last_message_at, second.unread_count)
        third = await uow.inbox.touch_conversation(contact, reply)
        stored_older = await uow.inbox.find_message("wamid.1")

    assert first.id == second.id == third.id
    assert after_older == (newer.id, newer.timestamp, 2)
    assert (third.last_message_id, third.unread_count, third.last_inbound_at) == (
        reply.id,
        2,
        newer.timestamp,
    )
    assert stored_older is not None and stored_older.conversation_id == first.id


async def test_template_registry_finds_by_meta_id_then_by_name_and_saves(world: World) -> None:
    stored = MessageTemplate(tenant_id=world.acme.id, name="welcome", language="en_US", meta_template_id="1")
    world.factory.put_record("templates", stored)

    async with world.factory(world.acme.id) as uow:
        registry = uow.template_registry
        assert (await registry.find(meta_template_id="1", name=None, language=None)) == stored
        assert (await registry.find(meta_template_id="9", name="welcome", language="en_US")) == stored
        assert await registry.find(meta_template_id=None, name="welcome", language="de") is None
        saved = await registry.save(replace(stored, status="APPROVED"))
        new = await registry.save(MessageTemplate(tenant_id=world.acme.id, name="bye", language="en_US"))
        with pytest.raises(FakeIntegrityError):
            await registry.save(MessageTemplate(tenant_id=world.acme.id, name="bye", language="en_US"))
        await uow.commit()

    assert saved.status == "APPROVED"
    assert {t.id for t in world.factory.committed("templates")} == {stored.id, new.id}
    async with world.factory(world.globex.id) as uow:
        assert await uow.template_registry.find(meta_template_id="1", name="welcome", language=None) is None


# --- events -----------------------------------------------------------------------------------------------


def event(tenant_id: UUID, n: int = 1) -> RealtimeEvent:
    return RealtimeEvent(EventType.MESSAGE_INCOMING, tenant_id, {"n": n})


async def test_events_are_published_on_commit_only(world: World) -> None:
    async with world.factory(world.acme.id) as uow:
        await uow.events.publish(event(world.acme.id, 1))
        assert world.factory.published == []
        await uow.commit()
        assert world.factory.published == [event(world.acme.id, 1)]
        await uow.events.publish(event(world.acme.id, 2))  # after the commit, in the next transaction

    assert world.factory.published == [event(world.acme.id, 1)]


async def test_rolled_back_events_are_never_published(world: World) -> None:
    async with world.factory(world.acme.id) as uow:
        await uow.events.publish(event(world.acme.id, 1))
        await uow.rollback()
        await uow.events.publish(event(world.acme.id, 2))
        await uow.commit()

    assert world.factory.published == [event(world.acme.id, 2)]


async def test_identical_events_in_one_transaction_are_delivered_once() -> None:
    publisher = FakeEventPublisher()
    tenant = uuid4()
    for n in (1, 1, 2):
        await publisher.publish(event(tenant, n))
    publisher.deliver()

    assert publisher.published == [event(tenant, 1), event(tenant, 2)]


# --- channel directory ------------------------------------------------------------------------------------


async def test_directory_caches_until_forget_or_fresh(world: World) -> None:
    directory = FakeChannelDirectory(world.factory)
    assert await directory.by_phone_number_id("1") is None
    channel = Channel(
        tenant_id=world.acme.id, phone_number_id="1", waba_id="9", access_token="t", verify_token="v"
    )
    world.factory.put_record("channels", channel)

    assert await directory.by_phone_number_id("1") is None  # the cached answer
    assert await directory.by_phone_number_id("1", fresh=True) == channel
    assert await directory.by_waba_id("9") == channel
    assert await directory.verify_tokens() == {"v"}
    world.factory.store.records["channels"].clear()
    assert await directory.by_waba_id("9") == channel
    directory.forget()
    assert await directory.by_waba_id("9") is None
    assert directory.forgotten == 1


async def test_directory_sees_committed_channels_of_every_tenant_only(world: World) -> None:
    directory = FakeChannelDirectory(world.factory)
    async with world.factory(world.globex.id) as uow:
        await uow.channels.add(Channel(tenant_id=world.globex.id, phone_number_id="2", access_token="t"))
        assert await directory.by_phone_number_id("2", fresh=True) is None  # not committed yet
        await uow.commit()

    found = await directory.by_phone_number_id("2", fresh=True)
    assert found is not None and found.tenant_id == world.globex.id
    assert isinstance(directory, ChannelDirectory)
