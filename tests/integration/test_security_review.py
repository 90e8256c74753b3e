"""The security review of auth and sessions (issue 6 item 5), as behaviour over real HTTP.

Password hashing cost, token expiry and revocation (logout, password change), session fixation, CSRF on
every form (found by walking the app's routes), cookie flags, login throttling, security headers and
event-webhook destinations (SSRF). Secrets in logs are checked in `test_secrets_in_logs.py`.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar.routes import HTTPRoute
from sqlalchemy.ext.asyncio import create_async_engine

from pywhatsapp.adapters.persistence.database import async_url
from pywhatsapp.adapters.persistence.models import UserRow, WebSessionRow
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.cli.main import cli
from pywhatsapp.entrypoints.settings import Settings
from tests.integration.conftest import PASSWORD, add_tenant_with_user, make_settings, token_for
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.postgres

SESSION_COOKIE = "pywhatsapp_session"
CSRF_COOKIE = "pywhatsapp_csrf"
NEW_PASSWORD = "a-brand-new-passphrase"
PRODUCTION_SECRET = "production-like-secret-0123456789abcdef"
# Paths that are not forms: the bearer-token API, Meta's signed webhooks, Meta's encrypted flow
# requests and the simulated Meta of the sandbox.
NOT_FORMS = ("/api/", "/webhooks", "/flows/data/", "/_sandbox")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf_token(page: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match, "the form carries a CSRF token"
    return match.group(1)


async def sign_in_page(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, **headers: str
) -> httpx.Response:
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "next": "/chat",
            "_csrf_token": csrf_token(form.text),
        },
        headers=headers,
    )


async def signed_in_page_client(base_url: str, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    response = await sign_in_page(client, username)
    assert response.status_code == 303, response.text
    return client


async def count_rows(database_url: str, statement: Any) -> Any:
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as connection:
            return await connection.scalar(statement)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def production_server(database_url: str) -> Iterator[LiveServer]:
    """The app as APP_ENV=production runs it: Secure cookies, HSTS, and no private webhook destinations."""
    settings = make_settings(
        database_url,
        APP_ENV="production",
        PASSWORD_HASH_ROUNDS="10",
        JWT_SECRET_KEY=PRODUCTION_SECRET,
        SESSION_SECRET_KEY=PRODUCTION_SECRET,
        ADMIN_PASSWORD="not-the-default-admin-password",
        EVENT_WEBHOOKS_ALLOW_PRIVATE="false",
    )
    with LiveServer(settings) as server:
        yield server


# --- password hashing ---------------------------------------------------------------------------


async def test_a_changed_password_is_stored_with_the_configured_bcrypt_cost(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, settings: Settings, database_url: str
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    token = await token_for(client, member.username)
    changed = await client.post(
        "/api/v1/auth/password",
        headers=bearer(token),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    stored = await count_rows(
        database_url, sa.select(UserRow.password_hash).where(UserRow.id == member.user_id)
    )
    assert stored.startswith(f"$2b${settings.PASSWORD_HASH_ROUNDS:02d}$")


# --- access tokens ------------------------------------------------------------------------------


async def test_an_expired_token_gets_401_in_the_envelope(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, settings: Settings
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    now = int(time.time())
    claims = {
        "iss": "pywhatsapp",
        "sub": str(member.user_id),
        "tid": str(member.tenant_id),
        "role": "owner",
        "iat": now - 7200,
        "exp": now - 3600,
    }
    expired = jwt.encode(claims, settings.JWT_SECRET_KEY, algorithm=settings.JWT_ALGORITHM)
    response = await client.get("/api/v1/auth/me", headers=bearer(expired))
    assert response.status_code == 401
    assert response.json()["status"] == "error" and "expired" in response.json()["message"]

    fresh = jwt.encode(
        {**claims, "iat": time.time(), "exp": now + 600},
        settings.JWT_SECRET_KEY,
        algorithm=settings.JWT_ALGORITHM,
    )
    assert (await client.get("/api/v1/auth/me", headers=bearer(fresh))).status_code == 200


@pytest.mark.parametrize("algorithm", ["none", "HS512"])
async def test_only_the_configured_algorithm_is_accepted(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, settings: Settings, algorithm: str
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    now = int(time.time())
    claims = {
        "iss": "pywhatsapp",
        "sub": str(member.user_id),
        "tid": str(member.tenant_id),
        "role": "owner",
        "iat": now,
        "exp": now + 600,
    }
    key = None if algorithm == "none" else settings.JWT_SECRET_KEY
    forged = jwt.encode(claims, key, algorithm=algorithm)  # type: ignore[arg-type]
    response = await client.get("/api/v1/auth/me", headers=bearer(forged))
    assert response.status_code == 401 and response.json()["status"] == "error"


async def test_logout_revokes_the_token_and_every_other_credential_of_the_user(
    client: httpx.AsyncClient, live_server: LiveServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    other = await add_tenant_with_user(uow_factory, "globex")
    token, second_token = await token_for(client, member.username), await token_for(client, member.username)
    others_token = await token_for(client, other.username)
    browser = await signed_in_page_client(live_server.url, member.username)
    try:
        assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200

        out = await client.post("/api/v1/auth/logout", headers=bearer(token))
        assert out.status_code == 200 and out.json()["status"] == "ok"

        for revoked in (token, second_token):
            again = await client.get("/api/v1/auth/me", headers=bearer(revoked))
            assert again.status_code == 401 and "revoked" in again.json()["message"]
        page = await browser.get("/chat")
        assert page.status_code in (302, 303) and page.headers["location"].startswith("/login")
        assert (await client.get("/api/v1/auth/me", headers=bearer(others_token))).status_code == 200

        renewed = await token_for(client, member.username)
        assert (await client.get("/api/v1/auth/me", headers=bearer(renewed))).status_code == 200
    finally:
        await browser.aclose()


async def test_an_api_key_cannot_log_out_or_change_a_password(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    token = await token_for(client, member.username)
    created = await client.post(
        "/api/v1/api-keys", headers=bearer(token), json={"name": "ci", "role": "admin"}
    )
    key = created.json()["data"]["key"]
    assert (await client.post("/api/v1/auth/logout", headers={"X-API-Key": key})).status_code == 403
    change = await client.post(
        "/api/v1/auth/password",
        headers={"X-API-Key": key},
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert change.status_code == 403


async def test_a_password_change_ends_old_tokens_and_sessions_and_hands_out_a_new_token(
    client: httpx.AsyncClient,
    live_server: LiveServer,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    database_url: str,
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    token, old_token = await token_for(client, member.username), await token_for(client, member.username)
    browser = await signed_in_page_client(live_server.url, member.username)
    user_sessions = sa.select(sa.func.count()).select_from(WebSessionRow)
    try:
        assert await count_rows(database_url, user_sessions) == 1

        wrong = await client.post(
            "/api/v1/auth/password",
            headers=bearer(token),
            json={"current_password": "not-my-password", "new_password": NEW_PASSWORD},
        )
        assert wrong.status_code == 403 and wrong.json()["status"] == "error"
        too_short = await client.post(
            "/api/v1/auth/password",
            headers=bearer(token),
            json={"current_password": PASSWORD, "new_password": "short"},
        )
        assert too_short.status_code == 422

        changed = await client.post(
            "/api/v1/auth/password",
            headers=bearer(token),
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert changed.status_code == 200, changed.text
        new_token = changed.json()["data"]["access_token"]

        for revoked in (token, old_token):
            assert (await client.get("/api/v1/auth/me", headers=bearer(revoked))).status_code == 401
        assert (await client.get("/api/v1/auth/me", headers=bearer(new_token))).status_code == 200
        assert await count_rows(database_url, user_sessions) == 0, "the user's page sessions are deleted"
        page = await browser.get("/chat")
        assert page.status_code in (302, 303) and page.headers["location"].startswith("/login")

        old = await client.post(
            "/api/v1/auth/login", json={"username": member.username, "password": PASSWORD}
        )
        assert old.status_code == 401
        assert (await token_for(client, member.username, NEW_PASSWORD)) != new_token
    finally:
        await browser.aclose()


async def test_guessing_the_current_password_is_throttled(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    token = await token_for(client, member.username)
    guess = {"current_password": "guess", "new_password": NEW_PASSWORD}
    for _ in range(5):
        wrong = await client.post("/api/v1/auth/password", headers=bearer(token), json=guess)
        assert wrong.status_code == 403
    throttled = await client.post("/api/v1/auth/password", headers=bearer(token), json=guess)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0


async def test_the_cli_sets_a_password_and_ends_the_users_tokens(
    client: httpx.AsyncClient,
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    database_url: str,
    settings: Settings,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    token = await token_for(client, member.username)
    monkeypatch.chdir(tmp_path)
    env = {
        "DATABASE_URL": database_url,
        "PASSWORD_HASH_ROUNDS": "4",
        "SESSION_SECRET_KEY": settings.SESSION_SECRET_KEY,
        "PYWHATSAPP_LOG_DIR": str(tmp_path / "logs"),
    }
    # In a thread: the command runs its own event loop.
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["users", "set-password", member.username, "--password", NEW_PASSWORD],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "Password set" in result.output
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401
    assert await token_for(client, member.username, NEW_PASSWORD)

    unknown = await asyncio.to_thread(
        CliRunner().invoke, cli, ["users", "set-password", "nobody-here", "--password", NEW_PASSWORD], env=env
    )
    assert unknown.exit_code != 0 and "nobody-here" in unknown.output


# --- sessions -----------------------------------------------------------------------------------


async def test_the_session_id_changes_at_login_and_the_old_one_dies(
    live_server: LiveServer, uow_factory: SqlAlchemyUnitOfWorkFactory, database_url: str
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        anonymous = await browser.get("/login")
        assert SESSION_COOKIE not in anonymous.cookies, "no session before signing in"
        first = await sign_in_page(browser, member.username)
        before = first.cookies[SESSION_COOKIE]
        second = await sign_in_page(browser, member.username)
        after = second.cookies[SESSION_COOKIE]
        assert after != before, "signing in issues a new session id"
        assert (await browser.get("/chat")).status_code == 200
    async with httpx.AsyncClient(base_url=live_server.url, cookies={SESSION_COOKIE: before}) as stale:
        assert (await stale.get("/chat")).status_code in (302, 303), "the session before login is gone"
    sessions = sa.select(sa.func.count()).select_from(WebSessionRow)
    assert await count_rows(database_url, sessions) == 1


async def test_logout_deletes_the_server_side_session(
    live_server: LiveServer, uow_factory: SqlAlchemyUnitOfWorkFactory, database_url: str
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    browser = await signed_in_page_client(live_server.url, member.username)
    sessions = sa.select(sa.func.count()).select_from(WebSessionRow)
    try:
        cookie = browser.cookies[SESSION_COOKIE]
        assert await count_rows(database_url, sessions) == 1
        page = await browser.get("/chat")
        out = await browser.post("/logout", data={"_csrf_token": csrf_token(page.text)})
        assert out.status_code == 303
        assert await count_rows(database_url, sessions) == 0
    finally:
        await browser.aclose()
    async with httpx.AsyncClient(base_url=live_server.url, cookies={SESSION_COOKIE: cookie}) as replay:
        assert (await replay.get("/chat")).status_code in (302, 303)


def _concrete(path: str) -> str:
    """A request path for a route template: any id will do, the CSRF check runs before the handler."""

    def value(match: re.Match[str]) -> str:
        kind = match.group(2) or "str"
        return {"uuid": str(uuid.uuid4()), "int": "1", "float": "1.0"}.get(kind, "x")

    return re.sub(r"\{(\w+)(?::(\w+))?\}", value, path)


def form_routes(app: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(NOT_FORMS):
            continue
        for method in sorted(set(route.methods) & UNSAFE):
            found.append((str(method), route.path))
    return found


async def test_every_form_refuses_a_request_without_its_csrf_token(
    live_server: LiveServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    routes = form_routes(live_server.app)
    paths = {path for _, path in routes}
    # The walk finds the forms (a renamed route must not silently empty it).
    assert {"/login", "/logout", "/session/tenant"} <= paths and len(routes) > 10, routes
    member = await add_tenant_with_user(uow_factory, "acme", role=Role.OWNER)
    browser = await signed_in_page_client(live_server.url, member.username)
    try:
        assert CSRF_COOKIE in browser.cookies
        unprotected = []
        for method, path in routes:
            response = await browser.request(method, _concrete(path), data={"name": "x"})
            if response.status_code != 403 or "csrf" not in response.text.lower():
                unprotected.append((method, path, response.status_code))
        assert not unprotected, f"forms that accept a request without a CSRF token: {unprotected}"
        assert (await browser.get("/chat")).status_code == 200, "the session itself is still valid"
    finally:
        await browser.aclose()


# --- cookies and headers ------------------------------------------------------------------------


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie header of the answer, by cookie name, lower-cased."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        found[name] = header.lower()
    return found


async def _sign_in_by_hand(base_url: str, username: str) -> tuple[httpx.Response, httpx.Response]:
    """Over plain HTTP a client keeps no Secure cookies, so the CSRF cookie is sent back by hand."""
    async with httpx.AsyncClient(base_url=base_url) as raw:
        form = await raw.get("/login")
        jar: SimpleCookie = SimpleCookie()
        for header in form.headers.get_list("set-cookie"):
            jar.load(header)
        cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())
        signed_in = await raw.post(
            "/login",
            data={"username": username, "password": PASSWORD, "_csrf_token": csrf_token(form.text)},
            headers={"Cookie": cookie},
        )
        return form, signed_in


async def test_cookies_are_httponly_samesite_and_not_secure_in_development(
    live_server: LiveServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    form, signed_in = await _sign_in_by_hand(live_server.url, member.username)
    assert signed_in.status_code == 303
    session = _set_cookies(signed_in)[SESSION_COOKIE]
    csrf = _set_cookies(form)[CSRF_COOKIE]
    assert "httponly" in session and "samesite=lax" in session and "secure" not in session
    assert "samesite=strict" in csrf and "secure" not in csrf
    assert "strict-transport-security" not in signed_in.headers


async def test_cookies_are_secure_and_hsts_is_sent_in_production(
    production_server: LiveServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    form, signed_in = await _sign_in_by_hand(production_server.url, member.username)
    assert signed_in.status_code == 303, signed_in.text
    session = _set_cookies(signed_in)[SESSION_COOKIE]
    csrf = _set_cookies(form)[CSRF_COOKIE]
    assert "httponly" in session and "samesite=lax" in session and "secure" in session
    assert "samesite=strict" in csrf and "secure" in csrf
    for answer in (form, signed_in):
        assert answer.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_pages_and_api_answers_carry_security_headers(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    # Pages run only the app's own script files: no inline script, handler attribute or eval.
    assert "script-src 'self';" in csp and "unsafe" not in csp.split("script-src")[1].split(";")[0]
    docs = await client.get("/docs")
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    assert "cdn.jsdelivr.net" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "camera=()" in page.headers["permissions-policy"]
    assert page.headers["cache-control"] == "no-store"
    api = await client.get("/api/v1/auth/me")
    assert api.status_code == 401 and api.headers["x-content-type-options"] == "nosniff"
    for other in ("/healthz", "/static/app.js", "/no-such-page"):
        assert (await client.get(other)).headers["x-content-type-options"] == "nosniff", other


# --- login throttling ---------------------------------------------------------------------------


async def test_api_login_is_throttled_per_username_and_address(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    other = await add_tenant_with_user(uow_factory, "globex")
    wrong = {"username": member.username, "password": "wrong-password"}
    for _ in range(5):
        assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    throttled = await client.post("/api/v1/auth/login", json={**wrong, "password": PASSWORD})
    assert throttled.status_code == 429 and throttled.json()["status"] == "error"
    assert int(throttled.headers["retry-after"]) > 0
    # Another user from the same address, and the same user from another address, are not locked out.
    assert await token_for(client, other.username)
    elsewhere = await client.post(
        "/api/v1/auth/login",
        json={"username": member.username, "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7"},  # uvicorn trusts it from 127.0.0.1
    )
    assert elsewhere.status_code == 200


async def test_page_login_is_throttled_too(
    live_server: LiveServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    async with httpx.AsyncClient(base_url=live_server.url) as browser:
        for _ in range(5):
            assert (await sign_in_page(browser, member.username, "wrong-password")).status_code == 401
        throttled = await sign_in_page(browser, member.username)
        assert throttled.status_code == 429
        assert "Too many" in throttled.text or "try again" in throttled.text.lower()
        assert SESSION_COOKIE not in throttled.cookies


async def test_one_address_trying_many_usernames_is_throttled(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    sprayer = {"X-Forwarded-For": "203.0.113.9"}
    for number in range(50):
        guess = {"username": f"guess-{number}", "password": "Winter2024!"}
        assert (await client.post("/api/v1/auth/login", json=guess, headers=sprayer)).status_code == 401
    right = {"username": member.username, "password": PASSWORD}
    throttled = await client.post("/api/v1/auth/login", json=right, headers=sprayer)
    assert throttled.status_code == 429
    assert (await client.post("/api/v1/auth/login", json=right)).status_code == 200


# --- event webhook destinations (SSRF) ----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
async def test_event_webhooks_to_the_servers_own_network_are_refused(
    production_server: LiveServer, uow_factory: SqlAlchemyUnitOfWorkFactory, url: str
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    async with httpx.AsyncClient(base_url=production_server.url) as client:
        token = await token_for(client, member.username)
        response = await client.post(
            "/api/v1/event-webhooks", headers=bearer(token), json={"url": url, "events": ["message_incoming"]}
        )
        assert response.status_code == 422, response.text
        assert (
            response.json()["status"] == "error"
            and "EVENT_WEBHOOKS_ALLOW_PRIVATE" in response.json()["message"]
        )


async def test_event_webhooks_to_public_addresses_are_accepted(
    production_server: LiveServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    async with httpx.AsyncClient(base_url=production_server.url) as client:
        token = await token_for(client, member.username)
        response = await client.post(
            "/api/v1/event-webhooks",
            headers=bearer(token),
            json={"url": "https://93.184.215.14/hook", "events": ["message_incoming"]},
        )
        assert response.status_code == 201, response.text
