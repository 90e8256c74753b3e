"""What campaigns need from storage: recipients in bulk, their states, and the sender's work queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from pywhatsapp.domain.campaigns.campaign import (
    Campaign,
    CampaignCounts,
    CampaignRecipient,
    CampaignStatus,
    RecipientState,
)
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.contact import Contact


@dataclass(frozen=True)
class AudienceSpec:
    """Who a campaign goes to: any mix of these, duplicates removed."""

    contact_ids: tuple[UUID, ...] = ()
    tags: tuple[str, ...] = ()
    audience_ids: tuple[UUID, ...] = ()


class CampaignRecipients(Protocol):
    """The tenant's campaign recipients (part of the unit of work)."""

    async def add_many(self, recipients: Sequence[CampaignRecipient]) -> int:
        """Store new recipients; one per number per campaign. The number actually added."""
        ...

    async def counts(self, campaign_id: UUID) -> CampaignCounts: ...

    async def page(
        self, campaign_id: UUID, *, state: RecipientState | None, limit: int, offset: int
    ) -> Sequence[CampaignRecipient]: ...

    async def advance(
        self,
        wamid: str,
        state: RecipientState,
        *,
        callback_data: str | None,
        error_code: int | None = None,
        error_title: str | None = None,
    ) -> CampaignRecipient | None:
        """A status webhook about a campaign send: move its recipient forward (never back)."""
        ...

    async def audience_contacts(self, spec: AudienceSpec) -> Sequence[Contact]:
        """The contacts the spec names (ids, tags, audiences), each once; unknown ids are ignored."""
        ...

    async def cancel_open(self, campaign_id: UUID) -> int:
        """A cancelled campaign's unsent recipients become skipped."""
        ...


@dataclass(frozen=True)
class SendResult:
    recipient_id: UUID
    state: RecipientState
    """SENT, FAILED, PENDING (retry later) or SENDING (answer lost: wait for the webhook)."""
    wamid: str | None = None
    error_code: int | None = None
    error_title: str | None = None
    next_attempt_at: datetime | None = None
    counts_as_attempt: bool = True


class ChannelLease(Protocol):
    """Exclusive right to send on one channel: one driver per channel (and so per campaign) at a time,
    released when its holder stops or dies (its database connection closes)."""

    channel: Channel

    async def running_campaigns(self) -> Sequence[Campaign]: ...

    async def claim(
        self, campaign: Campaign, *, limit: int, hold_until: datetime, exclude: Sequence[UUID]
    ) -> Sequence[CampaignRecipient]:
        """Due recipients (pending, or sending whose reconcile time passed), now marked sending until
        `hold_until`, committed before anything is sent."""
        ...

    async def record(self, campaign: Campaign, results: Sequence[SendResult]) -> None: ...

    async def open_count(self, campaign: Campaign) -> int: ...

    async def status(self, campaign: Campaign) -> CampaignStatus | None:
        """The campaign's status now (a user may have paused or cancelled it); None once deleted."""
        ...

    async def next_due_at(self, campaign: Campaign) -> datetime | None:
        """When the earliest open recipient is due, or None when none is open."""
        ...

    async def complete(self, campaign: Campaign) -> bool:
        """Mark it completed if nothing is open; True when it was completed now."""
        ...

    async def pause(self, campaign: Campaign, reason: str) -> None: ...

    async def release(self) -> None: ...


class CampaignQueue(Protocol):
    """The campaigns of every tenant, as the sender workers see them."""

    async def start_due(self, now: datetime) -> Sequence[Campaign]:
        """Scheduled campaigns whose time has come become running; those campaigns."""
        ...

    async def channels_to_drive(self) -> Sequence[UUID]:
        """Channels with at least one running campaign."""
        ...

    async def lease(self, channel_id: UUID) -> ChannelLease | None:
        """The channel's lease, or None while another driver holds it."""
        ...

    async def changed_campaigns(self, since: datetime) -> Sequence[tuple[UUID, UUID]]:
        """(tenant_id, campaign_id) of campaigns whose recipients changed since `since`."""
        ...
