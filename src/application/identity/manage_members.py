"""The people of a tenant (`/settings`): who is a member with which role, new members, role changes.

Administrators manage the members of their own tenant only: a user of another tenant is "not found".
Only an owner grants or takes away the owner role, and nobody changes their own role, so a tenant
always keeps the administrator who is acting (and at least one owner once it has one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.identity.create_user import CreateUser
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Membership, Role


@dataclass(frozen=True)
class TenantMember:
    user_id: UUID
    username: str
    email: str | None
    full_name: str | None
    is_active: bool
    role: Role
    member_since: datetime
    last_login_at: datetime | None


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InvalidInput(f"role must be one of {', '.join(r.value for r in Role)}") from None


def _check_grant(principal: Principal, role: Role) -> None:
    """An admin hands out roles up to admin; the owner role only an owner gives."""
    if role is Role.OWNER and principal.role is not Role.OWNER:
        raise PermissionDenied("Only an owner may make someone an owner")


class ManageMembers:
    def __init__(self, uow_factory: UnitOfWorkFactory, create_user: CreateUser) -> None:
        self._uow_factory = uow_factory
        self._create_user = create_user

    async def list(self, principal: Principal) -> list[TenantMember]:
        principal.require(Role.ADMIN)
        async with self._uow_factory() as uow:
            memberships = await uow.memberships.list_for_tenant(principal.tenant_id)
            users = {user.id: user for user in await uow.users.get_many([m.user_id for m in memberships])}
        return [
            TenantMember(
                user_id=user.id,
                username=user.username,
                email=user.email,
                full_name=user.full_name,
                is_active=user.is_active,
                role=membership.role,
                member_since=membership.created_at,
                last_login_at=user.last_login_at,
            )
            for membership in memberships
            if (user := users.get(membership.user_id)) is not None
        ]

    async def add(
        self, principal: Principal, *, username: str, password: str, role: Role, email: str | None = None
    ) -> TenantMember:
        """A new user who is a member of the principal's tenant."""
        principal.require(Role.ADMIN)
        _check_grant(principal, role)
        user = await self._create_user.execute(
            username=username.strip(),
            password=password,
            tenant_id=principal.tenant_id,
            role=role,
            email=(email or "").strip() or None,
        )
        return next(m for m in await self.list(principal) if m.user_id == user.id)

    async def change_role(self, principal: Principal, user_id: UUID, role: Role) -> TenantMember:
        principal.require(Role.ADMIN)
        if user_id == principal.user_id:
            raise Conflict("You cannot change your own role; ask another administrator")
        _check_grant(principal, role)
        async with self._uow_factory() as uow:
            membership: Membership | None = await uow.memberships.get(
                user_id=user_id, tenant_id=principal.tenant_id
            )
            if membership is None:
                raise NotFound(f"No member {user_id} in this tenant")
            if membership.role is Role.OWNER and principal.role is not Role.OWNER:
                raise PermissionDenied("Only an owner may change an owner's role")
            membership.role = role
            membership.updated_at = utc_now()
            await uow.memberships.update(membership)
            await uow.commit()
        return next(m for m in await self.list(principal) if m.user_id == user_id)
