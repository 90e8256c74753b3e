"""Security headers on every HTTP answer, including those made outside the route handlers.

`after_request` only sees what a handler returned; answers made by middleware or exception handlers (a 401
from the authentication middleware, a 403 from the CSRF check, a 404), static files and the mounted sandbox
never pass through it, and neither do those of a middleware sitting outside Litestar's exception handling.
Litestar's `before_send` hook sees every message the app sends, so the headers are set there, on the
response start, leaving alone any header a handler chose.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope


def security_headers(
    headers: Mapping[str, str], *, by_path: Mapping[str, Mapping[str, str]] | None = None
) -> Callable[[Message, Scope], None]:
    """`headers` on every answer; under a path prefix of `by_path`, its headers take their place."""
    default = dict(headers)
    overrides = [(prefix, default | dict(chosen)) for prefix, chosen in (by_path or {}).items()]

    def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            path = scope.get("path", "")
            chosen = next((h for prefix, h in overrides if path.startswith(prefix)), default)
            present = MutableScopeHeaders.from_message(message)
            for name, value in chosen.items():
                if name not in present:
                    present[name] = value

    return add_headers
