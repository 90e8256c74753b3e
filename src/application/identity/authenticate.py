"""Turn a credential presented with a request (a token or a session) into the principal acting."""

from __future__ import annotations

from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.identity.ports import AccessTokens, ApiKeyDirectory
from pywhatsapp.application.tenancy.resolve_principal import find_tenant, resolve_principal, shown
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import NotAuthenticated, TenantAccessDenied
from pywhatsapp.domain.identity.api_key import prefix_of
from pywhatsapp.domain.identity.principal import Principal


class Authenticate:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, tokens: AccessTokens, api_keys: ApiKeyDirectory
    ) -> None:
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._api_keys = api_keys

    async def with_api_key(self, secret: str, *, requested_tenant: str | None = None) -> Principal:
        """A tenant API key acts in its own tenant only, with its own role."""
        prefix = prefix_of(secret)
        key = await self._api_keys.by_prefix(prefix) if prefix else None
        now = utc_now()
        if key is None or not key.matches(secret):
            raise NotAuthenticated("The API key is not valid")
        if not key.usable(now):
            raise NotAuthenticated("The API key was revoked or has expired")
        async with self._uow_factory() as uow:
            tenant = await uow.tenants.get(key.tenant_id)
            if requested_tenant:
                asked = await find_tenant(uow, requested_tenant)
                if asked is None or asked.id != key.tenant_id:
                    raise TenantAccessDenied(
                        f"This API key belongs to another tenant than '{shown(requested_tenant)}'"
                    )
        if tenant is None or not tenant.is_active:
            raise NotAuthenticated("The API key's tenant is not active")
        if key.worth_touching(now):
            await self._api_keys.touch(key, now)
        return Principal(
            user_id=key.id,
            username=f"api-key:{key.name}",
            tenant_id=tenant.id,
            tenant_slug=tenant.slug,
            tenant_name=tenant.name,
            role=key.role,
            api_key_id=key.id,
        )

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
            # Tokens and sessions carry their issue time to the microsecond, so revocation is exact
            # (tokens of older versions carry whole seconds, rounded down: they count as older).
            # The user row is read on every request anyway, so revocation costs no extra query.
            if issued_at < user.tokens_valid_after.timestamp():
                raise NotAuthenticated("This credential was revoked; sign in again")
            return await resolve_principal(
                uow, user, current_tenant_id=tenant_id, requested_tenant=requested_tenant
            )
