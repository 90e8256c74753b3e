"""Messages in and out, and the one rule about their delivery status: it only moves forward."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    RECEIVED = "received"
    FAILED = "failed"
    DELETED = "deleted"


# Meta delivers statuses at least once and in any order; a message never moves back down this ladder.
_PROGRESS = {
    MessageStatus.PENDING: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
    MessageStatus.PLAYED: 4,
}


def status_can_advance(current: MessageStatus, new: MessageStatus) -> bool:
    """Whether a status webhook `new` may replace the stored `current` status."""
    if current in (MessageStatus.FAILED, MessageStatus.DELETED):
        return False
    if new is MessageStatus.FAILED:
        # A failure is recorded unless the message already demonstrably reached the phone.
        return _PROGRESS.get(current, 0) < _PROGRESS[MessageStatus.DELIVERED]
    if new in _PROGRESS and current in _PROGRESS:
        return _PROGRESS[new] > _PROGRESS[current]
    return new is MessageStatus.DELETED


@dataclass(kw_only=True)
class Message:
    tenant_id: UUID
    direction: Direction
    type: str
    wa_id: str
    id: UUID = field(default_factory=new_id)
    wamid: str | None = None
    channel_id: UUID | None = None
    contact_id: UUID | None = None
    conversation_id: UUID | None = None
    group_id: UUID | None = None
    status: MessageStatus = MessageStatus.PENDING
    text: str | None = None
    content: dict[str, Any] = field(default_factory=dict)
    context_wamid: str | None = None
    error_code: int | None = None
    error_title: str | None = None
    sent_by_user_id: UUID | None = None
    timestamp: datetime = field(default_factory=utc_now)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
    media_state: str | None = None
    """An inbound file's download: pending, stored, refused or failed (see domain/media/inbound.py)."""
    media_error: str | None = None
