"""Turn a credential presented with a request (a token or a session) into the principal acting."""

from __future__ import annotations

from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.identity.ports import AccessTokens
from pywhatsapp.application.tenancy.resolve_principal import resolve_principal
from pywhatsapp.domain.errors import NotAuthenticated
from pywhatsapp.domain.identity.principal import Principal


class Authenticate:
    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: AccessTokens) -> None:
        self._uow_factory = uow_factory
        self._tokens = tokens

    async def with_token(self, token: str, *, requested_tenant: str | None = None) -> Principal:
        claims = self._tokens.decode(token)
        return await self._principal(
            claims.user_id, claims.tenant_id, requested_tenant, issued_at=claims.issued_at.timestamp()
        )

    async def with_session(
        self, user_id: UUID, tenant_id: UUID, *, requested_tenant: str | None = None, issued_at: float
    ) -> Principal:
        return await self._principal(user_id, tenant_id, requested_tenant, issued_at=issued_at)

    async def _principal(
        self, user_id: UUID, tenant_id: UUID, requested_tenant: str | None, *, issued_at: float
    ) -> Principal:
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotAuthenticated("This account no longer exists")
            # Whole seconds: JWT times have no fractions, and a token issued in the same second as a
            # password change must still count as issued before it.
            if int(issued_at) < int(user.tokens_valid_after.timestamp()):
                raise NotAuthenticated("This credential was revoked; sign in again")
            return await resolve_principal(
                uow, user, current_tenant_id=tenant_id, requested_tenant=requested_tenant
            )
