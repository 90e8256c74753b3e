"""`POST /api/v1/auth/login` (username and password -> access token) and who-am-I."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from pywhatsapp.application.identity.log_in import LogIn
from pywhatsapp.application.tenancy.list_tenants import ListTenants
from pywhatsapp.domain.errors import NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.entrypoints.http.envelope import Envelope, ok
from pywhatsapp.entrypoints.http.schemas import LoginRequest, LoginResponse, MeResponse, TenantRead, present


def client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


@post(
    "/api/v1/auth/login",
    tags=["auth"],
    summary="Exchange username and password for an access token",
    exclude_from_auth=True,
    status_code=200,
    security=[{}],
)
async def login(
    data: JSONBody[LoginRequest], request: Request[Any, Any, Any], log_in: NamedDependency[LogIn]
) -> Envelope[LoginResponse]:
    result = await log_in.execute(
        username=data.username,
        password=data.password,
        client_address=client_address(request),
        tenant=data.tenant,
    )
    principal = result.principal
    return ok(
        LoginResponse(
            access_token=result.access_token.token,
            token_type="bearer",
            expires_at=result.access_token.expires_at,
            user_id=principal.user_id,
            username=principal.username,
            tenant=TenantRead(id=principal.tenant_id, slug=principal.tenant_slug, name=principal.tenant_name),
            role=principal.role.value,
        ),
        message="Signed in",
    )


@get("/api/v1/auth/me", tags=["auth"], summary="The signed-in user, the tenant in use and the user's tenants")
async def me(
    principal: NamedDependency[Principal], list_tenants: NamedDependency[ListTenants]
) -> Envelope[MeResponse]:
    tenants = await list_tenants.of_user(principal.user_id)
    current = next((t for t in tenants if t.id == principal.tenant_id), None)
    if current is None:  # an API key: it knows only its own tenant
        current = await list_tenants.find(str(principal.tenant_id))
        tenants = [current] if current else []
    if current is None:
        raise NotFound("The tenant no longer exists")
    return ok(
        MeResponse(
            user_id=principal.user_id,
            username=principal.username,
            tenant=present(current, TenantRead),
            role=principal.role.value,
            tenants=[present(t, TenantRead) for t in tenants],
        )
    )
