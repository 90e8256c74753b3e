"""A real WhatsApp group, created and managed through the Cloud API's Groups API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id


@dataclass(kw_only=True)
class Group:
    tenant_id: UUID
    subject: str
    id: UUID = field(default_factory=new_id)
    group_id: str | None = None
    """Meta's id of the group, once created there."""
    channel_id: UUID | None = None
    description: str | None = None
    invite_link: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass(kw_only=True)
class GroupParticipant:
    tenant_id: UUID
    group_id: UUID
    wa_id: str
    id: UUID = field(default_factory=new_id)
    is_admin: bool = False
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
