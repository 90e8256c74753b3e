"""Every body Meta posts is kept as it came, with what became of it, so it can be inspected and replayed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id


class WebhookOutcome(StrEnum):
    PROCESSED = "processed"
    UNPARSEABLE = "unparseable"
    UNKNOWN_PHONE_NUMBER = "unknown_phone_number"
    REJECTED_SIGNATURE = "rejected_signature"
    REPLAYED = "replayed"
    UNSTORABLE = "unstorable"
    """Signed and parsed, but holding a value the database refuses (an overlong id): kept here, applied
    nowhere, acknowledged so that Meta stops sending it."""


@dataclass(kw_only=True)
class WebhookLogEntry:
    tenant_id: UUID | None
    """None for bodies about a phone number that no tenant owns."""
    id: UUID = field(default_factory=new_id)
    phone_number_id: str | None = None
    field_name: str | None = None
    outcome: WebhookOutcome = WebhookOutcome.PROCESSED
    reason: str | None = None
    body: dict[str, Any] | list[Any] | None = None
    raw_body: str = ""
    item_count: int = 0
    received_at: datetime = field(default_factory=utc_now)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
