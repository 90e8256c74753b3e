"""Access tokens as JWTs signed with JWT_SECRET_KEY: user, tenant and role, with an expiry."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt

from pywhatsapp.application.identity.ports import IssuedToken, TokenClaims
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import NotAuthenticated
from pywhatsapp.domain.tenancy.membership import Role

ISSUER = "pywhatsapp"


class JwtAccessTokens:
    def __init__(self, *, secret: str, algorithm: str, lifetime: timedelta) -> None:
        self._secret = secret
        self._algorithm = algorithm
        self._lifetime = lifetime

    def issue(self, *, user_id: UUID, tenant_id: UUID, role: Role) -> IssuedToken:
        now = utc_now()
        expires_at = now + self._lifetime
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": str(user_id),
            "tid": str(tenant_id),
            "role": role.value,
            # To the microsecond (RFC 7519 allows fractions): a token issued just before a logout or a
            # password change in the same second must count as issued before it, and one issued just after
            # (signing in again) as after it.
            "iat": now.timestamp(),
            "exp": int(expires_at.timestamp()),
            "jti": secrets.token_hex(12),
        }
        return IssuedToken(
            token=jwt.encode(claims, self._secret, algorithm=self._algorithm), expires_at=expires_at
        )

    def decode(self, token: str) -> TokenClaims:
        try:
            # Only the configured algorithm is accepted: `alg: none` and algorithm swaps fail here.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "tid", "role", "iss"]},
            )
            return TokenClaims(
                user_id=UUID(claims["sub"]),
                tenant_id=UUID(claims["tid"]),
                role=Role(claims["role"]),
                issued_at=datetime.fromtimestamp(claims["iat"], UTC),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
                token_id=str(claims.get("jti", "")),
            )
        except jwt.ExpiredSignatureError as error:
            raise NotAuthenticated("The access token has expired; sign in again") from error
        except (jwt.InvalidTokenError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise NotAuthenticated("The access token is not valid") from error
