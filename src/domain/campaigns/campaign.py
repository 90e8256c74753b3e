"""A campaign sends one template (or text) to many recipients, each tracked on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class RecipientState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(kw_only=True)
class Campaign:
    tenant_id: UUID
    name: str
    id: UUID = field(default_factory=new_id)
    channel_id: UUID | None = None
    template_name: str | None = None
    language: str | None = None
    text: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    status: CampaignStatus = CampaignStatus.DRAFT
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    created_by_user_id: UUID | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass(kw_only=True)
class CampaignRecipient:
    tenant_id: UUID
    campaign_id: UUID
    wa_id: str
    id: UUID = field(default_factory=new_id)
    contact_id: UUID | None = None
    state: RecipientState = RecipientState.PENDING
    parameters: dict[str, Any] = field(default_factory=dict)
    wamid: str | None = None
    error_code: int | None = None
    error_title: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
