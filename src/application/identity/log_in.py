"""Sign a user in with username and password, throttling repeated failures."""

from __future__ import annotations

from dataclasses import dataclass

from pywhatsapp.application.common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from pywhatsapp.application.identity.ports import AccessTokens, IssuedToken, LoginAttempts, PasswordHasher
from pywhatsapp.application.tenancy.resolve_principal import resolve_principal
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import InvalidCredentials, LoginThrottled, TenantAccessDenied
from pywhatsapp.domain.identity.login_throttle import (
    LoginThrottlePolicy,
    address_throttle_key,
    throttle_key,
)
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.identity.user import User, is_plausible_username


@dataclass(frozen=True)
class LoginResult:
    principal: Principal
    access_token: IssuedToken


class LogIn:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        passwords: PasswordHasher,
        tokens: AccessTokens,
        attempts: LoginAttempts,
        policy: LoginThrottlePolicy,
    ) -> None:
        self._uow_factory = uow_factory
        self._passwords = passwords
        self._tokens = tokens
        self._attempts = attempts
        self._policy = policy
        self._dummy_hash: str | None = None

    async def _hash_to_check(self, password_hash: str | None) -> str:
        """Verifying against a real hash when the user does not exist keeps the answer time the same,
        so that timing does not reveal which usernames exist."""
        if password_hash is not None:
            return password_hash
        if self._dummy_hash is None:
            self._dummy_hash = await self._passwords.hash("not-a-real-password")
        return self._dummy_hash

    async def execute(
        self, *, username: str, password: str, client_address: str, tenant: str | None = None
    ) -> LoginResult:
        key = throttle_key(username, client_address)
        address_key = address_throttle_key(client_address)
        if not self._policy.allows_address(await self._attempts.failures(address_key)):
            raise LoginThrottled(self._policy.window_seconds)
        # Every attempt is counted before the password is checked, in one atomic step: parallel guesses
        # cannot all read "4 failures so far" and all go through.
        attempt = await self._attempts.register_attempt(key, window_seconds=self._policy.window_seconds)
        if not self._policy.allows_attempt(attempt):
            raise LoginThrottled(self._policy.window_seconds)
        username = username.strip()
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_username(username) if is_plausible_username(username) else None
            valid = await self._passwords.verify(
                password, await self._hash_to_check(user.password_hash if user else None)
            )
            if user is None or not valid or not user.is_active:
                # Only failures count for the address: its users' successful sign-ins must not lock it.
                await self._attempts.register_attempt(address_key, window_seconds=self._policy.window_seconds)
                raise InvalidCredentials()
            principal = await self._principal(uow, user, tenant)
            user.last_login_at = utc_now()
            await uow.users.update(user)
            await uow.commit()
        await self._attempts.clear(key)
        token = self._tokens.issue(
            user_id=principal.user_id, tenant_id=principal.tenant_id, role=principal.role
        )
        return LoginResult(principal=principal, access_token=token)

    @staticmethod
    async def _principal(uow: UnitOfWork, user: User, tenant: str | None) -> Principal:
        if tenant:
            return await resolve_principal(
                uow, user, current_tenant_id=user.tenant_id, requested_tenant=tenant
            )
        try:
            return await resolve_principal(uow, user, current_tenant_id=user.tenant_id, requested_tenant=None)
        except TenantAccessDenied:
            # No longer a member of the home tenant (or it was deactivated): land in the first active
            # tenant the user still belongs to.
            tenants = await uow.tenants.list_for_user(user.id)
            if not tenants:
                raise
            return await resolve_principal(uow, user, current_tenant_id=tenants[0].id, requested_tenant=None)
