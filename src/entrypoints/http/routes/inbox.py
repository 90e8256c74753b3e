"""The inbox API: conversations, threads, messages with filters, marking read, and the webhook log."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from pywhatsapp.application.inbox.mark_conversation_read import MarkConversationRead
from pywhatsapp.application.inbox.read_models import (
    ConversationSummary,
    Cursor,
    InboxReader,
    KeysetPage,
    MessageFilters,
    ThreadMessage,
    WebhookLogFilters,
)
from pywhatsapp.application.webhooks.replay_webhook import ReplayWebhook
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import InvalidInput, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.conversation import window_is_open
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.envelope import Envelope, ok
from pywhatsapp.entrypoints.http.schemas import ContactRead, MessageRead, WebhookLogRead, present
from pywhatsapp.entrypoints.http.security import requires

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
CursorParam = Annotated[
    str | None, QueryParameter(max_length=200, description="`next_cursor` of the previous page")
]


def encode_cursor(cursor: Cursor | None) -> str | None:
    if cursor is None:
        return None
    return base64.urlsafe_b64encode(f"{cursor.at.isoformat()}|{cursor.id}".encode()).decode()


def decode_cursor(value: str | None) -> Cursor | None:
    if not value:
        return None
    try:
        at, _, row_id = base64.urlsafe_b64decode(value.encode()).decode().partition("|")
        return Cursor(at=datetime.fromisoformat(at), id=UUID(row_id))
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidInput("cursor is not one this API gave out") from error


class ReactionRead(msgspec.Struct):
    id: UUID
    emoji: str | None
    wa_id: str
    direction: str


class ThreadMessageRead(MessageRead):
    reactions: list[ReactionRead] = []


class ConversationRead(msgspec.Struct):
    id: UUID
    contact: ContactRead
    wa_id: str
    last_message: MessageRead | None
    last_message_at: datetime | None
    unread_count: int
    window_open: bool
    window_expires_at: datetime | None


class CursorPage(msgspec.Struct):
    total: int
    next_cursor: str | None
    limit: int


class ConversationPage(CursorPage):
    items: list[ConversationRead] = []


class ThreadPage(CursorPage):
    items: list[ThreadMessageRead] = []


class MessagePage(CursorPage):
    items: list[MessageRead] = []


class WebhookLogPage(CursorPage):
    items: list[WebhookLogRead] = []


Row = TypeVar("Row")
Shape = TypeVar("Shape", bound=CursorPage)


def cursor_page(
    shape: Callable[..., Shape], page: KeysetPage[Row], read: Callable[[Row], Any], limit: int
) -> Shape:
    """A keyset page as the API's `shape` (a CursorPage), each row shown as `read` makes it."""
    return shape(
        items=[read(row) for row in page.items],
        total=page.total,
        next_cursor=encode_cursor(page.next_cursor),
        limit=limit,
    )


def _conversation(summary: ConversationSummary) -> ConversationRead:
    return ConversationRead(
        id=summary.id,
        contact=present(summary.contact, ContactRead),
        wa_id=summary.contact.wa_id,
        last_message=present(summary.last_message, MessageRead) if summary.last_message else None,
        last_message_at=summary.last_message_at,
        unread_count=summary.unread_count,
        window_open=window_is_open(summary.last_inbound_at, utc_now()),
        window_expires_at=summary.window_expires_at(),
    )


def _thread_message(item: ThreadMessage) -> ThreadMessageRead:
    base = msgspec.structs.asdict(present(item.message, MessageRead))
    reactions = [
        ReactionRead(id=r.id, emoji=r.emoji, wa_id=r.wa_id, direction=r.direction.value)
        for r in item.reactions
    ]
    return ThreadMessageRead(**base, reactions=reactions)


async def _stored_conversation(
    reader: InboxReader, principal: Principal, conversation_id: UUID
) -> ConversationSummary:
    summary = await reader.conversation(principal.tenant_id, conversation_id)
    if summary is None:
        raise NotFound(f"No conversation {conversation_id} in this tenant")
    return summary


async def _list_conversations(
    principal: Principal, reader: InboxReader, limit: int, cursor: str | None, search: str | None
) -> Envelope[ConversationPage]:
    page = await reader.conversations(
        principal.tenant_id, limit=limit, after=decode_cursor(cursor), search=search
    )
    return ok(cursor_page(ConversationPage, page, _conversation, limit))


@get("/api/v1/conversations", tags=["conversations"], summary="Conversations, newest activity first")
async def list_conversations(
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    limit: Limit = 50,
    cursor: CursorParam = None,
    search: Annotated[str | None, QueryParameter(max_length=100, description="Name or number")] = None,
) -> Envelope[ConversationPage]:
    return await _list_conversations(principal, inbox_reader, limit, cursor, search)


