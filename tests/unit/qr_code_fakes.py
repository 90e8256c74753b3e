"""`SqlQrCodes` in memory, on the fake unit of work's tenant-confined records."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pywhatsapp.domain.qr_codes.qr_code import QrCode


class FakeQrCodes:
    def __init__(self, records: Any) -> None:
        self._records = records  # a FakeTenantRecords[QrCode]

    async def add(self, qr_code: QrCode) -> QrCode:
        stored: QrCode = await self._records.add(qr_code)
        return stored

    async def update(self, qr_code: QrCode) -> QrCode:
        stored: QrCode = await self._records.update(qr_code)
        return stored

    def _newest(self, predicate: Any) -> QrCode | None:
        rows = sorted(self._records._visible(), key=lambda q: q.created_at, reverse=True)
        return next((copy.deepcopy(q) for q in rows if predicate(q)), None)

    async def by_code(self, code: str) -> QrCode | None:
        return self._newest(lambda q: q.code == code)

    async def page(self, *, limit: int, offset: int, channel_id: UUID | None = None) -> Sequence[QrCode]:
        rows = [q for q in await self._records.list(limit=10**6) if channel_id in (None, q.channel_id)]
        return rows[offset : offset + limit]

    async def total(self, *, channel_id: UUID | None = None) -> int:
        return len(await self.page(limit=10**6, offset=0, channel_id=channel_id))

    async def remove(self, qr_code_id: UUID) -> bool:
        if await self._records.get(qr_code_id) is None:
            return False
        del self._records._rows[qr_code_id]
        return True

    async def matching(self, channel_id: UUID, text: str) -> QrCode | None:
        return self._newest(lambda q: q.channel_id == channel_id and q.prefilled_message == text)

    async def count_message(self, qr_code_id: UUID, at: datetime) -> None:
        row = self._records._find(lambda q: q.id == qr_code_id)
        if row is not None:
            row.message_count += 1
            row.last_message_at = at if row.last_message_at is None else max(row.last_message_at, at)
