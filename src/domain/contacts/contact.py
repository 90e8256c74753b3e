"""A customer the business talks to, known by their WhatsApp id (E.164 digits without '+')."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id


@dataclass(kw_only=True)
class Contact:
    tenant_id: UUID
    wa_id: str
    id: UUID = field(default_factory=new_id)
    name: str | None = None
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    opted_out: bool = False
    opted_out_changed_at: datetime | None = None
    last_inbound_at: datetime | None = None
    """Start of the 24-hour customer-service window."""
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
