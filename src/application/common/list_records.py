"""Listing any kind of tenant-owned record, a page at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pywhatsapp.application.common.unit_of_work import TenantRecords, UnitOfWork, UnitOfWorkFactory
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.identity.principal import Principal

T = TypeVar("T")
MAX_PAGE_SIZE = 200
MAX_OFFSET = 2**31 - 1


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ListRecords(Generic[T]):
    def __init__(self, uow_factory: UnitOfWorkFactory, records: Callable[[UnitOfWork], TenantRecords[T]]):
        self._uow_factory = uow_factory
        self._records = records

    async def execute(self, principal: Principal, *, limit: int = 50, offset: int = 0) -> Page[T]:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        if not 0 <= offset <= MAX_OFFSET:
            raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}")
        async with self._uow_factory(principal.tenant_id) as uow:
            records = self._records(uow)
            items = list(await records.list(limit=limit, offset=offset))
            total = await records.count()
        return Page(items=items, total=total, limit=limit, offset=offset)
