"""The flow ports of the unit of work in memory (`SqlFlowRegistry`, the flow key records), tenant-confined."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Generic, TypeVar
from uuid import UUID

from pywhatsapp.application.flows.ports import FlowFilter
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.flows.flow import Flow, FlowKey

R = TypeVar("R", Flow, FlowKey)


class _Scoped(Generic[R]):
    def __init__(self, rows: dict[UUID, R], tenant_id: UUID | None, *, all_tenants: bool) -> None:
        self._rows: dict[UUID, R] = rows
        self._tenant_id = tenant_id
        self._all_tenants = all_tenants

    def _visible(self) -> list[R]:
        return [r for r in self._rows.values() if self._all_tenants or r.tenant_id == self._tenant_id]

    def _stamp(self, record: R) -> R:
        if self._all_tenants:
            return copy.deepcopy(record)
        if self._tenant_id is None or record.tenant_id not in (None, self._tenant_id):
            raise RuntimeError(f"{type(record).__name__} written outside its tenant")
        return replace(copy.deepcopy(record), tenant_id=self._tenant_id, updated_at=utc_now())

    async def get(self, record_id: UUID) -> R | None:
        found: R | None = next((r for r in self._visible() if r.id == record_id), None)
        return copy.deepcopy(found)

    async def add(self, record: R) -> R:
        if record.id in self._rows:
            raise RuntimeError(f"duplicate {type(record).__name__} id {record.id}")
        stored: R = self._stamp(record)
        self._rows[record.id] = stored
        return copy.deepcopy(stored)

    async def append(self, record: R) -> None:
        await self.add(record)

    async def list(self, *, limit: int, offset: int = 0) -> Sequence[R]:
        found = sorted(self._visible(), key=lambda r: (r.created_at, r.id), reverse=True)
        return copy.deepcopy(found[offset : offset + limit])

    async def count(self) -> int:
        return len(self._visible())

    async def update(self, record: R) -> R:
        stored = await self.get(record.id)
        if stored is None:
            raise LookupError(f"{type(record).__name__} {record.id} is not stored")
        changed: R = replace(self._stamp(record), created_at=stored.created_at)
        self._rows[record.id] = changed
        return copy.deepcopy(changed)


class FakeFlowRegistry(_Scoped[Flow]):
    async def find(self, meta_flow_id: str) -> Flow | None:
        return copy.deepcopy(next((f for f in self._visible() if f.meta_flow_id == meta_flow_id), None))

    async def save(self, flow: Flow) -> Flow:
        if flow.meta_flow_id and any(
            f.meta_flow_id == flow.meta_flow_id and f.id != flow.id for f in self._visible()
        ):
            raise RuntimeError(f"duplicate meta_flow_id {flow.meta_flow_id}")
        if await self.get(flow.id) is None:
            return await self.add(flow)
        return await self.update(flow)

    async def search(self, where: FlowFilter, *, limit: int, offset: int) -> tuple[Sequence[Flow], int]:
        found = [
            f
            for f in self._visible()
            if (not where.status or f.status == where.status.upper())
            and (not where.name or where.name.lower() in f.name.lower())
        ]
        found.sort(key=lambda f: (f.name, f.id))
        return copy.deepcopy(found[offset : offset + limit]), len(found)

    async def every(self) -> Sequence[Flow]:
        return copy.deepcopy(sorted(self._visible(), key=lambda f: f.name))

    async def remove(self, flow_id: UUID) -> None:
        if await self.get(flow_id) is not None:
            del self._rows[flow_id]


def flow_ports(
    records: dict[str, dict[UUID, Any]], tenant_id: UUID | None, *, all_tenants: bool
) -> tuple[FakeFlowRegistry, _Scoped[FlowKey]]:
    return (
        FakeFlowRegistry(records.setdefault("flows", {}), tenant_id, all_tenants=all_tenants),
        _Scoped(records.setdefault("flow_keys", {}), tenant_id, all_tenants=all_tenants),
    )
