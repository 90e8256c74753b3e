"""A message template approved (or not yet) by Meta, the only kind of message allowed outside the window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id


@dataclass(kw_only=True)
class MessageTemplate:
    tenant_id: UUID
    name: str
    language: str
    id: UUID = field(default_factory=new_id)
    channel_id: UUID | None = None
    meta_template_id: str | None = None
    category: str | None = None
    status: str = "PENDING"
    quality_score: str | None = None
    rejected_reason: str | None = None
    components: list[dict[str, Any]] = field(default_factory=list)
    parameter_format: str | None = None
    """POSITIONAL (`{{1}}`) or NAMED (`{{first_name}}`), as Meta reports it; None when not known yet."""
    synced_at: datetime | None = None
    """When a sync last found the template at Meta."""
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
