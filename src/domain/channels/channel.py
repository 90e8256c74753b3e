"""A WhatsApp channel: one business phone number of a tenant at Meta, with the credentials to use it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.ids import new_id

DEFAULT_MESSAGES_PER_SECOND = 80
MAX_MESSAGES_PER_SECOND = 1000


def validate_messages_per_second(value: int) -> int:
    if not 1 <= value <= MAX_MESSAGES_PER_SECOND:
        raise InvalidInput(f"messages_per_second must be between 1 and {MAX_MESSAGES_PER_SECOND}")
    return value


@dataclass(kw_only=True)
class Channel:
    tenant_id: UUID
    phone_number_id: str
    access_token: str
    id: UUID = field(default_factory=new_id)
    name: str = "WhatsApp"
    waba_id: str | None = None
    display_phone_number: str | None = None
    app_id: str | None = None
    app_secret: str | None = None
    verify_token: str | None = None
    messages_per_second: int = DEFAULT_MESSAGES_PER_SECOND
    is_active: bool = True
    paused_reason: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        validate_messages_per_second(self.messages_per_second)
