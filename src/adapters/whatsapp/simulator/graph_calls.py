"""How the simulator's calls begin: the version and token check of the flows, groups and QR code routes, and
the JSON body reader of every Graph and control route."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from litestar import Request

from pywhatsapp.adapters.whatsapp.simulator.errors import graph_error, invalid_token
from pywhatsapp.adapters.whatsapp.simulator.settings import SimulatorSettings

AnyRequest = Request[Any, Any, Any]


def check_graph_call(request: AnyRequest, version: str, settings: SimulatorSettings) -> None:
    """Refuse, in Meta's envelope, a flows, groups or QR code call with a malformed version prefix (400) or a
    missing or unknown bearer token (401).

    Not app.py's `_graph_call`: these routes never took `?access_token=` nor refused a version such as
    `v1.2.3`, and sharing that check would change what they answer.
    """
    if not (version.startswith("v") and version[1:].replace(".", "").isdigit()):
        raise graph_error(2500, f"Unknown path components: /{version}", http_status=400)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    if not token:
        raise invalid_token(missing=True)
    if settings.valid_tokens is not None and token not in settings.valid_tokens:
        raise invalid_token(missing=False)


async def json_object(request: AnyRequest, refuse: Callable[[str], Exception]) -> dict[str, Any]:
    """The body as a JSON object ({} when empty); anything else is refused with `refuse(reason)`."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise refuse("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise refuse("The request body must be a JSON object.")
    return data
