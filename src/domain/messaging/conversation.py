"""A conversation is the thread with one contact, and the 24-hour customer-service window it opens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id

SERVICE_WINDOW = timedelta(hours=24)


def window_is_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Free-form messages are allowed only within 24 hours of the contact's last message to us."""
    return last_inbound_at is not None and now - last_inbound_at < SERVICE_WINDOW


@dataclass(kw_only=True)
class Conversation:
    tenant_id: UUID
    contact_id: UUID
    id: UUID = field(default_factory=new_id)
    channel_id: UUID | None = None
    last_message_id: UUID | None = None
    last_message_at: datetime | None = None
    last_inbound_at: datetime | None = None
    unread_count: int = 0
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    def window_open(self, now: datetime | None = None) -> bool:
        return window_is_open(self.last_inbound_at, now or utc_now())
