"""The tenants the signed-in user belongs to (for the tenant switcher and API clients)."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency

from pywhatsapp.application.tenancy.list_tenants import ListTenants
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.entrypoints.http.envelope import Envelope, ListPage, ok
from pywhatsapp.entrypoints.http.routes.paging import whole_list
from pywhatsapp.entrypoints.http.schemas import TenantRead, present


@get("/api/v1/tenants", tags=["tenants"], summary="Tenants the signed-in user is a member of")
async def my_tenants(
    principal: NamedDependency[Principal], list_tenants: NamedDependency[ListTenants]
) -> Envelope[ListPage[TenantRead]]:
    tenants = await list_tenants.of_user(principal.user_id)
    return ok(whole_list([present(t, TenantRead) for t in tenants]))
