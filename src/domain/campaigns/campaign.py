"""A campaign sends one template (or text, or a WhatsApp Flow) to many recipients, each tracked on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import Conflict, InvalidInput
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


# A recipient only moves forward: a late `sent` webhook never undoes `read`.
RECIPIENT_ORDER = {
    RecipientState.PENDING: 0,
    RecipientState.SENDING: 1,
    RecipientState.SENT: 2,
    RecipientState.DELIVERED: 3,
    RecipientState.READ: 4,
}
FINAL_STATES = frozenset({RecipientState.FAILED, RecipientState.SKIPPED})
OPEN_STATES = frozenset({RecipientState.PENDING, RecipientState.SENDING})
"""Recipients the sender still owes an attempt (or a reconciliation)."""


def recipient_can_move(current: RecipientState, new: RecipientState) -> bool:
    """Whether a status webhook may move a recipient from `current` to `new`."""
    if current in FINAL_STATES or current == new:
        return False
    if new is RecipientState.FAILED:
        # Meta reports failures after `sent`; never after the customer got or read the message.
        return current in (RecipientState.PENDING, RecipientState.SENDING, RecipientState.SENT)
    if new in RECIPIENT_ORDER:
        return RECIPIENT_ORDER[new] > RECIPIENT_ORDER[current]
    return False


class SkipReason(StrEnum):
    OPTED_OUT = "opted out"
    WINDOW_CLOSED = "outside the 24-hour window (free text needs a recent customer message)"
    INVALID_NUMBER = "not a valid phone number"


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
    """For a template: `{"components": [...]}` as Meta takes them, with `{{contact.name}}`-style fields."""
    flow: dict[str, Any] | None = None
    """For a flow campaign (`text` is the message body): `{"flow_id", "meta_flow_id", "cta", "screen",
    "data"}`; each recipient's flow token is `<flow id>.<recipient id>`."""
    status: CampaignStatus = CampaignStatus.DRAFT
    scheduled_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    created_by_user_id: UUID | None = None
    duplicates_skipped: int = 0
    paused_reason: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)

    @property
    def is_template(self) -> bool:
        return self.template_name is not None

    def start(self, now: datetime, at: datetime | None = None) -> None:
        """Start now, or at `at` (the scheduler starts it then)."""
        if self.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise Conflict(f"A {self.status.value} campaign cannot be started; resume or create a new one")
        if at is not None and at > now:
            self.status = CampaignStatus.SCHEDULED
            self.scheduled_at = at
            return
        self.status = CampaignStatus.RUNNING
        self.started_at = self.started_at or now

    def pause(self, reason: str | None = None) -> None:
        if self.status not in (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED):
            raise Conflict(f"Only a running or scheduled campaign can be paused; this one is {self.status}")
        self.status = CampaignStatus.PAUSED
        self.paused_reason = reason

    def resume(self, now: datetime) -> None:
        if self.status is not CampaignStatus.PAUSED:
            raise Conflict(f"Only a paused campaign can be resumed; this one is {self.status.value}")
        self.status = CampaignStatus.RUNNING
        self.started_at = self.started_at or now
        self.paused_reason = None

    def cancel(self, now: datetime) -> None:
        if self.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED, CampaignStatus.FAILED):
            raise Conflict(f"The campaign is already {self.status.value}")
        self.status = CampaignStatus.CANCELLED
        self.completed_at = now

    def ensure_editable(self) -> None:
        if self.status is not CampaignStatus.DRAFT:
            raise Conflict("Recipients can only be added while the campaign is a draft")


def validate_campaign_content(
    *, template_name: str | None, language: str | None, text: str | None, flow: bool = False
) -> None:
    if (template_name is None) == (text is None):
        raise InvalidInput(
            "A campaign sends either a template (template_name and language) or text (with a flow: its body)"
        )
    if flow and template_name is not None:
        raise InvalidInput(
            "A flow campaign sends the flow as an interactive message with `text` as its body, not a "
            "template (a template with a flow button carries its flow token in `parameters`)"
        )
    if template_name is not None and not language:
        raise InvalidInput("A template campaign needs the template's language (e.g. en_US)")
    if text is not None and not text.strip():
        raise InvalidInput("The campaign text is empty")


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


@dataclass(frozen=True)
class CampaignCounts:
    """How many recipients are in each state."""

    by_state: dict[str, int]
    duplicates_skipped: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def open(self) -> int:
        return sum(self.by_state.get(state.value, 0) for state in OPEN_STATES)

    def as_dict(self) -> dict[str, int]:
        counts = {state.value: self.by_state.get(state.value, 0) for state in RecipientState}
        return {**counts, "total": self.total, "duplicates_skipped": self.duplicates_skipped}


CALLBACK_PREFIX = "campaign_recipient:"


def callback_data_for(recipient_id: UUID) -> str:
    """What a campaign send carries as biz_opaque_callback_data, so a lost reply is matched later."""
    return f"{CALLBACK_PREFIX}{recipient_id}"


def recipient_id_from_callback(callback_data: str | None) -> UUID | None:
    if not callback_data or not callback_data.startswith(CALLBACK_PREFIX):
        return None
    try:
        return UUID(callback_data[len(CALLBACK_PREFIX) :])
    except ValueError:
        return None
