"""Signing in and out of the pages, and switching the session's tenant among the user's memberships."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from pywhatsapp.application.identity.log_in import LogIn
from pywhatsapp.application.tenancy.list_tenants import ListTenants
from pywhatsapp.domain.errors import (
    InvalidCredentials,
    InvalidInput,
    LoginThrottled,
    NotAuthenticated,
    TenantAccessDenied,
)
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.entrypoints.http.routes.auth import client_address
from pywhatsapp.entrypoints.http.security import start_session


class LoginForm(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(max_length=150)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    next: Annotated[str, msgspec.Meta(max_length=2000)] = "/chat"


class TenantSwitchForm(msgspec.Struct):
    tenant_id: Annotated[str, msgspec.Meta(max_length=64)] = ""
    next: Annotated[str, msgspec.Meta(max_length=2000)] = "/chat"


def safe_next(target: str) -> str:
    """Only local paths: an open redirect after login would hand the session to a phishing page."""
    return (
        target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/chat"
    )


@get("/login", exclude_from_auth=True, include_in_schema=False)
async def login_page(next: FromQuery[str] = "/chat") -> Template:
    return Template("login.html", context={"next": safe_next(next), "error": None, "username": ""})


@post("/login", exclude_from_auth=True, include_in_schema=False, status_code=200)
async def login_submit(
    request: Request[Any, Any, Any],
    log_in: NamedDependency[LogIn],
    data: URLEncodedBody[LoginForm],
) -> Template | Redirect:
    try:
        result = await log_in.execute(
            username=data.username, password=data.password, client_address=client_address(request)
        )
    except (InvalidCredentials, LoginThrottled, TenantAccessDenied, NotAuthenticated) as error:
        status = 429 if isinstance(error, LoginThrottled) else 401
        context = {"next": safe_next(data.next), "error": error.message, "username": data.username}
        return Template("login.html", context=context, status_code=status)
    start_session(request, result.principal)
    return Redirect(path=safe_next(data.next), status_code=303)


@get("/logout", include_in_schema=False, exclude_from_auth=True)
async def logout_page(request: Request[Any, Any, Any]) -> Redirect:
    request.clear_session()
    return Redirect(path="/login", status_code=303)


@post("/logout", include_in_schema=False, exclude_from_auth=True, status_code=303)
async def logout_submit(request: Request[Any, Any, Any]) -> Redirect:
    request.clear_session()
    return Redirect(path="/login", status_code=303)


@get("/", include_in_schema=False)
async def home() -> Redirect:
    return Redirect(path="/chat")


@post("/session/tenant", include_in_schema=False, status_code=303)
async def switch_tenant(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    list_tenants: NamedDependency[ListTenants],
    data: URLEncodedBody[TenantSwitchForm],
) -> Redirect:
    """The session moves to another tenant of the user's; any other tenant is refused (403)."""
    try:
        wanted = UUID(data.tenant_id)
    except ValueError as error:
        raise InvalidInput("tenant_id is not a tenant id") from error
    memberships = await list_tenants.of_user(principal.user_id)
    if wanted not in {tenant.id for tenant in memberships}:
        raise TenantAccessDenied("You are not a member of that tenant")
    session = dict(request.session)
    session["tenant_id"] = str(wanted)
    request.set_session(session)
    target = safe_next(data.next)
    # A page of one record (a conversation, a campaign) belongs to the tenant left behind.
    section = "/" + target.strip("/").split("/", 1)[0]
    return Redirect(path=section if section != "/" else "/chat", status_code=303)


ROUTES = [login_page, login_submit, logout_page, logout_submit, home, switch_tenant]
