"""A person who signs in. Users are global; what they may see is decided by their memberships."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.ids import new_id

_USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{3,150}$")
MIN_PASSWORD_LENGTH = 8


def is_plausible_username(username: str) -> bool:
    """Whether a username could exist at all; anything else is refused without a database lookup."""
    return bool(_USERNAME.fullmatch(username))


def validate_username(username: str) -> str:
    if not _USERNAME.fullmatch(username):
        raise InvalidInput("A username has 3-150 characters: letters, digits and _ . @ + -")
    return username


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode()) > 72:
        # bcrypt only reads the first 72 bytes; a longer one would silently be truncated.
        raise InvalidInput("A password may have at most 72 bytes")
    return password


@dataclass(kw_only=True)
class User:
    username: str
    password_hash: str
    tenant_id: UUID
    """The tenant the user was created in and lands in after signing in."""
    id: UUID = field(default_factory=new_id)
    email: str | None = None
    full_name: str | None = None
    is_active: bool = True
    tokens_valid_after: datetime = field(default_factory=utc_now)
    """Tokens issued before this moment are refused (set on password change and 'log out everywhere')."""
    last_login_at: datetime | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        validate_username(self.username)
