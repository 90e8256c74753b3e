"""The tenants of the installation (for operators) or of one user (for the tenant switcher)."""

from __future__ import annotations

from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.tenancy.resolve_principal import find_tenant
from pywhatsapp.domain.tenancy.tenant import Tenant


class ListTenants:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def all(self) -> list[Tenant]:
        async with self._uow_factory() as uow:
            return list(await uow.tenants.list_all())

    async def of_user(self, user_id: UUID) -> list[Tenant]:
        async with self._uow_factory() as uow:
            return list(await uow.tenants.list_for_user(user_id))

    async def find(self, reference: str) -> Tenant | None:
        """A tenant by its UUID or slug."""
        async with self._uow_factory() as uow:
            return await find_tenant(uow, reference)
