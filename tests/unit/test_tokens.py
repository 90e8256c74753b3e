"""JWT access tokens: what is issued decodes back; anything expired, forged or incomplete is refused."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import jwt
import pytest

from pywhatsapp.adapters.auth.tokens import ISSUER, JwtAccessTokens
from pywhatsapp.domain.errors import NotAuthenticated
from pywhatsapp.domain.tenancy.membership import Role
from tests.unit.conftest import JWT_SECRET

LIFETIME = timedelta(minutes=15)
USER = uuid4()
TENANT = uuid4()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": str(USER),
        "tid": str(TENANT),
        "role": "admin",
        "iat": now,
        "exp": now + 600,
        "jti": "abc",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(payload: dict[str, Any], secret: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=algorithm)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_issued_token_decodes_to_the_same_user_tenant_and_role(tokens: JwtAccessTokens) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    issued = tokens.issue(user_id=USER, tenant_id=TENANT, role=Role.OWNER)
    decoded = tokens.decode(issued.token)

    assert decoded.user_id == USER
    assert decoded.tenant_id == TENANT
    assert decoded.role is Role.OWNER
    assert before <= decoded.issued_at <= datetime.now(UTC)
    # The issue time keeps its fraction of a second (for exact revocation); the expiry does not.
    assert timedelta(0) <= LIFETIME - (decoded.expires_at - decoded.issued_at) < timedelta(seconds=1)
    assert decoded.expires_at == issued.expires_at.replace(microsecond=0)
    assert decoded.token_id


def test_every_token_has_its_own_id(tokens: JwtAccessTokens) -> None:
    first = tokens.decode(tokens.issue(user_id=USER, tenant_id=TENANT, role=Role.AGENT).token)
    second = tokens.decode(tokens.issue(user_id=USER, tenant_id=TENANT, role=Role.AGENT).token)
    assert first.token_id != second.token_id


def test_expired_token_is_refused_saying_so(tokens: JwtAccessTokens) -> None:
    expired = JwtAccessTokens(secret=JWT_SECRET, algorithm="HS256", lifetime=timedelta(minutes=-1))
    token = expired.issue(user_id=USER, tenant_id=TENANT, role=Role.ADMIN).token
    with pytest.raises(NotAuthenticated, match="expired"):
        tokens.decode(token)


def test_tampered_payload_is_refused(tokens: JwtAccessTokens) -> None:
    header, _, signature = tokens.issue(user_id=USER, tenant_id=TENANT, role=Role.AGENT).token.split(".")
    promoted = b64(json.dumps(claims(role="owner")).encode())
    with pytest.raises(NotAuthenticated, match="not valid"):
        tokens.decode(f"{header}.{promoted}.{signature}")


def test_tampered_signature_is_refused(tokens: JwtAccessTokens) -> None:
    header, payload, signature = tokens.issue(user_id=USER, tenant_id=TENANT, role=Role.AGENT).token.split(
        "."
    )
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0xFF
    with pytest.raises(NotAuthenticated, match="not valid"):
        tokens.decode(f"{header}.{payload}.{b64(bytes(raw))}")


def test_token_signed_with_another_secret_is_refused(tokens: JwtAccessTokens) -> None:
    other = JwtAccessTokens(secret="another-secret-" + "x" * 50, algorithm="HS256", lifetime=LIFETIME)
    with pytest.raises(NotAuthenticated):
        tokens.decode(other.issue(user_id=USER, tenant_id=TENANT, role=Role.ADMIN).token)


def test_unsigned_alg_none_token_is_refused(tokens: JwtAccessTokens) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    with pytest.raises(NotAuthenticated):
        tokens.decode(f"{header}.{payload}.")


def test_token_with_another_algorithm_is_refused(tokens: JwtAccessTokens) -> None:
    with pytest.raises(NotAuthenticated):
        tokens.decode(signed(claims(), algorithm="HS512"))


@pytest.mark.parametrize("missing", ["tid", "sub", "role", "exp", "iat", "iss"])
def test_token_missing_a_required_claim_is_refused(tokens: JwtAccessTokens, missing: str) -> None:
    payload = claims()
    del payload[missing]
    with pytest.raises(NotAuthenticated):
        tokens.decode(signed(payload))


@pytest.mark.parametrize(
    "overrides",
    [{"iss": "someone-else"}, {"role": "superuser"}, {"tid": "not-a-uuid"}, {"sub": "not-a-uuid"}],
)
def test_token_with_wrong_claims_is_refused(tokens: JwtAccessTokens, overrides: dict[str, Any]) -> None:
    with pytest.raises(NotAuthenticated):
        tokens.decode(signed(claims(**overrides)))


@pytest.mark.parametrize("tid", [12345])
def test_token_with_a_non_text_tenant_is_refused(tokens: JwtAccessTokens, tid: object) -> None:
    # The port promises NotAuthenticated for any invalid token, not a crash (which would be a 500).
    with pytest.raises(NotAuthenticated):
        tokens.decode(signed(claims(tid=tid)))


def test_a_well_formed_hand_built_token_is_accepted(tokens: JwtAccessTokens) -> None:
    # Guards the helpers above: the refusals are due to the change each test makes, not to `claims()`.
    assert tokens.decode(signed(claims())).tenant_id == TENANT


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "Bearer x.y.z"])
def test_garbage_is_refused(tokens: JwtAccessTokens, garbage: str) -> None:
    with pytest.raises(NotAuthenticated):
        tokens.decode(garbage)
