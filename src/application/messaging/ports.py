"""What messaging use cases need from storage and from the realtime channel, beyond plain records."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.messaging.conversation import Conversation
from pywhatsapp.domain.messaging.message import Message, MessageStatus
from pywhatsapp.domain.messaging.reaction import Reaction
from pywhatsapp.domain.realtime.event import RealtimeEvent
from pywhatsapp.domain.templates.template import MessageTemplate


class Inbox(Protocol):
    """The tenant's contacts, messages, reactions and conversations, written idempotently."""

    async def record_contact(self, wa_id: str, *, name: str | None, inbound_at: datetime | None) -> Contact:
        """The contact with this WhatsApp id, created if new; a later inbound time moves its window."""
        ...

    async def set_opted_out(self, contact_id: UUID, opted_out: bool, at: datetime) -> bool:
        """Apply an opt-out change unless a later one is stored; the contact's opt-out state afterwards."""
        ...

    async def mark_sent(self, message_id: UUID, wamid: str) -> Message | None:
        """Meta accepted the send: the wamid is recorded and a still-pending message becomes sent."""
        ...

    async def add_message(self, message: Message) -> bool:
        """Store a message unless one with its wamid is already stored; True when it was new."""
        ...

    async def find_message(self, wamid: str) -> Message | None: ...

    async def update_message(self, message: Message) -> None: ...

    async def advance_status(
        self,
        wamid: str,
        status: MessageStatus,
        *,
        at: datetime,
        error_code: int | None = None,
        error_title: str | None = None,
        callback_data: str | None = None,
    ) -> Message | None:
        """Move the message's status forward (never back); the updated message, or None if nothing moved.

        A status for a wamid we never stored is matched through `callback_data` (the message id we sent
        as biz_opaque_callback_data) to a send whose answer was lost."""
        ...

    async def save_reaction(self, reaction: Reaction) -> Reaction:
        """One reaction per person per message: a new emoji replaces the old one, None removes it."""
        ...

    async def attach_reactions(self, target_wamid: str, message_id: UUID) -> int:
        """Reactions that arrived before their message get linked to it now."""
        ...

    async def touch_conversation(self, contact: Contact, message: Message) -> Conversation:
        """The contact's conversation with this message as its latest (unread +1 when inbound)."""
        ...


class Templates(Protocol):
    async def find(
        self, *, meta_template_id: str | None, name: str | None, language: str | None
    ) -> MessageTemplate | None: ...

    async def save(self, template: MessageTemplate) -> MessageTemplate: ...


class EventPublisher(Protocol):
    """Announces events to every worker's subscribers, when (and only if) the transaction commits."""

    async def publish(self, event: RealtimeEvent) -> None: ...


@runtime_checkable
class ChannelDirectory(Protocol):
    """Finds which tenant's channel a webhook is about (across tenants, read-only)."""

    async def by_phone_number_id(self, phone_number_id: str, *, fresh: bool = False) -> Channel | None:
        """The channel with this phone number id; `fresh` skips any cache."""
        ...

    async def by_waba_id(self, waba_id: str) -> Channel | None:
        """The channel with this WABA id; None when channels of more than one tenant have it."""
        ...

    async def verify_tokens(self) -> set[str]:
        """Every channel's verify token, for Meta's subscription challenge."""
        ...

    def forget(self) -> None:
        """Drop cached lookups after a channel changed."""
        ...
