"""What the identity use cases need from the outside world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from pywhatsapp.domain.tenancy.membership import Role


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password: str, password_hash: str) -> bool: ...


@dataclass(frozen=True)
class TokenClaims:
    user_id: UUID
    tenant_id: UUID
    role: Role
    issued_at: datetime
    expires_at: datetime
    token_id: str


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


class AccessTokens(Protocol):
    def issue(self, *, user_id: UUID, tenant_id: UUID, role: Role) -> IssuedToken: ...

    def decode(self, token: str) -> TokenClaims:
        """Return the claims of a valid token; raise NotAuthenticated for any other."""
        ...


class LoginAttempts(Protocol):
    """Failed-login counters shared by every worker of the installation."""

    async def failures(self, key: str) -> int: ...

    async def record_failure(self, key: str, *, window_seconds: int) -> int: ...

    async def clear(self, key: str) -> None: ...
