"""Signing in on the pages: server-side sessions in PostgreSQL, shared by every app instance."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.entrypoints.settings import Settings
from tests.integration.conftest import PASSWORD, add_tenant_with_user
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.postgres

SESSION_COOKIE = "pywhatsapp_session"


@pytest.fixture(scope="module")
def second_instance(settings: Settings) -> Iterator[LiveServer]:
    """Another app process-alike on the same database: what a second worker or host is."""
    with LiveServer(settings) as server:
        yield server


def _csrf_token(page: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match, "the login form carries a CSRF token"
    return match.group(1)


async def _sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/login")
    assert form.status_code == 200
    return await client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "next": "/chat",
            "_csrf_token": _csrf_token(form.text),
        },
    )


SIGNED_IN_PAGES = (
    "/",
    "/chat",
    "/dashboard",
    "/logs",
    "/contacts",
    "/groups",
    "/templates",
    "/campaigns",
    "/settings",
    "/flows",
    "/qr-codes",
)


async def test_signed_out_pages_redirect_to_login(client: httpx.AsyncClient) -> None:
    for path in SIGNED_IN_PAGES:
        response = await client.get(path)
        assert response.status_code in (302, 303, 307), (path, response.status_code, response.text)
        assert response.headers["location"].startswith("/login"), path


async def test_a_signed_out_htmx_request_reloads_into_the_login_form(client: httpx.AsyncClient) -> None:
    for path in ("/groups", "/contacts", "/flows"):
        response = await client.get(path, headers={"HX-Request": "true"})
        assert response.status_code == 401, path
        assert response.headers["hx-redirect"] == f"/login?next={path}"


async def test_login_page_signs_in_and_the_session_works_on_another_instance(
    live_server: LiveServer,
    second_instance: LiveServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    settings: Settings,
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme", username="agent-smith")
    async with httpx.AsyncClient(base_url=live_server.url) as first:
        response = await _sign_in(first, member.username)
        assert response.status_code == 303 and response.headers["location"] == "/chat"
        cookie = response.cookies[SESSION_COOKIE]
        set_cookie = response.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "samesite=lax" in set_cookie
        assert ("secure" in set_cookie) == settings.is_production
        page = await first.get("/chat")
        assert page.status_code == 200 and "agent-smith" in page.text

    async with httpx.AsyncClient(base_url=second_instance.url, cookies={SESSION_COOKIE: cookie}) as second:
        page = await second.get("/chat")
        assert page.status_code == 200, "a session made on one instance is valid on the other"
        assert "agent-smith" in page.text
        api = await second.get("/api/v1/contacts")
        assert api.status_code == 200, "GET on the API accepts the session cookie"
        await second.get("/logout")

    async with httpx.AsyncClient(base_url=live_server.url, cookies={SESSION_COOKIE: cookie}) as first_again:
        after_logout = await first_again.get("/chat")
        assert after_logout.status_code in (302, 303, 307), (
            "logging out on one instance ends the session everywhere"
        )


async def test_a_session_cookie_cannot_change_data_through_the_api(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    await _sign_in(client, member.username)
    response = await client.post(
        "/api/v1/auth/login", json={"username": member.username, "password": PASSWORD}
    )
    assert response.status_code == 200  # logging in needs no credential
    refused = await client.request("DELETE", "/api/v1/contacts")
    assert refused.status_code in (401, 405)


async def test_the_login_form_needs_its_csrf_token(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    response = await client.post("/login", data={"username": member.username, "password": PASSWORD})
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


async def test_a_session_id_planted_before_login_is_replaced(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    planted = "a" * 64
    client.cookies.set(SESSION_COOKIE, planted)
    response = await _sign_in(client, member.username)
    assert response.status_code == 303
    assert response.cookies[SESSION_COOKIE] != planted
    async with httpx.AsyncClient(
        base_url=str(client.base_url), cookies={SESSION_COOKIE: planted}
    ) as attacker:
        assert (await attacker.get("/chat")).status_code in (302, 303, 307)


async def test_bad_credentials_on_the_form_say_so(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    response = await _sign_in(client, member.username, password="not-the-password")
    assert response.status_code == 401
    assert "Invalid username or password" in response.text
    assert SESSION_COOKIE not in response.cookies or response.cookies[SESSION_COOKIE] == "null"


async def test_pages_carry_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_after_login_only_local_redirects_are_followed(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    form = await client.get("/login?next=https://evil.example/phish")
    assert "evil.example" not in form.text
    response = await client.post(
        "/login",
        data={
            "username": member.username,
            "password": PASSWORD,
            "next": "//evil.example",
            "_csrf_token": _csrf_token(form.text),
        },
    )
    assert response.headers["location"] == "/chat"
