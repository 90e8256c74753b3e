"""A tenant's members on /settings: listing, adding and changing roles, within one tenant and by rank."""

from __future__ import annotations

import pytest

from pywhatsapp.application.identity.create_user import CreateUser
from pywhatsapp.application.identity.manage_members import ManageMembers, parse_role
from pywhatsapp.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.tenancy.membership import Role
from tests.unit.conftest import World
from tests.unit.fakes import FakePasswordHasher


@pytest.fixture
def members(world: World, hasher: FakePasswordHasher) -> ManageMembers:
    return ManageMembers(world.factory, CreateUser(world.factory, hasher))


def acting(world: World, user: User, role: Role, tenant: str = "acme") -> Principal:
    chosen = getattr(world, tenant)
    return Principal(user.id, user.username, chosen.id, chosen.slug, chosen.name, role)


async def test_an_admin_lists_only_the_members_of_their_tenant(world: World, members: ManageMembers) -> None:
    listed = await members.list(acting(world, world.alice, Role.ADMIN))
    assert [(m.username, m.role) for m in listed] == [("alice", Role.ADMIN)]


async def test_an_agent_may_not_see_or_change_members(world: World, members: ManageMembers) -> None:
    agent = acting(world, world.alice, Role.AGENT, "globex")
    with pytest.raises(PermissionDenied):
        await members.list(agent)
    with pytest.raises(PermissionDenied):
        await members.add(agent, username="eve", password="long-enough-1", role=Role.AGENT)


async def test_an_admin_adds_a_member_and_changes_their_role(world: World, members: ManageMembers) -> None:
    admin = acting(world, world.alice, Role.ADMIN)
    carol = await members.add(admin, username="carol", password="long-enough-1", role=Role.AGENT)
    assert carol.role is Role.AGENT
    changed = await members.change_role(admin, carol.user_id, Role.ADMIN)
    assert changed.role is Role.ADMIN
    assert {m.username: m.role for m in await members.list(admin)} == {
        "alice": Role.ADMIN,
        "carol": Role.ADMIN,
    }


async def test_a_user_of_another_tenant_is_not_found(world: World, members: ManageMembers) -> None:
    with pytest.raises(NotFound):
        await members.change_role(acting(world, world.alice, Role.ADMIN), world.bob.id, Role.AGENT)


async def test_nobody_changes_their_own_role(world: World, members: ManageMembers) -> None:
    before = world.factory.store.snapshot()
    with pytest.raises(Conflict, match="own role"):
        await members.change_role(acting(world, world.alice, Role.ADMIN), world.alice.id, Role.AGENT)
    assert world.factory.store == before


async def test_only_an_owner_gives_or_takes_the_owner_role(world: World, members: ManageMembers) -> None:
    owner = acting(world, world.bob, Role.OWNER, "initech")
    dave = await members.add(owner, username="dave", password="long-enough-1", role=Role.OWNER)
    erin = await members.add(owner, username="erin", password="long-enough-1", role=Role.ADMIN)
    as_erin = Principal(erin.user_id, "erin", world.initech.id, "initech", "Initech", Role.ADMIN)
    with pytest.raises(PermissionDenied):
        await members.change_role(as_erin, dave.user_id, Role.AGENT)
    with pytest.raises(PermissionDenied):
        await members.add(as_erin, username="frank", password="long-enough-1", role=Role.OWNER)
    assert (await members.change_role(owner, dave.user_id, Role.AGENT)).role is Role.AGENT


def test_roles_are_parsed_from_their_names() -> None:
    assert parse_role(" Admin ") is Role.ADMIN
    with pytest.raises(InvalidInput):
        parse_role("root")
