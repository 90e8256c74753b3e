"""What `pywhatsapp setup` guarantees after the schema exists: the default tenant and its admin.

Running it again changes nothing: an existing tenant or admin is kept as it is (the admin's password
included), so setup is safe to repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.identity.ports import PasswordHasher
from pywhatsapp.domain.errors import Conflict
from pywhatsapp.domain.identity.user import User, validate_password, validate_username
from pywhatsapp.domain.tenancy.membership import Membership, Role
from pywhatsapp.domain.tenancy.tenant import Tenant

DEFAULT_TENANT_SLUG = "default"


@dataclass(frozen=True)
class InstallationReport:
    tenant: Tenant
    admin: User | None
    tenant_created: bool
    admin_created: bool


class SetUpInstallation:
    def __init__(self, uow_factory: UnitOfWorkFactory, passwords: PasswordHasher) -> None:
        self._uow_factory = uow_factory
        self._passwords = passwords

    async def execute(
        self, *, default_tenant_id: UUID, admin_username: str, admin_password: str, only_if_new: bool = False
    ) -> InstallationReport:
        """Make sure the default tenant and its admin exist.

        With `only_if_new` (what `serve` does on every start) an existing installation is left exactly as
        it is: an admin deliberately removed is not brought back by a restart.
        """
        validate_username(admin_username)
        validate_password(admin_password)
        async with self._uow_factory() as uow:
            tenant = await uow.tenants.get(default_tenant_id)
            if tenant is not None and only_if_new:
                admin = await uow.users.get_by_username(admin_username)
                return InstallationReport(
                    tenant=tenant, admin=admin, tenant_created=False, admin_created=False
                )
            tenant_created = tenant is None
            if tenant is None:
                by_slug = await uow.tenants.get_by_slug(DEFAULT_TENANT_SLUG)
                if by_slug is not None:
                    raise Conflict(
                        f"The slug 'default' belongs to tenant {by_slug.id}, not to DEFAULT_TENANT_ID "
                        f"{default_tenant_id}; set DEFAULT_TENANT_ID={by_slug.id} or run setup --fresh"
                    )
                tenant = await uow.tenants.add(
                    Tenant(id=default_tenant_id, name="Default", slug=DEFAULT_TENANT_SLUG)
                )
            admin = await uow.users.get_by_username(admin_username)
            admin_created = admin is None
            if admin is None:
                admin = await uow.users.add(
                    User(
                        username=admin_username,
                        password_hash=await self._passwords.hash(admin_password),
                        tenant_id=tenant.id,
                    )
                )
            elif (
                admin.tenant_id != tenant.id
                and await uow.memberships.get(user_id=admin.id, tenant_id=tenant.id) is None
            ):
                # Usernames are global: never hand the default tenant to another tenant's user.
                raise Conflict(
                    f"ADMIN_USERNAME {admin_username!r} is a user of another tenant; choose another "
                    "ADMIN_USERNAME for the default tenant's admin"
                )
            if await uow.memberships.get(user_id=admin.id, tenant_id=tenant.id) is None:
                await uow.memberships.add(Membership(tenant_id=tenant.id, user_id=admin.id, role=Role.OWNER))
            await uow.commit()
        return InstallationReport(
            tenant=tenant, admin=admin, tenant_created=tenant_created, admin_created=admin_created
        )
