"""Signing in through the API, and what happens to every kind of bad credential."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.entrypoints.settings import Settings
from tests.integration.conftest import PASSWORD, add_tenant_with_user, token_for

pytestmark = pytest.mark.postgres


def _assert_error_envelope(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    body: dict[str, object] = response.json()
    assert body["status"] == "error"
    assert body["data"] is None
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in body["message"]
    return body


async def test_login_returns_a_token_that_opens_the_api(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, settings: Settings
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    response = await client.post(
        "/api/v1/auth/login", json={"username": member.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["message"] == "Signed in"
    data = body["data"]
    assert data["token_type"] == "bearer"
    assert data["tenant"]["slug"] == "acme" and data["role"] == "owner"
    claims = jwt.decode(data["access_token"], settings.JWT_SECRET_KEY, algorithms=[settings.JWT_ALGORITHM])
    assert claims["sub"] == str(member.user_id)
    assert claims["tid"] == str(member.tenant_id)
    assert claims["role"] == "owner"
    lifetime = claims["exp"] - claims["iat"]  # iat keeps its fraction of a second (exact revocation)
    assert 0 <= settings.JWT_ACCESS_TOKEN_LIFETIME_MINUTES * 60 - lifetime < 1

    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {data['access_token']}"})
    assert me.status_code == 200
    assert me.json()["data"]["username"] == member.username


@pytest.mark.parametrize(
    ("username", "password"), [("acme-user", "wrong-password"), ("nobody-here", PASSWORD)]
)
async def test_wrong_password_and_unknown_user_get_the_same_401(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, username: str, password: str
) -> None:
    await add_tenant_with_user(uow_factory, "acme")
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    body = _assert_error_envelope(response, 401)
    assert body["message"] == "Invalid username or password"


async def test_repeated_failures_are_throttled_even_with_the_right_password(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    for _ in range(5):
        wrong = await client.post(
            "/api/v1/auth/login", json={"username": member.username, "password": "nope-nope"}
        )
        assert wrong.status_code == 401
    right = await client.post("/api/v1/auth/login", json={"username": member.username, "password": PASSWORD})
    body = _assert_error_envelope(right, 429)
    assert "try again" in str(body["message"])
    assert int(right.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b'{"username": 5, "password": "x"}', 422),
        (b'{"username": "a"}', 422),
        (b"[]", 422),
    ],
)
async def test_malformed_login_bodies_get_a_clear_4xx(
    client: httpx.AsyncClient, body: bytes, status: int
) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    _assert_error_envelope(response, status)


async def test_a_huge_body_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    payload = b'{"username": "' + b"a" * (3 * 1024 * 1024) + b'", "password": "x"}'
    response = await client.post(
        "/api/v1/auth/login", content=payload, headers={"content-type": "application/json"}
    )
    _assert_error_envelope(response, 413)


def _forge(claims: dict[str, object], header: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


async def test_expired_tampered_and_unsigned_tokens_are_refused(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, settings: Settings
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    good = await token_for(client, member.username)
    now = int(time.time())
    claims = {
        "iss": "pywhatsapp",
        "sub": str(member.user_id),
        "tid": str(member.tenant_id),
        "role": "owner",
        "iat": now - 7200,
        "exp": now - 3600,
    }
    expired = jwt.encode(claims, settings.JWT_SECRET_KEY, algorithm="HS256")
    header, payload, signature = good.split(".")
    tampered_claims = json.loads(base64.urlsafe_b64decode(payload + "==")) | {
        "role": "owner",
        "tid": str(member.tenant_id),
        "sub": "00000000-0000-0000-0000-000000000000",
    }
    forged_payload = base64.urlsafe_b64encode(json.dumps(tampered_claims).encode()).rstrip(b"=").decode()
    tampered = f"{header}.{forged_payload}.{signature}"
    unsigned = _forge(claims | {"exp": now + 3600}, {"alg": "none", "typ": "JWT"})
    other_secret = jwt.encode(
        claims | {"exp": now + 3600}, "some-other-secret-0123456789abcdef", algorithm="HS256"
    )

    for token, expected in [
        (expired, "expired"),
        (tampered, "not valid"),
        (unsigned, "not valid"),
        (other_secret, "not valid"),
        ("garbage", "not valid"),
    ]:
        response = await client.get("/api/v1/contacts", headers={"Authorization": f"Bearer {token}"})
        body = _assert_error_envelope(response, 401)
        assert expected in str(body["message"]), (token, body)

    still_good = await client.get("/api/v1/contacts", headers={"Authorization": f"Bearer {good}"})
    assert still_good.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/messages",
        "/api/v1/conversations",
        "/api/conversations",
        "/api/v1/contacts",
        "/api/v1/groups",
        "/api/v1/audiences",
        "/api/v1/templates",
        "/api/v1/campaigns",
        "/api/v1/channels",
        "/api/v1/webhooks",
        "/api/v1/tenants",
        "/api/v1/auth/me",
    ],
)
async def test_every_api_route_needs_a_credential(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    _assert_error_envelope(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_other_authorization_schemes_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/contacts", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    _assert_error_envelope(response, 401)


async def test_list_paging_parameters_are_checked(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    headers = {"Authorization": f"Bearer {await token_for(client, member.username)}"}
    for query in ("limit=0", "limit=100000", "offset=-1", "limit=abc"):
        response = await client.get(f"/api/v1/contacts?{query}", headers=headers)
        _assert_error_envelope(response, 422)
    ok = await client.get("/api/v1/contacts?limit=5", headers=headers)
    assert ok.json()["data"] == {"items": [], "total": 0, "limit": 5, "offset": 0}


async def test_parallel_guesses_cannot_slip_past_the_throttle(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    import asyncio

    member = await add_tenant_with_user(uow_factory, "acme")
    guesses = [
        client.post("/api/v1/auth/login", json={"username": member.username, "password": f"guess-{n}"})
        for n in range(20)
    ]
    statuses = sorted(response.status_code for response in await asyncio.gather(*guesses))
    assert statuses == [401] * 5 + [429] * 15


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/api/v1/auth/login", {"json": {"username": "ad\u0000min", "password": "x"}}),
        (
            "POST",
            "/api/v1/auth/login",
            {"json": {"username": "admin", "password": "x", "tenant": "de\u0000f"}},
        ),
        ("POST", "/api/v1/auth/login", {"json": {"username": "a" * 151, "password": "x"}}),
        (
            "POST",
            "/api/v1/auth/login",
            {"content": b"[" * 100_000, "headers": {"content-type": "application/json"}},
        ),
        (
            "POST",
            "/api/v1/auth/login",
            {
                "content": b'{"username":"\xff","password":"b"}',
                "headers": {"content-type": "application/json"},
            },
        ),
    ],
)
async def test_hostile_login_bodies_get_a_4xx_never_a_500(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, object]
) -> None:
    response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["status"] == "error"


async def test_hostile_tenant_references_and_offsets_get_a_4xx(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    headers = {"Authorization": f"Bearer {await token_for(client, member.username)}"}
    for query in ("tenant=%00", "tenant=" + "x" * 5000, "offset=9223372036854775808", "limit=-1"):
        response = await client.get(f"/api/v1/contacts?{query}", headers=headers)
        assert 400 <= response.status_code < 500, (query, response.text)
        assert len(response.json()["message"]) < 300
    long_header = await client.get("/api/v1/contacts", headers=headers | {"X-Tenant-Id": "y" * 20_000})
    assert long_header.status_code in (400, 403, 431)


async def test_a_long_username_on_the_login_form_is_a_4xx(client: httpx.AsyncClient) -> None:
    import re

    form = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token
    response = await client.post(
        "/login", data={"username": "u" * 300, "password": "whatever", "_csrf_token": token.group(1)}
    )
    assert 400 <= response.status_code < 500
