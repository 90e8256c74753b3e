"""Ending a user's credentials: logging out of the API, and changing (or resetting) a password.

Access tokens are JWTs that nothing stores, so a single token cannot be struck off without a deny-list read
on every request. Instead each user has `tokens_valid_after`: every token and page session issued before it
is refused. The user row is already read on every authenticated request (for `is_active` and the
memberships), so revocation costs no extra query and takes effect at once, on every worker.
"""

from __future__ import annotations

from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.identity.ports import LoginAttempts, PasswordHasher, WebSessions
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import LoginThrottled, NotFound, PermissionDenied
from pywhatsapp.domain.identity.login_throttle import LoginThrottlePolicy
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.identity.user import User, validate_password


def _require_user(principal: Principal) -> None:
    if principal.api_key_id is not None:
        raise PermissionDenied("An API key has no password or session; revoke it at /api/v1/api-keys")


class LogOut:
    def __init__(self, uow_factory: UnitOfWorkFactory, sessions: WebSessions) -> None:
        self._uow_factory = uow_factory
        self._sessions = sessions

    async def everywhere(self, principal: Principal) -> None:
        """Every access token and page session of the user issued until now stops working."""
        _require_user(principal)
        async with self._uow_factory() as uow:
            user = await uow.users.get(principal.user_id)
            if user is None:
                raise NotFound("This account no longer exists")
            user.tokens_valid_after = user.updated_at = utc_now()
            await uow.users.update(user)
            await uow.commit()
        await self._sessions.end_all_of(principal.user_id)


class ChangePassword:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        passwords: PasswordHasher,
        sessions: WebSessions,
        attempts: LoginAttempts,
        policy: LoginThrottlePolicy,
    ) -> None:
        self._uow_factory = uow_factory
        self._passwords = passwords
        self._sessions = sessions
        self._attempts = attempts
        self._policy = policy

    async def own(self, principal: Principal, *, current_password: str, new_password: str) -> User:
        """The signed-in user changes their password; the current one must be given, so that a stolen
        token or an unattended browser cannot take the account over."""
        _require_user(principal)
        validate_password(new_password)
        # Guesses of the current password are throttled like sign-ins: a stolen token must not become
        # a password oracle.
        key = f"password-change|{principal.user_id}"
        attempt = await self._attempts.register_attempt(key, window_seconds=self._policy.window_seconds)
        if not self._policy.allows_attempt(attempt):
            raise LoginThrottled(self._policy.window_seconds)
        async with self._uow_factory() as uow:
            user = await uow.users.get(principal.user_id)
            if user is None:
                raise NotFound("This account no longer exists")
            if not await self._passwords.verify(current_password, user.password_hash):
                raise PermissionDenied("The current password is not correct")
        await self._attempts.clear(key)
        return await self._replace(principal.user_id, new_password)

    async def reset(self, username: str, *, new_password: str) -> User:
        """An operator sets a user's password (the CLI): no current password is asked for."""
        validate_password(new_password)
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_username(username.strip())
        if user is None:
            raise NotFound(f"No user named {username!r}")
        return await self._replace(user.id, new_password)

    async def _replace(self, user_id: UUID, new_password: str) -> User:
        password_hash = await self._passwords.hash(new_password)
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound("This account no longer exists")
            user.password_hash = password_hash
            # Whoever held the old password (or a token or session made with it) is out from now on.
            user.tokens_valid_after = user.updated_at = utc_now()
            stored = await uow.users.update(user)
            await uow.commit()
        await self._sessions.end_all_of(user_id)
        return stored
