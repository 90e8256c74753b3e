"""Errors with meaning in the product's words; the HTTP and CLI edges map them to answers in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain and the use cases raise on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing asked for does not exist in the caller's tenant."""


class Conflict(DomainError):
    """The request contradicts what is stored (a duplicate, a state that forbids the change)."""


class InvalidInput(DomainError):
    """The request is well-formed but its values break a rule."""


class InvalidCredentials(DomainError):
    """Unknown user, wrong password or a disabled account: deliberately not told apart."""

    def __init__(self, message: str = "Invalid username or password") -> None:
        super().__init__(message)


class NotAuthenticated(DomainError):
    """No credential, or one that is expired, tampered with or revoked."""


class TenantAccessDenied(DomainError):
    """The caller is not a member of the tenant it asked for."""


class PermissionDenied(DomainError):
    """The caller's role in the tenant does not allow the action."""


class LoginThrottled(DomainError):
    """Too many failed logins for this user and address; try again later."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"Too many failed login attempts; try again in {retry_after_seconds} seconds")
        self.retry_after_seconds = retry_after_seconds


class SignatureMissing(NotAuthenticated):
    """A webhook arrived without `X-Hub-Signature-256` while signatures are checked."""


class SignatureInvalid(PermissionDenied):
    """A webhook's signature does not match the channel's app secret."""
