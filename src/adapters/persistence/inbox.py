"""The inbox written idempotently in SQL: Meta delivers at least once, in any order, often in parallel.

Each write is one statement that settles races in the database (ON CONFLICT, conditional UPDATE), so two
workers handling the same delivery store it once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pywhatsapp.adapters.persistence.mapping import column_values, copy_onto, to_entity
from pywhatsapp.adapters.persistence.models import (
    ContactRow,
    ConversationRow,
    MessageRow,
    MessageTemplateRow,
    ReactionRow,
)
from pywhatsapp.adapters.persistence.scoping import TRUSTED_WRITE, stamped_rows
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.messaging.conversation import Conversation
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus, status_can_advance
from pywhatsapp.domain.messaging.reaction import Reaction
from pywhatsapp.domain.templates.template import MessageTemplate

STAMPED = {TRUSTED_WRITE: True}
# An upsert returns the stored row; objects already in the session are refreshed from it.
UPSERT = {TRUSTED_WRITE: True, "populate_existing": True}


class SqlInbox:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record_contact(self, wa_id: str, *, name: str | None, inbound_at: datetime | None) -> Contact:
        values = {"id": uuid4(), "wa_id": wa_id, "name": name, "last_inbound_at": inbound_at}
        (row,) = stamped_rows(self._session.sync_session, [values])
        statement = insert(ContactRow).values(row)
        upsert = statement.on_conflict_do_update(
            index_elements=[ContactRow.tenant_id, ContactRow.wa_id],
            set_={
                # A profile name from WhatsApp fills a missing name; a name an agent typed is kept.
                "name": sa.func.coalesce(ContactRow.name, statement.excluded.name),
                "last_inbound_at": sa.func.greatest(
                    ContactRow.last_inbound_at, statement.excluded.last_inbound_at
                ),
                "updated_at": sa.func.now(),
            },
        ).returning(ContactRow)
        stored = (await self._session.scalars(upsert, execution_options=UPSERT)).one()
        return to_entity(stored, Contact)

    async def set_opted_out(self, contact_id: UUID, opted_out: bool, at: datetime) -> bool:
        await self._session.execute(
            sa.update(ContactRow)
            .where(
                ContactRow.id == contact_id,
                ContactRow.opted_out.is_not(opted_out),
                # An older keyword delivered late must not undo a newer one.
                # Same second counts as newer: Meta's times are whole seconds, duplicates never get here.
                sa.or_(ContactRow.opted_out_changed_at.is_(None), ContactRow.opted_out_changed_at <= at),
            )
            .values(opted_out=opted_out, opted_out_changed_at=at)
        )
        return bool(
            await self._session.scalar(sa.select(ContactRow.opted_out).where(ContactRow.id == contact_id))
        )

    async def mark_sent(self, message_id: UUID, wamid: str) -> Message | None:
        sent = (
            sa.update(MessageRow)
            .where(MessageRow.id == message_id)
            .values(
                wamid=sa.func.coalesce(MessageRow.wamid, wamid),
                status=sa.case(
                    (MessageRow.status == MessageStatus.PENDING, MessageStatus.SENT.value),
                    else_=MessageRow.status,
                ),
                updated_at=sa.func.now(),
            )
            .returning(MessageRow)
        )
        row = (await self._session.scalars(sent, execution_options={"populate_existing": True})).first()
        return None if row is None else to_entity(row, Message)

    async def add_message(self, message: Message) -> bool:
        (row,) = stamped_rows(self._session.sync_session, [column_values(message, MessageRow)])
        statement = (
            insert(MessageRow)
            .values(row)
            .on_conflict_do_nothing(index_elements=[MessageRow.tenant_id, MessageRow.wamid])
            .returning(MessageRow.id)
        )
        inserted = (await self._session.execute(statement, execution_options=STAMPED)).scalar_one_or_none()
        return inserted is not None

    async def find_message(self, wamid: str) -> Message | None:
        row = await self._session.scalar(sa.select(MessageRow).where(MessageRow.wamid == wamid))
        return None if row is None else to_entity(row, Message)

    async def update_message(self, message: Message) -> None:
        row = await self._session.scalar(sa.select(MessageRow).where(MessageRow.id == message.id))
        if row is not None:
            copy_onto(row, message)
            await self._session.flush()

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
        # One conditional UPDATE: the domain's forward-only rule becomes the set of statuses it may replace,
        # so two workers applying statuses of one message settle it in the database, without a lock wait.
        replaceable = [current for current in MessageStatus if status_can_advance(current, status)]
        if not replaceable:
            return None
        stamp = sa.func.jsonb_build_object(status.value, at.isoformat())
        values: dict[str, Any] = {
            "status": status,
            "content": MessageRow.content.op("||")(
                sa.func.jsonb_build_object(
                    "status_times",
                    sa.func.coalesce(MessageRow.content.op("->")("status_times"), sa.text("'{}'::jsonb")).op(
                        "||"
                    )(stamp),
                )
            ),
            "updated_at": sa.func.now(),
        }
        if status is MessageStatus.FAILED:
            values |= {"error_code": error_code, "error_title": error_title}
        moved = (
            sa.update(MessageRow)
            .where(MessageRow.wamid == wamid, MessageRow.status.in_(replaceable))
            .values(values)
            .returning(MessageRow)
        )
        row = (await self._session.scalars(moved, execution_options={"populate_existing": True})).first()
        if row is None and callback_data:
            pending = await self._unanswered_send(callback_data)
            if pending is not None:
                pending.wamid = wamid  # the send's reply was lost or not stored yet: the status names it
                await self._session.flush()
                row = (
                    await self._session.scalars(moved, execution_options={"populate_existing": True})
                ).first()
        return None if row is None else to_entity(row, Message)

    async def _unanswered_send(self, callback_data: str) -> MessageRow | None:
        """The outgoing message whose id we sent as biz_opaque_callback_data, still without a wamid."""
        try:
            message_id = UUID(callback_data)
        except ValueError:
            return None
        return await self._session.scalar(
            sa.select(MessageRow)
            .where(
                MessageRow.id == message_id,
                MessageRow.wamid.is_(None),
                MessageRow.direction == Direction.OUTGOING,
            )
            .with_for_update()
        )

    async def save_reaction(self, reaction: Reaction) -> Reaction:
        target = await self._session.scalar(
            sa.select(MessageRow.id).where(MessageRow.wamid == reaction.target_wamid)
        )
        values = column_values(reaction, ReactionRow) | {"message_id": target}
        (row,) = stamped_rows(self._session.sync_session, [values])
        statement = insert(ReactionRow).values(row)
        upsert = statement.on_conflict_do_update(
            index_elements=[ReactionRow.tenant_id, ReactionRow.target_wamid, ReactionRow.wa_id],
            set_={
                "emoji": statement.excluded.emoji,
                "wamid": statement.excluded.wamid,
                "message_id": sa.func.coalesce(ReactionRow.message_id, statement.excluded.message_id),
                "updated_at": sa.func.now(),
            },
        ).returning(ReactionRow)
        stored = (await self._session.scalars(upsert, execution_options=UPSERT)).one()
        return to_entity(stored, Reaction)

    async def attach_reactions(self, target_wamid: str, message_id: UUID) -> int:
        result = await self._session.execute(
            sa.update(ReactionRow)
            .where(ReactionRow.target_wamid == target_wamid, ReactionRow.message_id.is_(None))
            .values(message_id=message_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def touch_conversation(self, contact: Contact, message: Message) -> Conversation:
        inbound = message.direction is Direction.INCOMING
        values = {
            "id": uuid4(),
            "contact_id": contact.id,
            "channel_id": message.channel_id,
            "last_message_id": message.id,
            "last_message_at": message.timestamp,
            "last_inbound_at": message.timestamp if inbound else None,
            "unread_count": 1 if inbound else 0,
        }
        (row,) = stamped_rows(self._session.sync_session, [values])
        statement = insert(ConversationRow).values(row)
        newer = sa.or_(
            ConversationRow.last_message_at.is_(None),
            ConversationRow.last_message_at <= statement.excluded.last_message_at,
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[ConversationRow.tenant_id, ConversationRow.contact_id],
            set_={
                # Messages may arrive out of order: only a newer one becomes the conversation's latest.
                "last_message_id": sa.case(
                    (newer, statement.excluded.last_message_id), else_=ConversationRow.last_message_id
                ),
                "last_message_at": sa.func.greatest(
                    ConversationRow.last_message_at, statement.excluded.last_message_at
                ),
                "last_inbound_at": sa.func.greatest(
                    ConversationRow.last_inbound_at, statement.excluded.last_inbound_at
                ),
                "channel_id": sa.func.coalesce(statement.excluded.channel_id, ConversationRow.channel_id),
                "unread_count": ConversationRow.unread_count + statement.excluded.unread_count,
                "updated_at": sa.func.now(),
            },
        ).returning(ConversationRow)
        stored = (await self._session.scalars(upsert, execution_options=UPSERT)).one()
        conversation = to_entity(stored, Conversation)
        # This message, and any sent before the conversation existed (a campaign's), join its thread.
        await self._session.execute(
            sa.update(MessageRow)
            .where(
                sa.or_(
                    MessageRow.id == message.id,
                    sa.and_(
                        MessageRow.wa_id == contact.wa_id,
                        MessageRow.conversation_id.is_(None),
                        MessageRow.group_id.is_(None),
                    ),
                )
            )
            .values(conversation_id=conversation.id)
        )
        return conversation


class SqlTemplates:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(
        self, *, meta_template_id: str | None, name: str | None, language: str | None
    ) -> MessageTemplate | None:
        row = None
        if meta_template_id:
            row = await self._session.scalar(
                sa.select(MessageTemplateRow).where(MessageTemplateRow.meta_template_id == meta_template_id)
            )
        if row is None and name:
            query = sa.select(MessageTemplateRow).where(MessageTemplateRow.name == name)
            if language:
                query = query.where(MessageTemplateRow.language == language)
            row = (await self._session.scalars(query.limit(1))).first()
        return None if row is None else to_entity(row, MessageTemplate)

    async def save(self, template: MessageTemplate) -> MessageTemplate:
        row = await self._session.scalar(
            sa.select(MessageTemplateRow).where(MessageTemplateRow.id == template.id)
        )
        if row is None:
            row = MessageTemplateRow(**column_values(template, MessageTemplateRow))
            self._session.add(row)
        else:
            copy_onto(row, template)
        await self._session.flush()
        return to_entity(row, MessageTemplate)
