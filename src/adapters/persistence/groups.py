"""The tenant's WhatsApp groups and their participants in SQL (tenant confinement by `scoping.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pywhatsapp.adapters.persistence.mapping import column_values, copy_onto, to_entity
from pywhatsapp.adapters.persistence.models import GroupParticipantRow, GroupRow
from pywhatsapp.adapters.persistence.scoping import TRUSTED_WRITE, stamped_rows
from pywhatsapp.domain.contacts.group import Group, GroupParticipant


class SqlGroupRegistry:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _one(self, condition: sa.ColumnElement[bool]) -> Group | None:
        row = await self._session.scalar(sa.select(GroupRow).where(condition))
        return None if row is None else to_entity(row, Group)

    async def by_meta_id(self, group_id: str) -> Group | None:
        return await self._one(GroupRow.group_id == group_id)

    async def by_request_id(self, request_id: str) -> Group | None:
        return await self._one(GroupRow.request_id == request_id)

    async def save(self, group: Group) -> Group:
        row = await self._session.scalar(sa.select(GroupRow).where(GroupRow.id == group.id))
        if row is None:
            row = GroupRow(**column_values(group, GroupRow))
            self._session.add(row)
        else:
            copy_onto(row, group)
        await self._session.flush()
        return to_entity(row, Group)

    async def delete(self, group_id: UUID) -> bool:
        row = await self._session.scalar(sa.select(GroupRow).where(GroupRow.id == group_id))
        if row is None:
            return False
        await self._session.delete(row)
        await self._session.flush()
        return True

    async def participants(self, group_id: UUID) -> list[GroupParticipant]:
        rows = await self._session.scalars(
            sa.select(GroupParticipantRow)
            .where(GroupParticipantRow.group_id == group_id)
            .order_by(GroupParticipantRow.created_at, GroupParticipantRow.wa_id)
        )
        return [to_entity(row, GroupParticipant) for row in rows]

    async def add_participants(self, group_id: UUID, wa_ids: Sequence[str]) -> None:
        if not wa_ids:
            return
        rows = stamped_rows(
            self._session.sync_session,
            [{"id": uuid4(), "group_id": group_id, "wa_id": wa_id} for wa_id in dict.fromkeys(wa_ids)],
        )
        # Webhooks repeat: a participant already stored stays as is.
        await self._session.execute(
            insert(GroupParticipantRow).values(rows).on_conflict_do_nothing(),
            execution_options={TRUSTED_WRITE: True},
        )

    async def remove_participants(self, group_id: UUID, wa_ids: Sequence[str]) -> None:
        if wa_ids:
            await self._session.execute(
                sa.delete(GroupParticipantRow).where(
                    GroupParticipantRow.group_id == group_id, GroupParticipantRow.wa_id.in_(list(wa_ids))
                )
            )

    async def replace_participants(self, group_id: UUID, wa_ids: Sequence[str]) -> None:
        await self._session.execute(
            sa.delete(GroupParticipantRow).where(
                GroupParticipantRow.group_id == group_id, GroupParticipantRow.wa_id.not_in(list(wa_ids))
            )
        )
        await self.add_participants(group_id, wa_ids)
