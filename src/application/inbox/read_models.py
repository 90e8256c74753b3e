"""What the inbox shows: conversations with their contact and last message, threads, filtered messages.

Lists page by keyset (a cursor naming the last row seen), so a page costs the same on the millionth
message as on the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar, runtime_checkable
from uuid import UUID

from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.messaging.conversation import SERVICE_WINDOW
from pywhatsapp.domain.messaging.message import Message
from pywhatsapp.domain.messaging.reaction import Reaction
from pywhatsapp.domain.webhooks.webhook_log import WebhookLogEntry

T = TypeVar("T")


@dataclass(frozen=True)
class Cursor:
    """Position after the last row of a page: its time and id (ties broken by id)."""

    at: datetime
    id: UUID


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    items: list[T]
    total: int
    next_cursor: Cursor | None


@dataclass(frozen=True)
class ConversationSummary:
    id: UUID
    contact: Contact
    last_message: Message | None
    unread_count: int
    last_message_at: datetime | None
    last_inbound_at: datetime | None

    def window_expires_at(self) -> datetime | None:
        return None if self.last_inbound_at is None else self.last_inbound_at + SERVICE_WINDOW


@dataclass(frozen=True)
class ThreadMessage:
    message: Message
    reactions: list[Reaction] = field(default_factory=list)


@dataclass(frozen=True)
class MessageFilters:
    direction: str | None = None
    type: str | None = None
    status: str | None = None
    contact_id: UUID | None = None
    wa_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    group_id: UUID | None = None


@dataclass(frozen=True)
class WebhookLogFilters:
    since: datetime | None = None
    until: datetime | None = None
    field_name: str | None = None
    outcome: str | None = None


@runtime_checkable
class InboxReader(Protocol):
    async def conversations(
        self, tenant_id: UUID, *, limit: int, after: Cursor | None, search: str | None = None
    ) -> KeysetPage[ConversationSummary]: ...

    async def conversation(self, tenant_id: UUID, conversation_id: UUID) -> ConversationSummary | None: ...

    async def thread(
        self, tenant_id: UUID, conversation_id: UUID, *, limit: int, before: Cursor | None
    ) -> KeysetPage[ThreadMessage]:
        """Newest first; `before` pages back in time."""
        ...

    async def messages(
        self, tenant_id: UUID, filters: MessageFilters, *, limit: int, before: Cursor | None
    ) -> KeysetPage[Message]: ...

    async def webhook_logs(
        self, tenant_id: UUID, filters: WebhookLogFilters, *, limit: int, before: Cursor | None
    ) -> KeysetPage[WebhookLogEntry]: ...

    async def webhook_log(self, tenant_id: UUID, entry_id: UUID) -> WebhookLogEntry | None: ...

    async def mark_read(self, tenant_id: UUID, conversation_id: UUID) -> Message | None:
        """Zero the conversation's unread count; the last inbound message (to mark read at Meta)."""
        ...
