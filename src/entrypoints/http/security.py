"""Who is calling: bearer tokens for the API, server-side sessions for pages, and role guards.

`X-Tenant-Id` (a tenant's UUID or slug) switches to another tenant only if the user is a member of it.
API calls authenticate with `Authorization: Bearer`; a session cookie is accepted on the API only for
safe methods (GET, HEAD), so that no state-changing call can ride on a cookie without CSRF protection.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from advanced_alchemy.extensions.litestar.session import SQLAlchemyAsyncSessionBackend
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Empty, Message, ScopeSession

from pywhatsapp.domain.errors import NotAuthenticated
from pywhatsapp.domain.identity.api_key import looks_like_api_key
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role

TENANT_HEADER = "x-tenant-id"
NEW_SESSION_ID = "pywhatsapp.new_session_id"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
BEARER_SUBPROTOCOL = "bearer"
PUBLIC_PATHS = [
    r"^/login$",
    r"^/logout$",
    r"^/healthz$",
    r"^/readyz$",
    r"^/metrics$",
    r"^/docs($|/)",
    r"^/webhooks$",
    r"^/flows/data/",
    r"^/static/",
    r"^/api/v1/auth/login$",
    r"^/favicon\.ico$",
    r"^/_sandbox/",
]


class RotatingSessionBackend(SQLAlchemyAsyncSessionBackend):
    """Issues a new session id when a user signs in, so a session id planted before login is worthless."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        new_id = connection.scope.get(NEW_SESSION_ID)  # type: ignore[misc]
        return str(new_id) if new_id else super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        # An anonymous visitor with nothing to keep gets no session row and no cookie: otherwise every
        # request to the login page would write to the database.
        if scope_session is not Empty and not scope_session and not connection.cookies.get(self.config.key):
            return
        previous = connection.cookies.get(self.config.key)
        if connection.scope.get(NEW_SESSION_ID) and previous:  # type: ignore[misc]
            # Signing in again: the session that was in use before ends on the server too.
            await self.delete(previous, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


def start_session(connection: ASGIConnection[Any, Any, Any, Any], principal: Principal) -> None:
    backend: RotatingSessionBackend = connection.app.state.session_backend
    connection.scope[NEW_SESSION_ID] = backend.generate_session_id()  # type: ignore[literal-required]
    connection.set_session(
        {"user_id": str(principal.user_id), "tenant_id": str(principal.tenant_id), "issued_at": time.time()}
    )


class AuthenticationMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        authenticate = connection.app.state.container.authenticate()
        requested_tenant = connection.headers.get(TENANT_HEADER) or connection.query_params.get("tenant")
        authorization = connection.headers.get("authorization", "") or _websocket_bearer(connection)
        scheme, _, credential = authorization.partition(" ")
        api_key = connection.headers.get("x-api-key") or (
            credential.strip()
            if scheme.lower() == "bearer" and looks_like_api_key(credential.strip())
            else ""
        )
        if api_key:
            principal = await authenticate.with_api_key(api_key, requested_tenant=requested_tenant)
            return AuthenticationResult(user=principal, auth="api_key")
        if scheme.lower() == "bearer" and credential.strip():
            principal = await authenticate.with_token(credential.strip(), requested_tenant=requested_tenant)
            return AuthenticationResult(user=principal, auth="token")
        if authorization:
            raise NotAuthenticated("Unsupported Authorization header; use 'Authorization: Bearer <token>'")
        scope_session = connection.scope.get("session")
        session: dict[str, Any] = scope_session if isinstance(scope_session, dict) else {}
        if session.get("user_id"):
            if _is_api(connection) and connection.scope.get("method", "GET") not in SAFE_METHODS:
                raise NotAuthenticated("API calls that change data need 'Authorization: Bearer <token>'")
            try:
                user_id, tenant_id = UUID(session["user_id"]), UUID(session["tenant_id"])
                issued_at = float(session.get("issued_at", 0))
            except (KeyError, TypeError, ValueError) as error:
                raise NotAuthenticated("Your session is not valid; sign in again") from error
            principal = await authenticate.with_session(
                user_id, tenant_id, requested_tenant=requested_tenant, issued_at=issued_at
            )
            return AuthenticationResult(user=principal, auth="session")
        raise NotAuthorizedException(
            "Sign in first: send 'Authorization: Bearer <token>' from /api/v1/auth/login"
        )


def _websocket_bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Browsers cannot set headers on a WebSocket: the token comes as `?token=` or as the subprotocols
    `bearer, <token>`."""
    if connection.scope["type"] != ScopeType.WEBSOCKET:
        return ""
    token = connection.query_params.get("token")
    protocols = [p.strip() for p in connection.headers.get("sec-websocket-protocol", "").split(",")]
    if not token and len(protocols) == 2 and protocols[0] == BEARER_SUBPROTOCOL:
        token = protocols[1]
    return f"Bearer {token}" if token else ""


def _is_api(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return connection.url.path.startswith("/api")


def requires(role: Role) -> Any:
    """A guard that lets through principals whose role in the tenant includes `role`."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.user
        principal.require(role)

    guard.__name__ = f"requires_{role.value}"
    return guard
