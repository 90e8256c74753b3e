"""Creating tenants and users, and listing tenants."""

from __future__ import annotations

from uuid import uuid4

import pytest

from pywhatsapp.application.identity.create_user import CreateUser
from pywhatsapp.application.tenancy.create_tenant import CreateTenant
from pywhatsapp.application.tenancy.list_tenants import ListTenants
from pywhatsapp.domain.errors import Conflict, InvalidInput, NotFound
from pywhatsapp.domain.tenancy.membership import Role
from tests.unit.conftest import World
from tests.unit.fakes import FakePasswordHasher, FakeUnitOfWorkFactory

# --- CreateTenant ----------------------------------------------------------------------------------


async def test_create_tenant_stores_it(factory: FakeUnitOfWorkFactory) -> None:
    tenant_id = uuid4()
    tenant = await CreateTenant(factory).execute(name="Acme", slug="acme", tenant_id=tenant_id)
    assert tenant.id == tenant_id
    async with factory() as uow:
        stored = await uow.tenants.get_by_slug("acme")
    assert stored is not None
    assert stored.id == tenant_id
    assert stored.name == "Acme"


async def test_create_tenant_with_a_taken_slug_is_a_conflict(world: World) -> None:
    before = world.factory.store.snapshot()
    with pytest.raises(Conflict, match="acme"):
        await CreateTenant(world.factory).execute(name="Another Acme", slug="acme")
    assert world.factory.store == before


async def test_create_tenant_with_a_taken_id_is_a_conflict(world: World) -> None:
    with pytest.raises(Conflict):
        await CreateTenant(world.factory).execute(name="New", slug="new", tenant_id=world.acme.id)
    assert len(world.factory.store.tenants) == 3


async def test_create_tenant_with_an_invalid_slug_is_refused(factory: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidInput):
        await CreateTenant(factory).execute(name="Acme", slug="Acme Inc")
    assert factory.store.tenants == {}


# --- CreateUser ------------------------------------------------------------------------------------


@pytest.fixture
def create_user(world: World, hasher: FakePasswordHasher) -> CreateUser:
    return CreateUser(world.factory, hasher)


async def test_create_user_makes_a_member_with_the_role(create_user: CreateUser, world: World) -> None:
    user = await create_user.execute(
        username="carol",
        password="carol-password",
        tenant_id=world.globex.id,
        role=Role.AGENT,
        email="c@x.io",
    )

    async with world.factory() as uow:
        stored = await uow.users.get_by_username("carol")
        assert stored is not None
        assert stored.id == user.id
        assert stored.tenant_id == world.globex.id
        assert stored.email == "c@x.io"
        assert stored.password_hash == "hashed:carol-password"
        membership = await uow.memberships.get(user_id=user.id, tenant_id=world.globex.id)
        assert membership is not None
        assert membership.role is Role.AGENT
        assert [t.slug for t in await uow.tenants.list_for_user(user.id)] == ["globex"]


async def test_create_user_with_a_taken_username_is_a_conflict(create_user: CreateUser, world: World) -> None:
    before = world.factory.store.snapshot()
    with pytest.raises(Conflict, match="alice"):
        await create_user.execute(
            username="alice", password="another-password", tenant_id=world.globex.id, role=Role.OWNER
        )
    assert world.factory.store == before


async def test_create_user_in_an_unknown_tenant_is_not_found(create_user: CreateUser, world: World) -> None:
    missing = uuid4()
    with pytest.raises(NotFound, match=str(missing)):
        await create_user.execute(
            username="carol", password="carol-password", tenant_id=missing, role=Role.ADMIN
        )
    assert len(world.factory.store.users) == 2


@pytest.mark.parametrize(("username", "password"), [("c", "carol-password"), ("carol", "short")])
async def test_create_user_validates_username_and_password(
    create_user: CreateUser, world: World, username: str, password: str
) -> None:
    with pytest.raises(InvalidInput):
        await create_user.execute(
            username=username, password=password, tenant_id=world.acme.id, role=Role.AGENT
        )
    assert len(world.factory.store.users) == 2


# --- ListTenants -----------------------------------------------------------------------------------


async def test_list_tenants_of_a_user_shows_only_active_member_tenants_by_name(world: World) -> None:
    tenants = ListTenants(world.factory)
    assert [t.slug for t in await tenants.of_user(world.alice.id)] == ["acme", "globex"]
    world.factory.store.tenants[world.globex.id].is_active = False
    assert [t.slug for t in await tenants.of_user(world.alice.id)] == ["acme"]


async def test_list_all_tenants(world: World) -> None:
    assert {t.slug for t in await ListTenants(world.factory).all()} == {"acme", "globex", "initech"}
