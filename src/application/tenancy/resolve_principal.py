"""Decide in which tenant, and with which role, a signed-in user acts on this request."""

from __future__ import annotations

from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWork
from pywhatsapp.domain.errors import NotAuthenticated, TenantAccessDenied
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.tenancy.tenant import Tenant

MAX_REFERENCE_LENGTH = 100


def shown(reference: str) -> str:
    """A client-sent reference as it may appear in an answer: short and printable."""
    clipped = reference[:64] + ("…" if len(reference) > 64 else "")
    return clipped.encode("unicode_escape").decode("ascii")


async def find_tenant(uow: UnitOfWork, reference: str) -> Tenant | None:
    """A tenant named by its UUID or its slug, as `X-Tenant-Id` may carry either."""
    if len(reference) > MAX_REFERENCE_LENGTH or "\x00" in reference:
        return None
    try:
        tenant_id = UUID(reference)
    except ValueError:
        return await uow.tenants.get_by_slug(reference.strip().lower())
    return await uow.tenants.get(tenant_id)


async def resolve_principal(
    uow: UnitOfWork, user: User, *, current_tenant_id: UUID, requested_tenant: str | None
) -> Principal:
    """The user's principal in the requested tenant (or the current one); only a member may enter."""
    if not user.is_active:
        raise NotAuthenticated("This account is disabled")
    tenant: Tenant | None
    if requested_tenant:
        tenant = await find_tenant(uow, requested_tenant)
        if tenant is None:
            raise TenantAccessDenied(f"You are not a member of tenant '{shown(requested_tenant)}'")
    else:
        tenant = await uow.tenants.get(current_tenant_id)
    membership = await uow.memberships.get(user_id=user.id, tenant_id=tenant.id) if tenant else None
    if tenant is None or membership is None or not tenant.is_active:
        raise TenantAccessDenied(
            f"You are not a member of tenant '{shown(requested_tenant or str(current_tenant_id))}'"
        )
    return Principal(
        user_id=user.id,
        username=user.username,
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        role=membership.role,
    )
