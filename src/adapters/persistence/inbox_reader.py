"""Inbox reads in SQL, one tenant per session (confined by `scoping.py` like every other query)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from pywhatsapp.adapters.persistence.mapping import to_entity
from pywhatsapp.adapters.persistence.models import (
    ContactRow,
    ConversationRow,
    MessageRow,
    ReactionRow,
    WebhookLogRow,
)
from pywhatsapp.adapters.persistence.scoping import open_scope
from pywhatsapp.application.inbox.read_models import (
    ConversationSummary,
    Cursor,
    KeysetPage,
    MessageFilters,
    ThreadMessage,
    WebhookLogFilters,
)
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.errors import NotFound
from pywhatsapp.domain.messaging.message import Direction, Message
from pywhatsapp.domain.messaging.reaction import Reaction
from pywhatsapp.domain.webhooks.webhook_log import WebhookLogEntry

E = TypeVar("E")
EPOCH_SORT_NULLS = sa.literal("-infinity").cast(sa.DateTime(timezone=True))
EPOCH_CURSOR = datetime.min.replace(tzinfo=UTC)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SqlInboxReader:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    @asynccontextmanager
    async def _session(self, tenant_id: UUID) -> AsyncIterator[AsyncSession]:
        async with self._session_factory() as session:
            open_scope(session.sync_session, tenant_id)
            yield session

    async def conversations(
        self, tenant_id: UUID, *, limit: int, after: Cursor | None, search: str | None = None
    ) -> KeysetPage[ConversationSummary]:
        last = aliased(MessageRow)
        order_at = sa.func.coalesce(ConversationRow.last_message_at, EPOCH_SORT_NULLS)
        query = (
            sa.select(ConversationRow, ContactRow, last)
            .join(ContactRow, ContactRow.id == ConversationRow.contact_id)
            .outerjoin(last, last.id == ConversationRow.last_message_id)
        )
        if search:
            query = query.where(
                sa.or_(ContactRow.name.ilike(_like(search)), ContactRow.wa_id.like(_like(search)))
            )
        async with self._session(tenant_id) as session:
            total = int(await session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)
            if after is not None:
                query = query.where(sa.tuple_(order_at, ConversationRow.id) < sa.tuple_(after.at, after.id))
            rows = (
                await session.execute(
                    query.order_by(order_at.desc(), ConversationRow.id.desc()).limit(limit + 1)
                )
            ).all()
        items = [self._summary(c, contact, message) for c, contact, message in rows[:limit]]
        next_cursor = None
        if len(rows) > limit and items:
            tail = items[-1]
            next_cursor = Cursor(at=tail.last_message_at or EPOCH_CURSOR, id=tail.id)
        return KeysetPage(items=items, total=total, next_cursor=next_cursor)

    async def conversation(self, tenant_id: UUID, conversation_id: UUID) -> ConversationSummary | None:
        last = aliased(MessageRow)
        async with self._session(tenant_id) as session:
            row = (
                await session.execute(
                    sa.select(ConversationRow, ContactRow, last)
                    .join(ContactRow, ContactRow.id == ConversationRow.contact_id)
                    .outerjoin(last, last.id == ConversationRow.last_message_id)
                    .where(ConversationRow.id == conversation_id)
                )
            ).first()
        return None if row is None else self._summary(*row)

    async def thread(
        self, tenant_id: UUID, conversation_id: UUID, *, limit: int, before: Cursor | None
    ) -> KeysetPage[ThreadMessage]:
        query = sa.select(MessageRow).where(MessageRow.conversation_id == conversation_id)
        async with self._session(tenant_id) as session:
            total = int(
                await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(MessageRow)
                    .where(MessageRow.conversation_id == conversation_id)
                )
                or 0
            )
            if before is not None:
                query = query.where(
                    sa.tuple_(MessageRow.timestamp, MessageRow.id) < sa.tuple_(before.at, before.id)
                )
            rows = list(
                await session.scalars(
                    query.order_by(MessageRow.timestamp.desc(), MessageRow.id.desc()).limit(limit + 1)
                )
            )
            page = rows[:limit]
            reactions = (
                list(
                    await session.scalars(
                        sa.select(ReactionRow).where(ReactionRow.message_id.in_([r.id for r in page]))
                    )
                )
                if page
                else []
            )
        by_message: dict[UUID, list[Reaction]] = {}
        for reaction in reactions:
            by_message.setdefault(reaction.message_id, []).append(to_entity(reaction, Reaction))  # type: ignore[arg-type]
        items = [ThreadMessage(to_entity(row, Message), by_message.get(row.id, [])) for row in page]
        next_cursor = Cursor(at=page[-1].timestamp, id=page[-1].id) if len(rows) > limit else None
        return KeysetPage(items=items, total=total, next_cursor=next_cursor)

    async def messages(
        self, tenant_id: UUID, filters: MessageFilters, *, limit: int, before: Cursor | None
    ) -> KeysetPage[Message]:
        conditions: list[Any] = []
        if filters.direction:
            conditions.append(MessageRow.direction == Direction(filters.direction))
        if filters.type:
            conditions.append(MessageRow.type == filters.type)
        if filters.status:
            conditions.append(MessageRow.status == filters.status)
        if filters.contact_id:
            conditions.append(MessageRow.contact_id == filters.contact_id)
        if filters.wa_id:
            conditions.append(MessageRow.wa_id == filters.wa_id)
        if filters.group_id:
            conditions.append(MessageRow.group_id == filters.group_id)
        if filters.since:
            conditions.append(MessageRow.timestamp >= filters.since)
        if filters.until:
            conditions.append(MessageRow.timestamp < filters.until)
        if filters.text:
            conditions.append(MessageRow.text.ilike(_like(filters.text)))
        return await self._newest_first(
            tenant_id, MessageRow, MessageRow.timestamp, conditions, limit, before, Message
        )

    async def webhook_logs(
        self, tenant_id: UUID, filters: WebhookLogFilters, *, limit: int, before: Cursor | None
    ) -> KeysetPage[WebhookLogEntry]:
        conditions: list[Any] = []
        if filters.since:
            conditions.append(WebhookLogRow.received_at >= filters.since)
        if filters.until:
            conditions.append(WebhookLogRow.received_at < filters.until)
        if filters.field_name:
            conditions.append(WebhookLogRow.field_name == filters.field_name)
        if filters.outcome:
            conditions.append(WebhookLogRow.outcome == filters.outcome)
        return await self._newest_first(
            tenant_id, WebhookLogRow, WebhookLogRow.received_at, conditions, limit, before, WebhookLogEntry
        )

    async def _newest_first(
        self,
        tenant_id: UUID,
        row_type: Any,
        at: Any,
        conditions: list[Any],
        limit: int,
        before: Cursor | None,
        entity_type: type[E],
    ) -> KeysetPage[E]:
        """A page of rows matching `conditions`, newest first by (`at`, id), after the `before` cursor."""
        async with self._session(tenant_id) as session:
            total = int(
                await session.scalar(sa.select(sa.func.count()).select_from(row_type).where(*conditions)) or 0
            )
            query = sa.select(row_type).where(*conditions)
            if before is not None:
                query = query.where(sa.tuple_(at, row_type.id) < sa.tuple_(before.at, before.id))
            rows = list(await session.scalars(query.order_by(at.desc(), row_type.id.desc()).limit(limit + 1)))
        page = rows[:limit]
        next_cursor = Cursor(at=getattr(page[-1], at.key), id=page[-1].id) if len(rows) > limit else None
        return KeysetPage(
            items=[to_entity(row, entity_type) for row in page], total=total, next_cursor=next_cursor
        )

    async def webhook_log(self, tenant_id: UUID, entry_id: UUID) -> WebhookLogEntry | None:
        async with self._session(tenant_id) as session:
            row = await session.scalar(sa.select(WebhookLogRow).where(WebhookLogRow.id == entry_id))
        return None if row is None else to_entity(row, WebhookLogEntry)

    async def mark_read(self, tenant_id: UUID, conversation_id: UUID) -> Message | None:
        async with self._session(tenant_id) as session, session.begin():
            conversation = await session.scalar(
                sa.update(ConversationRow)
                .where(ConversationRow.id == conversation_id)
                .values(unread_count=0)
                .returning(ConversationRow.id)
            )
            if conversation is None:
                raise NotFound(f"No conversation {conversation_id} in this tenant")
            row = await session.scalar(
                sa.select(MessageRow)
                .where(
                    MessageRow.conversation_id == conversation_id, MessageRow.direction == Direction.INCOMING
                )
                .order_by(MessageRow.timestamp.desc(), MessageRow.id.desc())
                .limit(1)
            )
            return None if row is None else to_entity(row, Message)

    @staticmethod
    def _summary(
        conversation: ConversationRow, contact: ContactRow, message: MessageRow | None
    ) -> ConversationSummary:
        return ConversationSummary(
            id=conversation.id,
            contact=to_entity(contact, Contact),
            last_message=None if message is None else to_entity(message, Message),
            unread_count=conversation.unread_count,
            last_message_at=conversation.last_message_at,
            last_inbound_at=conversation.last_inbound_at,
        )
