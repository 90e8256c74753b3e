"""Create a tenant: a business of its own on this installation."""

from __future__ import annotations

from uuid import UUID, uuid4

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.domain.errors import Conflict
from pywhatsapp.domain.tenancy.tenant import Tenant


class CreateTenant:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(self, *, name: str, slug: str, tenant_id: UUID | None = None) -> Tenant:
        tenant = Tenant(id=tenant_id or uuid4(), name=name, slug=slug)
        async with self._uow_factory() as uow:
            if await uow.tenants.get_by_slug(slug) is not None:
                raise Conflict(f"A tenant with slug {slug!r} already exists")
            if await uow.tenants.get(tenant.id) is not None:
                raise Conflict(f"A tenant with id {tenant.id} already exists")
            await uow.tenants.add(tenant)
            await uow.commit()
        return tenant
