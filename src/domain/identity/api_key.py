"""Tenant API keys for server-to-server use: shown once, stored as a hash, revocable, optionally expiring."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id
from pywhatsapp.domain.tenancy.membership import Role

KEY_PREFIX = "pwa_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    """A new key: `secret` is the whole key, as the client must send it; it is never stored."""

    prefix: str
    secret: str
    key_hash: str


def issue_key() -> IssuedKey:
    # Keys carry 256 random bits: a fast hash is enough (no brute force can reach them), and lookups by
    # the public prefix keep verification to one row.
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedKey(prefix=prefix, secret=secret, key_hash=hash_key(secret))


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    return credential.startswith(KEY_PREFIX)


def prefix_of(secret: str) -> str | None:
    body = secret.removeprefix(KEY_PREFIX)
    prefix, _, rest = body.partition("_")
    return prefix if prefix and rest else None


@dataclass(kw_only=True)
class ApiKey:
    tenant_id: UUID
    name: str
    role: Role
    prefix: str
    key_hash: str
    id: UUID = field(default_factory=new_id)
    created_by_user_id: UUID | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.key_hash, hash_key(secret))

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def worth_touching(self, now: datetime) -> bool:
        """Record use at most once a minute: a write per request would cost more than it tells."""
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION
