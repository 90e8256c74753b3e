"""The tenant's stored templates: the registry the webhooks and sends use, plus search and removal."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa

from pywhatsapp.adapters.persistence.inbox import SqlTemplates
from pywhatsapp.adapters.persistence.mapping import to_entity
from pywhatsapp.adapters.persistence.models import MessageTemplateRow
from pywhatsapp.application.templates.ports import TemplateFilter
from pywhatsapp.domain.templates.template import MessageTemplate


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlTemplateRegistry(SqlTemplates):
    async def search(
        self, where: TemplateFilter, *, limit: int, offset: int
    ) -> tuple[Sequence[MessageTemplate], int]:
        row = MessageTemplateRow
        conditions: list[sa.ColumnElement[bool]] = []
        if where.status:
            conditions.append(row.status == where.status.upper())
        if where.category:
            conditions.append(row.category == where.category.upper())
        if where.language:
            conditions.append(row.language == where.language)
        if where.name:
            conditions.append(row.name.ilike(_like(where.name), escape="\\"))
        rows = await self._session.scalars(
            sa.select(row).where(*conditions).order_by(row.name, row.language).limit(limit).offset(offset)
        )
        total = await self._session.scalar(sa.select(sa.func.count()).select_from(row).where(*conditions))
        return [to_entity(r, MessageTemplate) for r in rows], int(total or 0)

    async def every(self) -> Sequence[MessageTemplate]:
        rows = await self._session.scalars(sa.select(MessageTemplateRow).order_by(MessageTemplateRow.name))
        return [to_entity(r, MessageTemplate) for r in rows]

    async def remove(self, template_id: UUID) -> None:
        await self._session.execute(sa.delete(MessageTemplateRow).where(MessageTemplateRow.id == template_id))
