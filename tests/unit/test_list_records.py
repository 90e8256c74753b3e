"""Listing tenant-owned records a page at a time, only ever from the principal's tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from pywhatsapp.application.common.list_records import ListRecords
from pywhatsapp.application.common.unit_of_work import TenantRecords, UnitOfWork
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from tests.unit.conftest import World
from tests.unit.fakes import FakeUnitOfWorkFactory

START = datetime(2024, 1, 1, tzinfo=UTC)


def contacts(uow: UnitOfWork) -> TenantRecords[Contact]:
    return uow.contacts


def principal_in(tenant_id: UUID) -> Principal:
    return Principal(
        user_id=uuid4(),
        username="alice",
        tenant_id=tenant_id,
        tenant_slug="t",
        tenant_name="T",
        role=Role.AGENT,
    )


def seed_contacts(
    factory: FakeUnitOfWorkFactory, tenant_id: UUID, count: int, *, first: int = 0
) -> list[Contact]:
    seeded = []
    for n in range(first, first + count):
        contact = Contact(
            tenant_id=tenant_id, wa_id=f"4915100000{n:03d}", created_at=START + timedelta(minutes=n)
        )
        factory.put_record("contacts", contact)
        seeded.append(contact)
    return seeded


@pytest.fixture
def list_contacts(world: World) -> ListRecords[Contact]:
    return ListRecords(world.factory, contacts)


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (-1, 0), (201, 0), (10, -1)])
async def test_page_bounds_are_enforced(
    list_contacts: ListRecords[Contact], world: World, limit: int, offset: int
) -> None:
    with pytest.raises(InvalidInput, match="limit" if offset == 0 else "offset"):
        await list_contacts.execute(principal_in(world.acme.id), limit=limit, offset=offset)


@pytest.mark.parametrize("limit", [1, 200])
async def test_page_size_limits_are_inclusive(
    list_contacts: ListRecords[Contact], world: World, limit: int
) -> None:
    seed_contacts(world.factory, world.acme.id, 3)
    page = await list_contacts.execute(principal_in(world.acme.id), limit=limit)
    assert len(page.items) == min(limit, 3)
    assert page.total == 3


async def test_only_the_principal_tenants_records_are_listed_and_counted(
    list_contacts: ListRecords[Contact], world: World
) -> None:
    mine = seed_contacts(world.factory, world.acme.id, 3)
    seed_contacts(world.factory, world.globex.id, 4, first=100)

    page = await list_contacts.execute(principal_in(world.acme.id), limit=50)

    assert page.total == 3
    assert {c.id for c in page.items} == {c.id for c in mine}
    assert all(c.tenant_id == world.acme.id for c in page.items)


async def test_pages_are_newest_first_and_keep_the_total(
    list_contacts: ListRecords[Contact], world: World
) -> None:
    seeded = seed_contacts(world.factory, world.acme.id, 5)
    seed_contacts(world.factory, world.globex.id, 2, first=100)
    newest_first = [c.id for c in reversed(seeded)]
    me = principal_in(world.acme.id)

    first = await list_contacts.execute(me, limit=2, offset=0)
    second = await list_contacts.execute(me, limit=2, offset=2)
    last = await list_contacts.execute(me, limit=2, offset=4)
    beyond = await list_contacts.execute(me, limit=2, offset=10)

    assert [c.id for c in first.items + second.items + last.items] == newest_first
    assert (first.total, second.total, last.total, beyond.total) == (5, 5, 5, 5)
    assert beyond.items == []
    assert (second.limit, second.offset) == (2, 2)


async def test_a_tenant_without_records_gets_an_empty_page(
    list_contacts: ListRecords[Contact], world: World
) -> None:
    seed_contacts(world.factory, world.globex.id, 2)
    page = await list_contacts.execute(principal_in(world.initech.id))
    assert page.items == []
    assert page.total == 0
