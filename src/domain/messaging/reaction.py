"""An emoji reaction to a message; kept even when the message it points to has not arrived yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id
from pywhatsapp.domain.messaging.message import Direction


@dataclass(kw_only=True)
class Reaction:
    tenant_id: UUID
    target_wamid: str
    wa_id: str
    direction: Direction
    id: UUID = field(default_factory=new_id)
    emoji: str | None = None
    """None once the reaction was removed."""
    message_id: UUID | None = None
    wamid: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
