"""The one mechanism that confines every ORM statement of a session to the session's tenant.

A session carries its tenant in `session.info`. Every SELECT, UPDATE and DELETE that touches a
`TenantScoped` model gets `tenant_id = :tenant` added to it (including joins and relationship loads),
and every new row gets the tenant stamped on it; a row of another tenant cannot be added. A session
without a tenant sees no tenant-owned row at all unless it was opened explicitly for all tenants
(installation maintenance, webhook routing by phone number).
"""

from __future__ import annotations

from functools import cache
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


TRUSTED_WRITE = "pywhatsapp_tenant_stamped"
"""Execution option for bulk statements whose rows were stamped with the session's tenant by
`stamped_rows`; any other INSERT into a tenant-owned table through a tenant session is refused."""


@cache
def _tenant_table_names() -> frozenset[str]:
    return frozenset(
        _name(mapper.local_table)
        for mapper in TenantScoped.registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    )


def _name(source: Any) -> str:
    return str(getattr(source, "name", ""))


def _is_unmapped_tenant_table(element: Any) -> bool:
    """A tenant-owned table named directly (Core), not through its ORM entity: no criteria would apply."""
    return (
        isinstance(element, sa.TableClause)
        and element.name in _tenant_table_names()
        and not getattr(element, "_annotations", {}).get("parententity")
    )


def _refuse_unconfinable(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, sa.TextClause):
        raise TenantScopeViolation("Raw SQL text cannot be confined to a tenant; use a repository")
    if state.is_insert or state.is_update or state.is_delete:
        target = statement.table  # type: ignore[attr-defined]
        if _is_unmapped_tenant_table(target):
            raise TenantScopeViolation(f"{target.name} changed through Core; use its ORM entity")
        if target.name in _tenant_table_names():
            if state.is_insert and not state.execution_options.get(TRUSTED_WRITE):
                raise TenantScopeViolation(f"Bulk insert into {target.name} without stamping the tenant")
            values = getattr(statement, "_values", None) or {}
            if state.is_update and any(getattr(key, "key", key) == "tenant_id" for key in values):
                raise TenantScopeViolation(f"Moving {target.name} rows to another tenant is not allowed")
    elif state.is_select and not state.is_orm_statement:
        through_entities = {_name(mapper.local_table) for mapper in state.all_mappers}
        for source in statement.get_final_froms():  # type: ignore[attr-defined]
            if _is_unmapped_tenant_table(source) and source.name not in through_entities:
                raise TenantScopeViolation(f"{source.name} read through Core; use its ORM entity")


def stamped_rows(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for a bulk INSERT, each stamped with the session's tenant (run it with TRUSTED_WRITE)."""
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is None:
        raise TenantScopeViolation("Bulk insert through a session without a tenant")
    return [{**row, "tenant_id": tenant_id} for row in rows]


@event.listens_for(Session, "do_orm_execute")
def _confine_statements(state: ORMExecuteState) -> None:
    info = state.session.info
    if info.get(ALL_TENANTS_KEY):
        return
    _refuse_unconfinable(state)
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # already confined by the statement that loaded the parent rows
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
