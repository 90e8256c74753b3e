"""What every page's layout needs, from one place: every page handler builds its context here.

    return Template("chat.html", context=await page_context(request, principal, nav="chat", rows=rows))

`base.html` reads: `principal` (user, tenant, role), `tenants` (the user's memberships, for the tenant
switcher), `sandbox` (the banner and the simulated-customer panel), `is_admin` (admin-only navigation),
`nav` (the active navigation item), `ws_url` (the live events socket) and `csrf_token` (for forms built by
scripts; plain forms use Litestar's `{{ csrf_input | safe }}`). Anything else given as `**extra` passes
through to the page's own template.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.utils.scope.state import ScopeState

from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role

NAVIGATION: tuple[tuple[str, str, str, bool], ...] = (
    # (nav key, path, label, admins only)
    ("chat", "/chat", "Chat", False),
    ("dashboard", "/dashboard", "Dashboard", False),
    ("contacts", "/contacts", "Contacts", False),
    ("groups", "/groups", "Groups", False),
    ("templates", "/templates", "Templates", False),
    ("flows", "/flows", "Flows", False),
    ("qr-codes", "/qr-codes", "QR codes", False),
    ("campaigns", "/campaigns", "Campaigns", False),
    ("logs", "/logs", "Logs", True),
    ("settings", "/settings", "Settings", True),
)
WS_PATH = "/ws"


def _nav_from_path(path: str) -> str:
    first = path.strip("/").split("/", 1)[0]
    return first or "chat"


def csrf_token(request: Request[Any, Any, Any]) -> str:
    """The token Litestar's CSRF middleware checks (the `x-csrftoken` header or the `_csrf_token` field)."""
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


async def page_context(request: Request[Any, Any, Any], principal: Principal, **extra: Any) -> dict[str, Any]:
    container = request.app.state.container
    tenants = await container.list_tenants().of_user(principal.user_id)
    is_admin = principal.role.allows(Role.ADMIN)
    nav = extra.pop("nav", None) or _nav_from_path(request.url.path)
    return {
        "principal": principal,
        "tenants": tenants,
        "sandbox": bool(container.settings().sandbox),
        "is_admin": is_admin,
        "nav": nav,
        "navigation": [
            {"key": key, "path": path, "label": label, "active": key == nav}
            for key, path, label, admin_only in NAVIGATION
            if is_admin or not admin_only
        ],
        "ws_url": WS_PATH,
        "csrf_token": csrf_token(request),
        **extra,
    }
