"""What the identity use cases need from the outside world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from pywhatsapp.domain.identity.api_key import ApiKey
from pywhatsapp.domain.tenancy.membership import Role


class PasswordHasher(Protocol):
    """Hashing is deliberately slow; implementations must not block the event loop while they work."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password: str, password_hash: str) -> bool: ...


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


class ApiKeyDirectory(Protocol):
    """Finds an API key by its public prefix across tenants (the key itself names its tenant)."""

    async def by_prefix(self, prefix: str) -> ApiKey | None: ...

    async def touch(self, key: ApiKey, at: datetime) -> None:
        """Record that the key was used."""
        ...


class LoginAttempts(Protocol):
    """Sign-in attempt counters shared by every worker of the installation."""

    async def register_attempt(self, key: str, *, window_seconds: int) -> int:
        """Count one more attempt for `key` in its window, atomically; return the count including it."""
        ...

    async def clear(self, key: str) -> None: ...

    async def failures(self, key: str) -> int:
        """The attempts counted for `key` in its current window (0 once the window has run out)."""
        ...


class WebSessions(Protocol):
    """The server-side page sessions."""

    async def end_all_of(self, user_id: UUID) -> int:
        """Delete every page session of the user (after a password change); return how many."""
        ...
