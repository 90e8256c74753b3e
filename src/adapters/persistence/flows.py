"""The tenant's stored flows: found by our id or Meta's, saved, searched and removed."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pywhatsapp.adapters.persistence.mapping import column_values, copy_onto, to_entity
from pywhatsapp.adapters.persistence.models import FlowRow
from pywhatsapp.application.flows.ports import FlowFilter
from pywhatsapp.domain.flows.flow import Flow


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlFlowRegistry:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, flow_id: UUID) -> Flow | None:
        row = await self._session.scalar(sa.select(FlowRow).where(FlowRow.id == flow_id))
        return None if row is None else to_entity(row, Flow)

    async def find(self, meta_flow_id: str) -> Flow | None:
        row = await self._session.scalar(sa.select(FlowRow).where(FlowRow.meta_flow_id == meta_flow_id))
        return None if row is None else to_entity(row, Flow)

    async def save(self, flow: Flow) -> Flow:
        row = await self._session.scalar(sa.select(FlowRow).where(FlowRow.id == flow.id))
        if row is None:
            row = FlowRow(**column_values(flow, FlowRow))
            self._session.add(row)
        else:
            copy_onto(row, flow)
        await self._session.flush()
        return to_entity(row, Flow)

    async def search(self, where: FlowFilter, *, limit: int, offset: int) -> tuple[Sequence[Flow], int]:
        conditions: list[sa.ColumnElement[bool]] = []
        if where.status:
            conditions.append(FlowRow.status == where.status.upper())
        if where.name:
            conditions.append(FlowRow.name.ilike(_like(where.name), escape="\\"))
        rows = await self._session.scalars(
            sa.select(FlowRow)
            .where(*conditions)
            .order_by(FlowRow.name, FlowRow.id)
            .limit(limit)
            .offset(offset)
        )
        total = await self._session.scalar(sa.select(sa.func.count()).select_from(FlowRow).where(*conditions))
        return [to_entity(r, Flow) for r in rows], int(total or 0)

    async def every(self) -> Sequence[Flow]:
        rows = await self._session.scalars(sa.select(FlowRow).order_by(FlowRow.name))
        return [to_entity(r, Flow) for r in rows]

    async def remove(self, flow_id: UUID) -> None:
        await self._session.execute(sa.delete(FlowRow).where(FlowRow.id == flow_id))
