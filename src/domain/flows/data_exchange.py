"""The answer a flow's data endpoint gives to a decrypted request, from the flow's routing table.

Meta's requests (after decryption): `{"version", "action": "ping" | "INIT" | "data_exchange" | "BACK",
"screen", "data", "flow_token"}`; an error notification carries `data.error`. Answers: the health check's
`{"data": {"status": "active"}}`, an acknowledgement of errors, the next screen with its data, or, to close
the flow, the SUCCESS screen whose `extension_message_response` Meta turns into the completion message."""

from __future__ import annotations

from typing import Any

from pywhatsapp.domain.errors import InvalidInput, NotFound
from pywhatsapp.domain.flows.rules import SUCCESS

ACTIONS = frozenset({"ping", "INIT", "data_exchange", "BACK", "navigate"})


def answer(request: Any, routes: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise InvalidInput("the decrypted request is not a JSON object")
    action = request.get("action")
    if action == "ping":
        return {"data": {"status": "active"}}
    if action not in ACTIONS:
        raise InvalidInput(f"unknown flow action {action!r}")
    data = request.get("data")
    data = data if isinstance(data, dict) else {}
    if "error" in data:
        # Meta tells the endpoint that the screen it sent could not be shown.
        return {"data": {"acknowledged": True}}
    screen = request.get("screen")
    routes = routes or {}
    if action == "BACK" and "BACK" not in routes:
        # Going back refreshes the screen the customer returns to, with the data it was first shown with.
        if not isinstance(screen, str) or not screen:
            raise InvalidInput("a BACK request names the screen it returns to")
        shown = next((r.get("data") for r in routes.values() if r.get("next_screen") == screen), None)
        return {"screen": screen, "data": dict(shown or {})}
    key = {"INIT": "INIT", "BACK": "BACK"}.get(str(action), screen)
    route = routes.get(str(key)) if key else None
    if route is None:
        raise NotFound(f"the flow has no route for {key!r}; set one with PUT /api/v1/flows/{{id}}/routes")
    next_screen = str(route["next_screen"])
    screen_data = dict(route.get("data") or {})
    if next_screen == SUCCESS:
        token = request.get("flow_token")
        params = {**({"flow_token": token} if token else {}), **screen_data}
        return {"screen": SUCCESS, "data": {"extension_message_response": {"params": params}}}
    return {"screen": next_screen, "data": screen_data}
