"""Repositories over SQLAlchemy. Tenant confinement is not written here: `scoping.py` adds it to every
statement of the session, so these queries read as if there were only one tenant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from pywhatsapp.adapters.persistence.base import Record
from pywhatsapp.adapters.persistence.mapping import column_values, copy_onto, to_entity, to_row
from pywhatsapp.adapters.persistence.models import (
    EventDeliveryAttemptRow,
    EventDeliveryRow,
    MembershipRow,
    TenantRow,
    UserRow,
)
from pywhatsapp.adapters.persistence.scoping import TRUSTED_WRITE, stamped_rows
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.integrations.event_webhook import DeliveryAttempt, EventDelivery
from pywhatsapp.domain.tenancy.membership import Membership
from pywhatsapp.domain.tenancy.tenant import Tenant

E = TypeVar("E")


class SqlRecords(Generic[E]):
    """Add, get, list and count one kind of record; newest first."""

    def __init__(self, session: AsyncSession, row_type: type[Record], entity_type: type[E]) -> None:
        self._session = session
        self._row_type: Any = row_type
        self._entity_type = entity_type

    async def add(self, record: E) -> E:
        row = to_row(record, self._row_type)
        self._session.add(row)
        await self._session.flush()
        return to_entity(row, self._entity_type)

    async def append(self, record: E) -> None:
        """Add without reading the row back: one INSERT, for write-heavy paths (the webhook log)."""
        (values,) = stamped_rows(self._session.sync_session, [column_values(record, self._row_type)])
        await self._session.execute(
            sa.insert(self._row_type).values(values), execution_options={TRUSTED_WRITE: True}
        )

    async def get(self, record_id: UUID) -> E | None:
        row = await self._session.scalar(sa.select(self._row_type).where(self._row_type.id == record_id))
        return None if row is None else to_entity(row, self._entity_type)

    async def list(self, *, limit: int, offset: int = 0) -> Sequence[E]:
        rows = await self._session.scalars(
            sa.select(self._row_type)
            .order_by(self._row_type.created_at.desc(), self._row_type.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [to_entity(row, self._entity_type) for row in rows]

    async def count(self) -> int:
        return int(await self._session.scalar(sa.select(sa.func.count()).select_from(self._row_type)) or 0)

    async def update(self, record: E) -> E:
        row = await self._session.scalar(
            sa.select(self._row_type).where(self._row_type.id == record.id)  # type: ignore[attr-defined]
        )
        if row is None:
            raise LookupError(f"{self._entity_type.__name__} {record.id} is not stored")  # type: ignore[attr-defined]
        copy_onto(row, record)
        await self._session.flush()
        return to_entity(row, self._entity_type)


class SqlEventDeliveries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def recent_for(self, endpoint_id: UUID, *, limit: int) -> Sequence[EventDelivery]:
        rows = await self._session.scalars(
            sa.select(EventDeliveryRow)
            .where(EventDeliveryRow.endpoint_id == endpoint_id)
            .order_by(EventDeliveryRow.created_at.desc())
            .limit(limit)
        )
        return [to_entity(row, EventDelivery) for row in rows]

    async def get_for(self, endpoint_id: UUID, delivery_id: UUID) -> EventDelivery | None:
        row = await self._session.scalar(
            sa.select(EventDeliveryRow).where(
                EventDeliveryRow.id == delivery_id, EventDeliveryRow.endpoint_id == endpoint_id
            )
        )
        return None if row is None else to_entity(row, EventDelivery)

    async def attempts_of(
        self, delivery_ids: Sequence[UUID], *, recent: int | None = None
    ) -> dict[UUID, list[DeliveryAttempt]]:
        found: dict[UUID, list[DeliveryAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
        if not delivery_ids:
            return found
        row_type = EventDeliveryAttemptRow
        query = sa.select(row_type).where(row_type.delivery_id.in_(list(delivery_ids)))
        if recent is not None:
            # The `recent` newest of each delivery: numbered newest first per delivery, in one query.
            newest_first = sa.func.row_number().over(
                partition_by=row_type.delivery_id, order_by=row_type.number.desc()
            )
            ranked = sa.select(row_type, newest_first.label("rank")).where(
                row_type.delivery_id.in_(list(delivery_ids))
            )
            ranked_rows = ranked.subquery()
            row_type = aliased(EventDeliveryAttemptRow, ranked_rows)
            query = sa.select(row_type).where(ranked_rows.c.rank <= recent)
        rows = await self._session.scalars(query.order_by(row_type.delivery_id, row_type.number))
        for row in rows:
            found[row.delivery_id].append(to_entity(row, DeliveryAttempt))
        return found


class SqlTenants(SqlRecords[Tenant]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, TenantRow, Tenant)

    async def get_by_slug(self, slug: str) -> Tenant | None:
        row = await self._session.scalar(sa.select(TenantRow).where(TenantRow.slug == slug))
        return None if row is None else to_entity(row, Tenant)

    async def list_all(self) -> Sequence[Tenant]:
        rows = await self._session.scalars(
            sa.select(TenantRow).order_by(TenantRow.created_at, TenantRow.slug)
        )
        return [to_entity(row, Tenant) for row in rows]

    async def list_for_user(self, user_id: UUID) -> Sequence[Tenant]:
        rows = await self._session.scalars(
            sa.select(TenantRow)
            .join(MembershipRow, MembershipRow.tenant_id == TenantRow.id)
            .where(MembershipRow.user_id == user_id, TenantRow.is_active.is_(True))
            .order_by(TenantRow.name)
        )
        return [to_entity(row, Tenant) for row in rows]


class SqlUsers(SqlRecords[User]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, UserRow, User)

    async def get_by_username(self, username: str) -> User | None:
        row = await self._session.scalar(sa.select(UserRow).where(UserRow.username == username))
        return None if row is None else to_entity(row, User)

    async def get_many(self, user_ids: Sequence[UUID]) -> Sequence[User]:
        if not user_ids:
            return []
        rows = await self._session.scalars(sa.select(UserRow).where(UserRow.id.in_(list(user_ids))))
        return [to_entity(row, User) for row in rows]


class SqlMemberships(SqlRecords[Membership]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, MembershipRow, Membership)

    async def get(self, *, user_id: UUID, tenant_id: UUID) -> Membership | None:  # type: ignore[override]
        row = await self._session.scalar(
            sa.select(MembershipRow).where(
                MembershipRow.user_id == user_id, MembershipRow.tenant_id == tenant_id
            )
        )
        return None if row is None else to_entity(row, Membership)

    async def list_for_user(self, user_id: UUID) -> Sequence[Membership]:
        rows = await self._session.scalars(
            sa.select(MembershipRow)
            .where(MembershipRow.user_id == user_id)
            .order_by(MembershipRow.created_at)
        )
        return [to_entity(row, Membership) for row in rows]

    async def list_for_tenant(self, tenant_id: UUID) -> Sequence[Membership]:
        rows = await self._session.scalars(
            sa.select(MembershipRow)
            .where(MembershipRow.tenant_id == tenant_id)
            .order_by(MembershipRow.created_at, MembershipRow.id)
        )
        return [to_entity(row, Membership) for row in rows]
