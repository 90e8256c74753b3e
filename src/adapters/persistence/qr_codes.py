"""The tenant's message QR codes (confined to the tenant by `scoping.py`, like every repository)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from pywhatsapp.adapters.persistence.mapping import to_entity
from pywhatsapp.adapters.persistence.models import QrCodeRow
from pywhatsapp.adapters.persistence.repositories import SqlRecords
from pywhatsapp.domain.qr_codes.qr_code import QrCode


class SqlQrCodes(SqlRecords[QrCode]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, QrCodeRow, QrCode)

    async def by_code(self, code: str) -> QrCode | None:
        row = await self._session.scalar(
            sa.select(QrCodeRow).where(QrCodeRow.code == code).order_by(QrCodeRow.created_at.desc()).limit(1)
        )
        return None if row is None else to_entity(row, QrCode)

    async def page(self, *, limit: int, offset: int, channel_id: UUID | None = None) -> Sequence[QrCode]:
        query = sa.select(QrCodeRow)
        if channel_id is not None:
            query = query.where(QrCodeRow.channel_id == channel_id)
        rows = await self._session.scalars(
            query.order_by(QrCodeRow.created_at.desc(), QrCodeRow.id.desc()).limit(limit).offset(offset)
        )
        return [to_entity(row, QrCode) for row in rows]

    async def total(self, *, channel_id: UUID | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(QrCodeRow)
        if channel_id is not None:
            query = query.where(QrCodeRow.channel_id == channel_id)
        return int(await self._session.scalar(query) or 0)

    async def remove(self, qr_code_id: UUID) -> bool:
        removed = await self._session.scalar(
            sa.delete(QrCodeRow).where(QrCodeRow.id == qr_code_id).returning(QrCodeRow.id)
        )
        return removed is not None

    async def matching(self, channel_id: UUID, text: str) -> QrCode | None:
        row = await self._session.scalar(
            sa.select(QrCodeRow)
            .where(QrCodeRow.channel_id == channel_id, QrCodeRow.prefilled_message == text)
            .order_by(QrCodeRow.created_at.desc())
            .limit(1)
        )
        return None if row is None else to_entity(row, QrCode)

    async def count_message(self, qr_code_id: UUID, at: datetime) -> None:
        # One statement: webhooks for the same code may be applied concurrently by several workers.
        await self._session.execute(
            sa.update(QrCodeRow)
            .where(QrCodeRow.id == qr_code_id)
            .values(
                message_count=QrCodeRow.message_count + 1,
                last_message_at=sa.func.greatest(sa.func.coalesce(QrCodeRow.last_message_at, at), at),
            )
            .execution_options(synchronize_session=False)
        )
