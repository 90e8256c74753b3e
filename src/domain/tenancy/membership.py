"""Users belong to tenants through memberships, each with one role."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id


class Role(StrEnum):
    """Roles in rising order of power: each includes what the ones below it may do."""

    AGENT = "agent"
    ADMIN = "admin"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, required: Role) -> bool:
        return self.rank >= required.rank


_RANKS = {Role.AGENT: 0, Role.ADMIN: 1, Role.OWNER: 2}


@dataclass(kw_only=True)
class Membership:
    tenant_id: UUID
    user_id: UUID
    role: Role
    id: UUID = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
