"""The one mechanism that confines every ORM statement of a session to the session's tenant.

A session carries its tenant in `session.info`. Every SELECT, UPDATE and DELETE that touches a
`TenantScoped` model gets `tenant_id = :tenant` added to it (including joins and relationship loads),
and every new row gets the tenant stamped on it; a row of another tenant cannot be added. A session
without a tenant sees no tenant-owned row at all unless it was opened explicitly for all tenants
(installation maintenance, webhook routing by phone number).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from pywhatsapp.adapters.persistence.base import TenantScoped

TENANT_KEY = "pywhatsapp.tenant_id"
ALL_TENANTS_KEY = "pywhatsapp.all_tenants"


class TenantScopeViolation(RuntimeError):
    """A row of another tenant was about to be written through a tenant's session."""


def open_scope(session: Session, tenant_id: UUID | None, *, all_tenants: bool = False) -> None:
    session.info[TENANT_KEY] = tenant_id
    session.info[ALL_TENANTS_KEY] = all_tenants


@event.listens_for(Session, "do_orm_execute")
def _confine_statements(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # already confined by the statement that loaded the parent rows
    info = state.session.info
    if info.get(ALL_TENANTS_KEY):
        return
    tenant_id = info.get(TENANT_KEY)
    if tenant_id is None:
        criteria: Any = with_loader_criteria(TenantScoped, lambda cls: sa.false(), include_aliases=True)
    else:
        criteria = with_loader_criteria(
            TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True
        )
    state.statement = state.statement.options(criteria)


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, flush_context: Any, instances: Any) -> None:
    if session.info.get(ALL_TENANTS_KEY):
        return
    tenant_id = session.info.get(TENANT_KEY)
    for row in list(session.new) + list(session.dirty):
        if not isinstance(row, TenantScoped):
            continue
        if tenant_id is None:
            raise TenantScopeViolation(f"{type(row).__name__} written through a session without a tenant")
        if row.tenant_id is None:
            row.tenant_id = tenant_id
        elif row.tenant_id != tenant_id:
            raise TenantScopeViolation(
                f"{type(row).__name__} of tenant {row.tenant_id} written in {tenant_id}"
            )
