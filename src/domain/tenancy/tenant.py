"""A tenant is one business using the installation; nothing of one tenant is ever visible to another."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.ids import new_id

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def validate_slug(slug: str) -> str:
    """A slug names a tenant in URLs and in `X-Tenant-Id`: lowercase letters, digits and inner dashes."""
    if not _SLUG.fullmatch(slug):
        raise InvalidInput(
            f"Invalid tenant slug {slug!r}: use 1-63 lowercase letters, digits or dashes, "
            "starting and ending with a letter or digit"
        )
    return slug


@dataclass(kw_only=True)
class Tenant:
    name: str
    slug: str
    id: UUID = field(default_factory=new_id)
    is_active: bool = True
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        validate_slug(self.slug)
        if not self.name.strip():
            raise InvalidInput("A tenant needs a name")
