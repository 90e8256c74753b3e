"""Campaign recipients in PostgreSQL: bulk inserts, forward-only state changes, and the sender's queue.

Drivers hold a channel's lease as a PostgreSQL session-level advisory lock on a connection of their own:
it is released when the driver lets go or when its process dies and the connection closes, so a killed
worker's channel is taken over by another within moments.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from pywhatsapp.adapters.persistence.contact_book import in_audiences
from pywhatsapp.adapters.persistence.mapping import column_values, to_entity
from pywhatsapp.adapters.persistence.models import (
    AudienceRow,
    CampaignRecipientRow,
    CampaignRow,
    ChannelRow,
    ContactRow,
    ConversationRow,
    MessageRow,
)
from pywhatsapp.adapters.persistence.scoping import TRUSTED_WRITE, open_scope, stamped_rows
from pywhatsapp.adapters.realtime.pg_notify import PgNotifyPublisher
from pywhatsapp.application.campaigns.manage_campaigns import progress_event
from pywhatsapp.application.campaigns.ports import AudienceSpec, SendResult
from pywhatsapp.application.campaigns.send_campaigns import outgoing_message
from pywhatsapp.domain.campaigns.campaign import (
    OPEN_STATES,
    Campaign,
    CampaignCounts,
    CampaignRecipient,
    CampaignStatus,
    RecipientState,
    recipient_can_move,
    recipient_id_from_callback,
)
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.contacts.audience import Audience
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent

R = CampaignRecipientRow
INSERT_CHUNK = 2000
MESSAGE_INSERT_CHUNK = 1000
MESSAGE_STATUS = {
    RecipientState.SENT: MessageStatus.SENT,
    RecipientState.DELIVERED: MessageStatus.DELIVERED,
    RecipientState.READ: MessageStatus.READ,
    RecipientState.FAILED: MessageStatus.FAILED,
}
LEASE_NAMESPACE = 0x5057  # "PW": the first key of our advisory locks, so other applications' do not clash


class SqlCampaignRecipients:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_many(self, recipients: Sequence[CampaignRecipient]) -> int:
        added = 0
        for start in range(0, len(recipients), INSERT_CHUNK):
            chunk = [column_values(r, R) for r in recipients[start : start + INSERT_CHUNK]]
            rows = stamped_rows(self._session.sync_session, chunk)
            statement = insert(R).values(rows).on_conflict_do_nothing().returning(R.id)
            result = await self._session.execute(statement, execution_options={TRUSTED_WRITE: True})
            added += len(result.all())
        return added

    async def counts(self, campaign_id: UUID) -> CampaignCounts:
        rows = await self._session.execute(
            sa.select(R.state, sa.func.count()).where(R.campaign_id == campaign_id).group_by(R.state)
        )
        duplicates = await self._session.scalar(
            sa.select(CampaignRow.duplicates_skipped).where(CampaignRow.id == campaign_id)
        )
        return CampaignCounts(
            by_state={RecipientState(state).value: int(n) for state, n in rows.all()},
            duplicates_skipped=int(duplicates or 0),
        )

    async def page(
        self, campaign_id: UUID, *, state: RecipientState | None, limit: int, offset: int
    ) -> Sequence[CampaignRecipient]:
        query = sa.select(R).where(R.campaign_id == campaign_id)
        if state is not None:
            query = query.where(R.state == state)
        rows = await self._session.scalars(query.order_by(R.created_at, R.id).limit(limit).offset(offset))
        return [to_entity(row, CampaignRecipient) for row in rows]

    async def advance(
        self,
        wamid: str,
        state: RecipientState,
        *,
        callback_data: str | None,
        error_code: int | None = None,
        error_title: str | None = None,
    ) -> CampaignRecipient | None:
        replaceable = [current for current in RecipientState if recipient_can_move(current, state)]
        values: dict[str, Any] = {"state": state, "updated_at": sa.func.now(), "next_attempt_at": None}
        if state is RecipientState.FAILED:
            values |= {"error_code": error_code, "error_title": error_title}
        by_wamid = sa.update(R).where(R.wamid == wamid, R.state.in_(replaceable)).values(values).returning(R)
        row = (await self._session.scalars(by_wamid, execution_options={"populate_existing": True})).first()
        recipient_id = recipient_id_from_callback(callback_data)
        if row is None and recipient_id is not None:
            # The send's answer was lost (or is not recorded yet): the status names the recipient.
            by_id = (
                sa.update(R)
                .where(
                    R.id == recipient_id,
                    sa.or_(R.wamid.is_(None), R.wamid == wamid),
                    R.state.in_(replaceable),
                )
                .values(values | {"wamid": wamid})
                .returning(R)
            )
            row = (await self._session.scalars(by_id, execution_options={"populate_existing": True})).first()
        return None if row is None else to_entity(row, CampaignRecipient)

    async def audience_contacts(self, spec: AudienceSpec) -> Sequence[Contact]:
        conditions: list[Any] = []
        if spec.contact_ids:
            conditions.append(ContactRow.id.in_(spec.contact_ids))
        if spec.tags:
            conditions.append(ContactRow.tags.overlap(list(spec.tags)))
        if spec.audience_ids:
            rows = await self._session.scalars(
                sa.select(AudienceRow).where(AudienceRow.id.in_(spec.audience_ids))
            )
            audiences = [to_entity(row, Audience) for row in rows]  # unknown ids name no one
            if audiences:
                conditions.append(in_audiences(audiences))
        if not conditions:
            return []
        rows = await self._session.scalars(
            sa.select(ContactRow).where(sa.or_(*conditions)).order_by(ContactRow.created_at, ContactRow.id)
        )
        return [to_entity(row, Contact) for row in rows]

    async def cancel_open(self, campaign_id: UUID) -> int:
        result = await self._session.execute(
            sa.update(R)
            .where(R.campaign_id == campaign_id, R.state == RecipientState.PENDING)
            .values(state=RecipientState.SKIPPED, error_title="campaign cancelled", updated_at=sa.func.now())
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _open_session(factory: async_sessionmaker[AsyncSession], tenant_id: UUID | None) -> AsyncSession:
    session = factory()
    open_scope(session.sync_session, tenant_id, all_tenants=tenant_id is None)
    return session


def _due(now: datetime) -> Any:
    return sa.or_(
        sa.and_(
            R.state == RecipientState.PENDING, sa.or_(R.next_attempt_at.is_(None), R.next_attempt_at <= now)
        ),
        sa.and_(R.state == RecipientState.SENDING, R.next_attempt_at <= now),
    )


class SqlCampaignQueue:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = session_factory

    async def start_due(self, now: datetime) -> Sequence[Campaign]:
        async with _open_session(self._factory, None) as session:
            rows = await session.scalars(
                sa.update(CampaignRow)
                .where(CampaignRow.status == CampaignStatus.SCHEDULED, CampaignRow.scheduled_at <= now)
                .values(
                    status=CampaignStatus.RUNNING,
                    started_at=sa.func.coalesce(CampaignRow.started_at, now),
                    updated_at=sa.func.now(),
                )
                .returning(CampaignRow)
            )
            started = [to_entity(row, Campaign) for row in rows]
            await session.commit()
        return started

    async def channels_to_drive(self) -> Sequence[UUID]:
        async with _open_session(self._factory, None) as session:
            ids = await session.scalars(
                sa.select(CampaignRow.channel_id)
                .where(CampaignRow.status == CampaignStatus.RUNNING, CampaignRow.channel_id.is_not(None))
                .distinct()
            )
            return [channel_id for channel_id in ids if channel_id is not None]

    async def lease(self, channel_id: UUID) -> SqlChannelLease | None:
        engine = self._factory.kw["bind"]
        connection: AsyncConnection = await engine.connect()
        try:
            key = zlib.crc32(channel_id.bytes) - 2**31
            held = await connection.scalar(sa.select(sa.func.pg_try_advisory_lock(LEASE_NAMESPACE, key)))
            await connection.commit()  # the lock belongs to the connection, not to a transaction
            if not held:
                await connection.close()
                return None
            async with _open_session(self._factory, None) as session:
                row = await session.get(ChannelRow, channel_id)
                channel = None if row is None else to_entity(row, Channel)
            if channel is None:
                await connection.close()
                return None
        except BaseException:
            await connection.close()
            raise
        return SqlChannelLease(self._factory, connection, channel, key)

    async def changed_campaigns(self, since: datetime) -> Sequence[tuple[UUID, UUID]]:
        async with _open_session(self._factory, None) as session:
            rows = await session.execute(
                sa.select(R.tenant_id, R.campaign_id).where(R.updated_at > since).distinct()
            )
            return [(tenant_id, campaign_id) for tenant_id, campaign_id in rows.all()]


class SqlChannelLease:
    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        connection: AsyncConnection,
        channel: Channel,
        key: int,
    ) -> None:
        self._factory = factory
        self._connection = connection
        self.channel = channel
        self._key = key

    def _session(self) -> AsyncSession:
        return _open_session(self._factory, self.channel.tenant_id)

    async def running_campaigns(self) -> Sequence[Campaign]:
        async with self._session() as session:
            rows = await session.scalars(
                sa.select(CampaignRow)
                .where(
                    CampaignRow.channel_id == self.channel.id, CampaignRow.status == CampaignStatus.RUNNING
                )
                .order_by(CampaignRow.started_at, CampaignRow.id)
            )
            return [to_entity(row, Campaign) for row in rows]

    async def claim(
        self, campaign: Campaign, *, limit: int, hold_until: datetime, exclude: Sequence[UUID]
    ) -> Sequence[CampaignRecipient]:
        now = utc_now()
        due = (
            sa.select(R.id)
            .where(R.campaign_id == campaign.id, _due(now))
            .order_by(R.next_attempt_at.nulls_first(), R.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if exclude:
            due = due.where(R.id.not_in(list(exclude)))
        async with self._session() as session:
            rows = await session.scalars(
                sa.update(R)
                .where(R.id.in_(due.scalar_subquery()))
                .values(
                    state=RecipientState.SENDING,
                    next_attempt_at=hold_until,
                    attempts=R.attempts + 1,
                    updated_at=sa.func.now(),
                )
                .returning(R),
                execution_options={"synchronize_session": False},
            )
            claimed = [to_entity(row, CampaignRecipient) for row in rows]
            await session.commit()
        claimed.sort(key=lambda recipient: recipient.id)
        return claimed

    async def record(self, campaign: Campaign, results: Sequence[SendResult]) -> None:
        by_id = {result.recipient_id: result for result in results}
        async with self._session() as session:
            status = await session.scalar(sa.select(CampaignRow.status).where(CampaignRow.id == campaign.id))
            if status is CampaignStatus.CANCELLED:
                # Claimed but not sent when the campaign was cancelled: skipped, not left pending.
                by_id = {
                    rid: replace(result, state=RecipientState.SKIPPED, error_title="campaign cancelled")
                    if result.state is RecipientState.PENDING
                    else result
                    for rid, result in by_id.items()
                }
            rows = await session.scalars(
                sa.select(R).where(R.id.in_(list(by_id))).order_by(R.id).with_for_update()
            )
            sent = []
            for row in rows:
                _apply(row, by_id[row.id])
                if by_id[row.id].state is RecipientState.SENT and row.wamid:
                    sent.append(row)
            await self._into_inbox(session, campaign, sent)
            await session.commit()

    async def _into_inbox(
        self, session: AsyncSession, campaign: Campaign, sent: list[CampaignRecipientRow]
    ) -> None:
        """Sent campaign messages show in their contacts' threads (in one statement per batch). A contact
        without a conversation yet gets it when they answer (`touch_conversation` adopts the message)."""
        if not sent:
            return
        contact_ids = [row.contact_id for row in sent if row.contact_id is not None]
        conversations = dict(
            (
                await session.execute(
                    sa.select(ConversationRow.contact_id, ConversationRow.id).where(
                        ConversationRow.contact_id.in_(contact_ids)
                    )
                )
            ).all()
        )

        def content(row: CampaignRecipientRow) -> dict[str, Any]:
            sent_as = outgoing_message(campaign, to_entity(row, CampaignRecipient))
            return {
                sent_as.type: sent_as.payload,
                "campaign_id": str(campaign.id),
                "campaign_recipient_id": str(row.id),
            }

        messages = [
            column_values(
                Message(
                    tenant_id=self.channel.tenant_id,
                    direction=Direction.OUTGOING,
                    type="template" if campaign.template_name else "text",
                    wa_id=row.wa_id,
                    wamid=row.wamid,
                    channel_id=self.channel.id,
                    contact_id=row.contact_id,
                    conversation_id=conversations.get(row.contact_id) if row.contact_id else None,
                    status=MESSAGE_STATUS.get(row.state, MessageStatus.SENT),
                    text=campaign.text if campaign.text else f"[template {campaign.template_name}]",
                    content=content(row),
                ),
                MessageRow,
            )
            for row in sent
        ]
        # PostgreSQL takes at most 32,767 parameters per statement: about 1,400 messages of 22 columns.
        for start in range(0, len(messages), MESSAGE_INSERT_CHUNK):
            await session.execute(
                insert(MessageRow)
                .values(stamped_rows(session.sync_session, messages[start : start + MESSAGE_INSERT_CHUNK]))
                .on_conflict_do_nothing(index_elements=[MessageRow.tenant_id, MessageRow.wamid]),
                execution_options={TRUSTED_WRITE: True},
            )

    async def open_count(self, campaign: Campaign) -> int:
        async with self._session() as session:
            return int(
                await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(R)
                    .where(R.campaign_id == campaign.id, R.state.in_(OPEN_STATES))
                )
                or 0
            )

    async def status(self, campaign: Campaign) -> CampaignStatus | None:
        async with self._session() as session:
            return await session.scalar(sa.select(CampaignRow.status).where(CampaignRow.id == campaign.id))

    async def next_due_at(self, campaign: Campaign) -> datetime | None:
        async with self._session() as session:
            return await session.scalar(
                sa.select(sa.func.min(sa.func.coalesce(R.next_attempt_at, sa.func.now()))).where(
                    R.campaign_id == campaign.id, R.state.in_(OPEN_STATES)
                )
            )

    async def complete(self, campaign: Campaign) -> bool:
        async with self._session() as session:
            row = await session.scalar(
                sa.select(CampaignRow).where(CampaignRow.id == campaign.id).with_for_update()
            )
            if row is None or row.status is not CampaignStatus.RUNNING:
                return False
            still_open = await session.scalar(
                sa.select(sa.exists().where(R.campaign_id == campaign.id, R.state.in_(OPEN_STATES)))
            )
            if still_open:
                return False
            row.status = CampaignStatus.COMPLETED
            row.completed_at = utc_now()
            await session.flush()
            completed = to_entity(row, Campaign)
            counts = await SqlCampaignRecipients(session).counts(campaign.id)
            events = PgNotifyPublisher(session)
            await events.publish(progress_event(completed, counts))
            await events.publish(
                RealtimeEvent(
                    EventType.CAMPAIGN_COMPLETED,
                    completed.tenant_id,
                    {"id": str(completed.id), "name": completed.name, "counts": counts.as_dict()},
                )
            )
            await session.commit()
        campaign.status = CampaignStatus.COMPLETED
        return True

    async def pause(self, campaign: Campaign, reason: str) -> None:
        async with self._session() as session:
            row = await session.scalar(
                sa.select(CampaignRow).where(CampaignRow.id == campaign.id).with_for_update()
            )
            if row is None or row.status is not CampaignStatus.RUNNING:
                return
            row.status = CampaignStatus.PAUSED
            row.paused_reason = reason[:500]
            await session.flush()
            counts = await SqlCampaignRecipients(session).counts(campaign.id)
            await PgNotifyPublisher(session).publish(progress_event(to_entity(row, Campaign), counts))
            await session.commit()

    async def release(self) -> None:
        try:
            await self._connection.execute(sa.select(sa.func.pg_advisory_unlock(LEASE_NAMESPACE, self._key)))
            await self._connection.commit()
        finally:
            await self._connection.close()


def _apply(row: CampaignRecipientRow, result: SendResult) -> None:
    """One send's answer, unless a status webhook already moved the recipient past it."""
    if not result.counts_as_attempt:
        row.attempts = max(0, row.attempts - 1)
    if result.state is RecipientState.SENT:
        row.wamid = row.wamid or result.wamid
        if row.state in OPEN_STATES:
            row.state = RecipientState.SENT
            row.next_attempt_at = None
        return
    if row.state is not RecipientState.SENDING:
        return  # its status webhook came first
    row.error_code = result.error_code
    row.error_title = result.error_title[:500] if result.error_title else None
    row.state = result.state
    row.next_attempt_at = result.next_attempt_at
