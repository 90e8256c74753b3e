"""Create, list and revoke a tenant's API keys (admin role); a key's role never exceeds its creator's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import InvalidInput, NotFound, PermissionDenied
from pywhatsapp.domain.identity.api_key import ApiKey, issue_key
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str
    """Shown once, at creation; only its hash is stored."""


class ManageApiKeys:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def create(
        self, principal: Principal, *, name: str, role: Role, expires_at: datetime | None = None
    ) -> CreatedKey:
        principal.require(Role.ADMIN)
        if not principal.role.allows(role):
            raise PermissionDenied(f"You cannot create a key with more rights ({role.value}) than your own")
        if not name.strip():
            raise InvalidInput("An API key needs a name")
        if expires_at is not None and expires_at <= utc_now():
            raise InvalidInput("expires_at must be in the future")
        issued = issue_key()
        key = ApiKey(
            tenant_id=principal.tenant_id,
            name=name.strip(),
            role=role,
            prefix=issued.prefix,
            key_hash=issued.key_hash,
            created_by_user_id=None if principal.api_key_id else principal.user_id,
            expires_at=expires_at,
        )
        async with self._uow_factory(principal.tenant_id) as uow:
            stored = await uow.api_keys.add(key)
            await uow.commit()
        return CreatedKey(key=stored, secret=issued.secret)

    async def list(self, principal: Principal) -> list[ApiKey]:
        principal.require(Role.ADMIN)
        async with self._uow_factory(principal.tenant_id) as uow:
            return list(await uow.api_keys.list(limit=500))

    async def revoke(self, principal: Principal, key_id: UUID) -> ApiKey:
        principal.require(Role.ADMIN)
        async with self._uow_factory(principal.tenant_id) as uow:
            key = await uow.api_keys.get(key_id)
            if key is None:
                raise NotFound(f"No API key {key_id} in this tenant")
            if key.revoked_at is None:
                key.revoked_at = utc_now()
                key = await uow.api_keys.update(key)
                await uow.commit()
        return key
