"""HTML pages: sign in and out, and the pages agents work in."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from pywhatsapp.application.common.list_records import ListRecords
from pywhatsapp.application.identity.log_in import LogIn
from pywhatsapp.application.tenancy.list_tenants import ListTenants
from pywhatsapp.domain.errors import InvalidCredentials, LoginThrottled, NotAuthenticated, TenantAccessDenied
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.routes.auth import client_address
from pywhatsapp.entrypoints.http.security import start_session


class LoginForm(msgspec.Struct):
    username: Annotated[str, msgspec.Meta(max_length=150)] = ""
    password: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    next: Annotated[str, msgspec.Meta(max_length=2000)] = "/chat"


def _safe_next(target: str) -> str:
    """Only local paths: an open redirect after login would hand the session to a phishing page."""
    return (
        target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/chat"
    )


@get("/login", exclude_from_auth=True, include_in_schema=False)
async def login_page(next: FromQuery[str] = "/chat") -> Template:
    return Template("login.html", context={"next": _safe_next(next), "error": None, "username": ""})


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
        context = {"next": _safe_next(data.next), "error": error.message, "username": data.username}
        return Template("login.html", context=context, status_code=status)
    start_session(request, result.principal)
    return Redirect(path=_safe_next(data.next), status_code=303)


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


@get("/chat", include_in_schema=False, dependencies={"conversations": from_container("list_conversations")})
async def chat_page(
    principal: NamedDependency[Principal],
    conversations: NamedDependency[ListRecords[Any]],
    list_tenants: NamedDependency[ListTenants],
) -> Template:
    page = await conversations.execute(principal, limit=50)
    tenants = await list_tenants.of_user(principal.user_id)
    return Template(
        "chat.html",
        context={
            "principal": principal,
            "tenants": tenants,
            "conversations": page.items,
            "total": page.total,
        },
    )
