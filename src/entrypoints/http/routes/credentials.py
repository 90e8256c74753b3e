"""`POST /api/v1/auth/logout` and `POST /api/v1/auth/password`: ending the signed-in user's credentials."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from pywhatsapp.adapters.auth.tokens import JwtAccessTokens
from pywhatsapp.application.identity.revoke_credentials import ChangePassword, LogOut
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.envelope import Envelope, ok
from pywhatsapp.entrypoints.http.schemas import LoginResponse, TenantRead

NO_NUL = r"^[^\x00]*$"
CREDENTIALS = {
    "log_out": from_container("log_out"),
    "change_password": from_container("change_password"),
    "access_tokens": from_container("access_tokens"),
}


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024, pattern=NO_NUL)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024, pattern=NO_NUL)]


@post(
    "/api/v1/auth/logout",
    tags=["auth"],
    summary="Sign out everywhere: every access token and page session of the user issued until now ends",
    status_code=200,
    dependencies=CREDENTIALS,
)
async def logout(principal: NamedDependency[Principal], log_out: NamedDependency[LogOut]) -> Envelope[None]:
    await log_out.everywhere(principal)
    return ok(None, message="Signed out; every earlier token and session of yours no longer works")


@post(
    "/api/v1/auth/password",
    tags=["auth"],
    summary="Change your password; earlier tokens and sessions end, and a new token is returned",
    status_code=200,
    dependencies=CREDENTIALS,
)
async def change_password(
    data: JSONBody[PasswordChange],
    principal: NamedDependency[Principal],
    change_password: NamedDependency[ChangePassword],
    access_tokens: NamedDependency[JwtAccessTokens],
) -> Envelope[LoginResponse]:
    await change_password.own(
        principal, current_password=data.current_password, new_password=data.new_password
    )
    # The caller's own token ended with the others; a fresh one saves signing in again.
    fresh = access_tokens.issue(user_id=principal.user_id, tenant_id=principal.tenant_id, role=principal.role)
    return ok(
        LoginResponse(
            access_token=fresh.token,
            token_type="bearer",
            expires_at=fresh.expires_at,
            user_id=principal.user_id,
            username=principal.username,
            tenant=TenantRead(id=principal.tenant_id, slug=principal.tenant_slug, name=principal.tenant_name),
            role=principal.role.value,
        ),
        message="Password changed; earlier tokens and sessions no longer work",
    )


ROUTES = [logout, change_password]
