"""One place that turns errors into answers: the envelope with the right status, never a stack trace.

API paths answer JSON; page paths send a signed-out visitor to the login page.
"""

from __future__ import annotations

import logging
from typing import Any

from cryptography.fernet import InvalidToken
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from pywhatsapp.adapters.persistence.database import DatabaseUnavailable
from pywhatsapp.adapters.persistence.errors import is_unstorable_value
from pywhatsapp.application.common.unit_of_work import RecordRejected
from pywhatsapp.domain.contacts.import_file import UnsupportedFile
from pywhatsapp.domain.errors import (
    Conflict,
    DomainError,
    InvalidCredentials,
    InvalidInput,
    LoginThrottled,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    TenantAccessDenied,
)
from pywhatsapp.domain.messaging.sending import MetaRefusal, SendRefused
from pywhatsapp.domain.templates.errors import MetaUnreachable
from pywhatsapp.entrypoints.http.envelope import error_body

logger = logging.getLogger("pywhatsapp.http")

DOMAIN_STATUS: dict[type[DomainError], int] = {
    UnsupportedFile: HTTP_415_UNSUPPORTED_MEDIA_TYPE,  # before InvalidInput, of which it is a kind
    NotFound: HTTP_404_NOT_FOUND,
    Conflict: HTTP_409_CONFLICT,
    InvalidInput: HTTP_422_UNPROCESSABLE_ENTITY,
    InvalidCredentials: HTTP_401_UNAUTHORIZED,
    NotAuthenticated: HTTP_401_UNAUTHORIZED,
    TenantAccessDenied: HTTP_403_FORBIDDEN,
    PermissionDenied: HTTP_403_FORBIDDEN,
    LoginThrottled: HTTP_429_TOO_MANY_REQUESTS,
    MetaUnreachable: 502,
}

PAGE_PREFIXES = (
    "/chat",
    "/dashboard",
    "/logs",
    "/contacts",
    "/campaigns",
    "/templates",
    "/settings",
    "/groups",
    "/session",
)


def _wants_page(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return path == "/" or path.startswith(PAGE_PREFIXES)


def _json(status: int, message: str, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        content=error_body(message), status_code=status, media_type=MediaType.JSON, headers=headers
    )


def _unauthenticated(request: Request[Any, Any, Any], message: str) -> Response[Any]:
    if _wants_page(request):
        return Redirect(path=f"/login?next={request.url.path}")
    return _json(HTTP_401_UNAUTHORIZED, message, {"WWW-Authenticate": "Bearer"})


REFUSAL_STATUS = {
    MetaRefusal.WINDOW_CLOSED: HTTP_409_CONFLICT,
    MetaRefusal.MARKETING_STOPPED: HTTP_409_CONFLICT,
    MetaRefusal.TOKEN_EXPIRED: HTTP_409_CONFLICT,
    MetaRefusal.UNDELIVERABLE: HTTP_422_UNPROCESSABLE_ENTITY,
    MetaRefusal.INVALID_REQUEST: HTTP_422_UNPROCESSABLE_ENTITY,
    MetaRefusal.THROTTLED: HTTP_429_TOO_MANY_REQUESTS,
    MetaRefusal.OTHER: 502,
}


def domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    if isinstance(error, SendRefused):
        headers = {"Retry-After": "5"} if error.refusal.retryable else None
        return _json(REFUSAL_STATUS[error.refusal], error.message, headers)
    status = next(
        (code for kind, code in DOMAIN_STATUS.items() if isinstance(error, kind)), HTTP_400_BAD_REQUEST
    )
    if status == HTTP_401_UNAUTHORIZED and not isinstance(error, InvalidCredentials):
        return _unauthenticated(request, error.message)
    headers = {"Retry-After": str(error.retry_after_seconds)} if isinstance(error, LoginThrottled) else None
    return _json(status, error.message, headers)


def validation_error(request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    problems = []
    for item in error.extra if isinstance(error.extra, list) else []:
        if isinstance(item, dict):
            where = item.get("key") or item.get("source") or ""
            problems.append(f"{where}: {item.get('message', '')}".strip(": "))
    detail = "; ".join(problems) or error.detail
    if "malformed" in str(error.detail).lower() or "decode" in str(error.detail).lower():
        return _json(HTTP_400_BAD_REQUEST, f"The request body is not valid JSON: {detail}")
    return _json(HTTP_422_UNPROCESSABLE_ENTITY, f"Invalid request: {detail}")


def http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if isinstance(error, NotAuthorizedException):
        return _unauthenticated(request, error.detail)
    if error.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        logger.error("server error", extra={"path": request.url.path, "detail": error.detail}, exc_info=error)
    return _json(error.status_code, error.detail, dict(error.headers or {}) or None)


def database_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    logger.error("database unavailable", extra={"path": request.url.path, "error": type(error).__name__})
    return _json(
        HTTP_503_SERVICE_UNAVAILABLE, "The database is unavailable; try again shortly", {"Retry-After": "5"}
    )


def _is_unstorable_value(error: BaseException) -> bool:
    return isinstance(error, RecordRejected) or is_unstorable_value(error)


TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57")
"""Connection exceptions, insufficient resources (too many connections) and operator intervention (the
server shutting down, restarting, or not accepting connections yet): the database is away for now."""
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})
"""A serialization failure or deadlock between concurrent requests: the same request succeeds if retried."""


def _is_transient_database_error(error: BaseException) -> bool:
    seen: BaseException | None = error
    for _ in range(6):
        if seen is None:
            return False
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and (
            state in TRANSIENT_SQLSTATES or state[:2] in TRANSIENT_SQLSTATE_CLASSES
        ):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False


def unexpected_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    if isinstance(error, (RecursionError, UnicodeDecodeError)):
        # The body decoder gives up on absurd nesting or bytes that are not UTF-8.
        return _json(HTTP_400_BAD_REQUEST, "The request body is not valid JSON (UTF-8, reasonably nested)")
    if isinstance(error, InvalidToken) or type(error).__name__ == "InvalidSignature":
        logger.error(
            "stored secrets cannot be decrypted: ENCRYPTION_KEY (or SESSION_SECRET_KEY, its default) "
            "differs from the key they were saved with"
        )
        return _json(
            HTTP_503_SERVICE_UNAVAILABLE,
            "The server cannot read its stored channel secrets (encryption key changed); the operator "
            "must restore ENCRYPTION_KEY",
        )
    if _is_unstorable_value(error):
        return _json(
            HTTP_400_BAD_REQUEST,
            "The request holds a value that cannot be stored (bad characters or too long)",
        )
    if (
        isinstance(error, (OperationalError, InterfaceError, DatabaseUnavailable, OSError))
        or (isinstance(error, DBAPIError) and error.connection_invalidated)
        or _is_transient_database_error(error)
    ):
        return database_error(request, error)
    logger.exception("unexpected error", extra={"path": request.url.path})
    return _json(HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error")


EXCEPTION_HANDLERS: Any = {
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
