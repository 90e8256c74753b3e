"""An audience is a named list of contacts for campaigns: static members, or everyone with some tags."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id


class AudienceKind(StrEnum):
    STATIC = "static"
    DYNAMIC = "dynamic"


@dataclass(kw_only=True)
class Audience:
    tenant_id: UUID
    name: str
    id: UUID = field(default_factory=new_id)
    kind: AudienceKind = AudienceKind.STATIC
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass(kw_only=True)
class AudienceMember:
    tenant_id: UUID
    audience_id: UUID
    contact_id: UUID
    id: UUID = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
