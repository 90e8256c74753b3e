"""Create a user who is a member of one tenant (the seed's create_admin script, and more)."""

from __future__ import annotations

from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.identity.ports import PasswordHasher
from pywhatsapp.domain.errors import Conflict, NotFound
from pywhatsapp.domain.identity.user import User, validate_password, validate_username
from pywhatsapp.domain.tenancy.membership import Membership, Role


class CreateUser:
    def __init__(self, uow_factory: UnitOfWorkFactory, passwords: PasswordHasher) -> None:
        self._uow_factory = uow_factory
        self._passwords = passwords

    async def execute(
        self, *, username: str, password: str, tenant_id: UUID, role: Role, email: str | None = None
    ) -> User:
        validate_username(username)
        validate_password(password)
        async with self._uow_factory() as uow:
            if await uow.tenants.get(tenant_id) is None:
                raise NotFound(
                    f"Tenant {tenant_id} does not exist; create it first (pywhatsapp tenant create)"
                )
            if await uow.users.get_by_username(username) is not None:
                raise Conflict(f"A user named {username!r} already exists")
            user = await uow.users.add(
                User(
                    username=username,
                    password_hash=await self._passwords.hash(password),
                    tenant_id=tenant_id,
                    email=email,
                )
            )
            await uow.memberships.add(Membership(tenant_id=tenant_id, user_id=user.id, role=role))
            await uow.commit()
        return user
