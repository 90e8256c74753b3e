"""`pywhatsapp setup`: the default tenant and its owner admin, created once and then left alone."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from pywhatsapp.application.installation.set_up_installation import SetUpInstallation
from pywhatsapp.domain.errors import Conflict, InvalidInput
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.domain.tenancy.tenant import Tenant
from tests.unit.fakes import FakePasswordHasher, FakeUnitOfWorkFactory

TENANT_ID = UUID("bc531d42-ac91-41df-817e-26c339af6b3a")


@pytest.fixture
def set_up(factory: FakeUnitOfWorkFactory, hasher: FakePasswordHasher) -> SetUpInstallation:
    return SetUpInstallation(factory, hasher)


async def run(set_up: SetUpInstallation, password: str = "first-password") -> None:
    await set_up.execute(default_tenant_id=TENANT_ID, admin_username="admin", admin_password=password)


async def run_and_report(set_up: SetUpInstallation) -> tuple[bool, bool]:
    report = await set_up.execute(
        default_tenant_id=TENANT_ID, admin_username="admin", admin_password="first-password"
    )
    return report.tenant_created, report.admin_created


async def test_first_run_creates_the_default_tenant_and_its_owner_admin(
    set_up: SetUpInstallation, factory: FakeUnitOfWorkFactory
) -> None:
    report = await set_up.execute(
        default_tenant_id=TENANT_ID, admin_username="admin", admin_password="first-password"
    )

    assert report.tenant_created
    assert report.admin_created
    assert report.tenant.id == TENANT_ID
    assert report.tenant.slug == "default"
    async with factory() as uow:
        tenant = await uow.tenants.get_by_slug("default")
        admin = await uow.users.get_by_username("admin")
        assert tenant is not None
        assert tenant.id == TENANT_ID
        assert admin is not None
        assert report.admin is not None
        assert admin.id == report.admin.id
        assert admin.tenant_id == TENANT_ID
        assert admin.password_hash == "hashed:first-password"
        membership = await uow.memberships.get(user_id=admin.id, tenant_id=TENANT_ID)
        assert membership is not None
        assert membership.role is Role.OWNER


async def test_second_run_changes_nothing_and_reports_it(
    set_up: SetUpInstallation, factory: FakeUnitOfWorkFactory
) -> None:
    await run(set_up)
    before = factory.store.snapshot()

    report = await set_up.execute(
        default_tenant_id=TENANT_ID, admin_username="admin", admin_password="another-password"
    )

    assert not report.tenant_created
    assert not report.admin_created
    assert report.tenant.id == TENANT_ID
    assert factory.store == before
    assert report.admin is not None
    assert factory.store.users[report.admin.id].password_hash == "hashed:first-password"


async def test_default_slug_owned_by_another_tenant_is_a_conflict(
    set_up: SetUpInstallation, factory: FakeUnitOfWorkFactory
) -> None:
    other = factory.put_tenant(Tenant(id=uuid4(), name="Default", slug="default"))
    before = factory.store.snapshot()

    with pytest.raises(Conflict) as caught:
        await run(set_up)

    assert str(other.id) in caught.value.message
    assert str(TENANT_ID) in caught.value.message
    assert factory.store == before


async def test_a_user_of_another_tenant_named_like_the_admin_is_never_made_owner(
    set_up: SetUpInstallation, factory: FakeUnitOfWorkFactory
) -> None:
    elsewhere = factory.put_tenant(Tenant(name="Elsewhere", slug="elsewhere"))
    admin = factory.put_user(User(username="admin", password_hash="hashed:kept", tenant_id=elsewhere.id))

    with pytest.raises(Conflict, match="user of another tenant"):
        await run_and_report(set_up)

    async with factory() as uow:
        assert await uow.memberships.get(user_id=admin.id, tenant_id=TENANT_ID) is None
        assert await uow.tenants.get(TENANT_ID) is None, "nothing of the failed run is kept"


async def test_serve_leaves_an_existing_installation_alone(
    set_up: SetUpInstallation, factory: FakeUnitOfWorkFactory
) -> None:
    await run_and_report(set_up)
    async with factory() as uow:
        admin = await uow.users.get_by_username("admin")
    assert admin is not None
    factory.store.memberships.clear()  # the admin was deliberately removed from the tenant

    report = await set_up.execute(
        default_tenant_id=TENANT_ID, admin_username="admin", admin_password="admin@123", only_if_new=True
    )
    assert (report.tenant_created, report.admin_created) == (False, False)
    async with factory() as uow:
        assert await uow.memberships.get(user_id=admin.id, tenant_id=TENANT_ID) is None


@pytest.mark.parametrize(("username", "password"), [("admin", "short"), ("a", "long-enough-password")])
async def test_invalid_admin_credentials_are_refused_before_anything_is_written(
    set_up: SetUpInstallation, factory: FakeUnitOfWorkFactory, username: str, password: str
) -> None:
    with pytest.raises(InvalidInput):
        await set_up.execute(default_tenant_id=TENANT_ID, admin_username=username, admin_password=password)
    assert factory.store.tenants == {}
    assert factory.store.users == {}
