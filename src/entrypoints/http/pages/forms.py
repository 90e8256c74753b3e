"""What the management pages (contacts, groups, templates, campaigns, settings) share.

Their writes are form posts (CSRF-checked) answered with HTML: a fragment for htmx, which swaps it in, or a
redirect back to the page for a plain post (the pages work without scripts too). A refusal is HTML as
well, with the HTTP status the API would give: a short notice that `static/admin.js` shows beside the form
that was sent, or a whole error page for a plain request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from litestar import Request, Response
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_401_UNAUTHORIZED

from pywhatsapp.domain.errors import DomainError, InvalidInput, NotAuthenticated
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.errors import DOMAIN_STATUS
from pywhatsapp.entrypoints.http.page_context import NAVIGATION, WS_PATH, csrf_token

logger = logging.getLogger(__name__)
MAX_FIELD = 4000


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def is_admin(principal: Principal) -> bool:
    return principal.role.allows(Role.ADMIN)


class Form:
    """A posted form's fields, read with the checks every field needs (length, no NUL, the right kind)."""

    def __init__(self, fields: FormMultiDict) -> None:
        self._fields = fields

    def text(self, name: str, *, max_length: int = 500, required: bool = False) -> str | None:
        value = self._fields.get(name)
        if isinstance(value, UploadFile):
            raise InvalidInput(f"{name} must be text, not a file")
        text = (value or "").strip()
        if "\x00" in text or len(text) > max_length:
            raise InvalidInput(f"{name} must be at most {max_length} characters of text")
        if required and not text:
            raise InvalidInput(f"{name} is required")
        return text or None

    def required(self, name: str, *, max_length: int = 500) -> str:
        return self.text(name, max_length=max_length, required=True) or ""

    def texts(self, name: str, *, max_length: int = 500) -> list[str]:
        values = [v for v in self._fields.getall(name, []) if isinstance(v, str)]
        if any("\x00" in v or len(v) > max_length for v in values):
            raise InvalidInput(f"{name} must be at most {max_length} characters of text")
        return [v.strip() for v in values if v.strip()]

    def values(self, name: str, *, max_length: int = 500) -> list[str]:
        """Every value of a repeated field in order, empty ones kept (their position matters)."""
        values = [v if isinstance(v, str) else "" for v in self._fields.getall(name, [])]
        if any("\x00" in v or len(v) > max_length for v in values):
            raise InvalidInput(f"{name} must be at most {max_length} characters of text")
        return [v.strip() for v in values]

    def listed(self, name: str, *, max_length: int = MAX_FIELD) -> list[str]:
        """A comma- or line-separated list in one field (tags, numbers)."""
        raw = self.text(name, max_length=max_length) or ""
        return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]

    def lines(self, name: str, *, max_length: int = MAX_FIELD) -> list[str]:
        raw = self.text(name, max_length=max_length) or ""
        return [line.strip() for line in raw.splitlines() if line.strip()]

    def uuids(self, name: str) -> list[UUID]:
        try:
            return [UUID(value) for value in self.texts(name, max_length=64)]
        except ValueError:
            raise InvalidInput(f"{name} must be ids") from None

    def uuid(self, name: str) -> UUID | None:
        found = self.uuids(name)
        return found[0] if found else None

    def integer(self, name: str, *, low: int, high: int) -> int | None:
        text = self.text(name, max_length=12)
        if text is None:
            return None
        try:
            value = int(text)
        except ValueError:
            raise InvalidInput(f"{name} must be a whole number") from None
        if not low <= value <= high:
            raise InvalidInput(f"{name} must be between {low} and {high}")
        return value

    def checked(self, name: str) -> bool:
        return self.text(name, max_length=10) in {"on", "true", "1", "yes"}

    def file(self, name: str) -> UploadFile:
        upload = self._fields.get(name)
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput(f"Choose a file for {name}")
        return upload


async def read_form(request: Request[Any, Any, Any]) -> Form:
    return Form(await request.form())


def fragment_or_back(
    request: Request[Any, Any, Any], template: str, context: dict[str, Any], back: str
) -> Template | Redirect:
    """The fragment for htmx; a plain post goes back to its page (303), which shows the change."""
    if is_htmx(request):
        return Template(template, context=context)
    return Redirect(path=back, status_code=303)


def go_to(request: Request[Any, Any, Any], path: str) -> Response[Any]:
    """After a create or a delete: the browser loads `path` (htmx follows HX-Redirect)."""
    if is_htmx(request):
        return Response(content="", headers={"HX-Redirect": path}, status_code=200)
    return Redirect(path=path, status_code=303)


def layout_context(request: Request[Any, Any, Any], principal: Principal) -> dict[str, Any]:
    """The layout's context without the tenant switcher's lookup (an error answer must not need the
    database); pages build theirs with `page_context`."""
    admin = is_admin(principal)
    nav = request.url.path.strip("/").split("/", 1)[0]
    return {
        "principal": principal,
        "tenants": [],
        "sandbox": False,
        "is_admin": admin,
        "nav": nav,
        "navigation": [
            {"key": key, "path": path, "label": label, "active": key == nav}
            for key, path, label, admin_only in NAVIGATION
            if admin or not admin_only
        ],
        "ws_url": WS_PATH,
        "csrf_token": csrf_token(request),
    }


def refusal(request: Request[Any, Any, Any], message: str, status: int) -> Response[Any]:
    if is_htmx(request):
        return Template(
            "admin/_notice.html", context={"message": message, "kind": "error"}, status_code=status
        )
    principal = request.scope.get("user")
    if not isinstance(principal, Principal):
        return Response(content=message, status_code=status, media_type="text/plain")
    context = {**layout_context(request, principal), "message": message, "status": status}
    return Template("admin/error.html", context=context, status_code=status)


def json_object(raw: str | None, what: str) -> dict[str, Any]:
    """A JSON object typed into a form field (empty means none), or InvalidInput saying what to type."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise InvalidInput(f'{what} must be a JSON object, such as {{"name": "Ann"}}')
    return value


def page_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    if isinstance(error, (NotAuthenticated, NotAuthorizedException)):
        # A signed-out visitor (or an expired session) goes to the login form, and back here after.
        login = f"/login?next={request.url.path}"
        if request.headers.get("hx-request"):
            # A redirect would swap the login page into the fragment's target: htmx reloads instead.
            return Response(content="", status_code=HTTP_401_UNAUTHORIZED, headers={"HX-Redirect": login})
        return Redirect(path=login)
    if isinstance(error, DomainError):
        status = next((code for kind, code in DOMAIN_STATUS.items() if isinstance(error, kind)), 400)
        return refusal(request, error.message, status)
    if isinstance(error, ValidationException):
        return refusal(request, "The form is not valid: " + str(error.detail), HTTP_400_BAD_REQUEST)
    if isinstance(error, HTTPException) and 400 <= error.status_code < 500:
        return refusal(request, str(error.detail), error.status_code)
    logger.exception("page failed", exc_info=error)
    return refusal(request, "Something went wrong; try again", 500)


PAGE_ERRORS: dict[int | type[Exception], Callable[[Request[Any, Any, Any], Any], Response[Any]]] = {
    DomainError: page_error,
    HTTPException: page_error,
}