@get(
    "/api/conversations",
    tags=["conversations"],
    summary="Conversations (the seed's path)",
    operation_id="list_conversations_legacy",
)
async def list_conversations_legacy(
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Envelope[ConversationPage]:
    return await _list_conversations(principal, inbox_reader, limit, cursor, None)


@get("/api/v1/conversations/{conversation_id:uuid}", tags=["conversations"], summary="One conversation")
async def get_conversation(
    conversation_id: UUID, principal: NamedDependency[Principal], inbox_reader: NamedDependency[InboxReader]
) -> Envelope[ConversationRead]:
    return ok(_conversation(await _stored_conversation(inbox_reader, principal, conversation_id)))


@get(
    "/api/v1/conversations/{conversation_id:uuid}/messages",
    tags=["conversations"],
    summary="A conversation's thread, newest first; pass next_cursor to page back",
)
async def conversation_thread(
    conversation_id: UUID,
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Envelope[ThreadPage]:
    await _stored_conversation(inbox_reader, principal, conversation_id)  # 404 rather than an empty thread
    page = await inbox_reader.thread(
        principal.tenant_id, conversation_id, limit=limit, before=decode_cursor(cursor)
    )
    return ok(cursor_page(ThreadPage, page, _thread_message, limit))


@post(
    "/api/v1/conversations/{conversation_id:uuid}/read",
    tags=["conversations"],
    status_code=200,
    summary="Mark a conversation read (and its last inbound message read at Meta)",
)
async def mark_conversation_read(
    conversation_id: UUID,
    principal: NamedDependency[Principal],
    mark_conversation_read: NamedDependency[MarkConversationRead],
) -> Envelope[dict[str, Any]]:
    last_inbound = await mark_conversation_read.execute(principal, conversation_id)
    return ok(
        {"conversation_id": str(conversation_id), "read_up_to": last_inbound.wamid if last_inbound else None},
        message="Marked read",
    )


@get("/api/v1/messages", tags=["messages"], summary="Messages, newest first, with filters")
async def list_messages(
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    limit: Limit = 50,
    cursor: CursorParam = None,
    direction: Annotated[str | None, QueryParameter(pattern="^(incoming|outgoing)$")] = None,
    type: Annotated[str | None, QueryParameter(max_length=40)] = None,
    status: Annotated[str | None, QueryParameter(max_length=20)] = None,
    contact_id: UUID | None = None,
    wa_id: Annotated[str | None, QueryParameter(max_length=32)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Annotated[str | None, QueryParameter(max_length=200, description="Text contains")] = None,
    group_id: Annotated[UUID | None, QueryParameter(description="Messages of this group")] = None,
) -> Envelope[MessagePage]:
    filters = MessageFilters(
        direction=direction,
        type=type,
        status=status,
        contact_id=contact_id,
        wa_id=wa_id,
        since=since,
        until=until,
        text=q,
        group_id=group_id,
    )
    page = await inbox_reader.messages(
        principal.tenant_id, filters, limit=limit, before=decode_cursor(cursor)
    )
    return ok(cursor_page(MessagePage, page, lambda message: present(message, MessageRead), limit))


@get(
    "/api/v1/webhooks",
    tags=["webhook_logs"],
    summary="The webhook log, newest first (admin role)",
    guards=[requires(Role.ADMIN)],
)
async def list_webhook_logs(
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    limit: Limit = 50,
    cursor: CursorParam = None,
    since: datetime | None = None,
    until: datetime | None = None,
    field: Annotated[str | None, QueryParameter(max_length=64)] = None,
    outcome: Annotated[str | None, QueryParameter(max_length=32)] = None,
) -> Envelope[WebhookLogPage]:
    filters = WebhookLogFilters(since=since, until=until, field_name=field, outcome=outcome)
    page = await inbox_reader.webhook_logs(
        principal.tenant_id, filters, limit=limit, before=decode_cursor(cursor)
    )
    return ok(cursor_page(WebhookLogPage, page, lambda entry: present(entry, WebhookLogRead), limit))


@post(
    "/api/v1/webhooks/{entry_id:uuid}/replay",
    tags=["webhook_logs"],
    status_code=200,
    summary="Apply a logged body again (idempotent; admin role)",
    guards=[requires(Role.ADMIN)],
)
async def replay_webhook_log(
    entry_id: UUID, principal: NamedDependency[Principal], replay_webhook: NamedDependency[ReplayWebhook]
) -> Envelope[dict[str, Any]]:
    report = await replay_webhook.execute(principal.tenant_id, entry_id)
    return ok({"outcome": report.outcome.value, "updates": report.updates}, message="Replayed")
