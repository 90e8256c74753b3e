"""The fakes must behave like the real adapters where the use cases rely on it, or other tests lie."""

from __future__ import annotations

from uuid import uuid4

import pytest

from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.domain.webhooks.webhook_log import WebhookLogEntry
from tests.unit.conftest import World
from tests.unit.fakes import (
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
