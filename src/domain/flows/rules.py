"""What Meta accepts for a flow (name, categories, flow JSON) and for a flow message, checked before Meta is
asked, and the data endpoint's routing table."""

from __future__ import annotations

import json
import secrets
from typing import Any
from uuid import UUID

from pywhatsapp.domain.errors import InvalidInput

CATEGORIES = frozenset(
    {
        "SIGN_UP",
        "SIGN_IN",
        "APPOINTMENT_BOOKING",
        "LEAD_GENERATION",
        "CONTACT_US",
        "CUSTOMER_SUPPORT",
        "SURVEY",
        "OTHER",
    }
)
MAX_NAME = 200
MAX_FLOW_JSON_BYTES = 10 * 1024 * 1024
"""Meta's limit for a flow JSON asset."""
FLOW_ACTIONS = frozenset({"navigate", "data_exchange"})
FLOW_MODES = frozenset({"draft", "published"})
MAX_CTA = 30
MAX_FLOW_TOKEN = 1000
ROUTE_KEYS = frozenset({"next_screen", "data"})
SUCCESS = "SUCCESS"
"""The routing table's next screen that closes the flow (Meta's `extension_message_response`)."""


def check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidInput(f"a flow name has 1 to {MAX_NAME} characters")
    return name


def check_categories(categories: list[str]) -> list[str]:
    if not categories:
        raise InvalidInput(f"a flow needs at least one category: {', '.join(sorted(CATEGORIES))}")
    chosen = [str(c).strip().upper() for c in categories]
    unknown = [c for c in chosen if c not in CATEGORIES]
    if unknown:
        raise InvalidInput(
            f"unknown flow categories {', '.join(unknown)}; Meta knows {', '.join(sorted(CATEGORIES))}"
        )
    return list(dict.fromkeys(chosen))


def flow_json_text(flow_json: Any) -> str:
    """The flow JSON as the asset Meta receives: a JSON object, within Meta's size limit.

    Whether its screens and components are right is Meta's to say (its validation errors are stored)."""
    if not isinstance(flow_json, dict):
        raise InvalidInput('the flow JSON must be a JSON object ({"version": ..., "screens": [...]})')
    text = json.dumps(flow_json, ensure_ascii=False)
    if len(text.encode()) > MAX_FLOW_JSON_BYTES:
        raise InvalidInput("the flow JSON is larger than Meta's 10 MB limit")
    return text


def check_routes(routes: Any) -> dict[str, dict[str, Any]]:
    """`{"INIT": {"next_screen": "WELCOME", "data": {...}}, "WELCOME": {"next_screen": "SUCCESS"}, ...}`:
    for each screen the customer leaves with a data exchange (and INIT, the opening, and BACK), the next
    screen and the data it is shown with."""
    if not isinstance(routes, dict):
        raise InvalidInput('the routes must be an object: screen -> {"next_screen", "data"}')
    checked: dict[str, dict[str, Any]] = {}
    for screen, route in routes.items():
        if not isinstance(route, dict) or not isinstance(route.get("next_screen"), str):
            raise InvalidInput(f"the route of {screen!r} needs a 'next_screen' (a screen id or SUCCESS)")
        extra = set(route) - ROUTE_KEYS
        if extra:
            raise InvalidInput(f"the route of {screen!r} has unknown keys: {', '.join(sorted(extra))}")
        data = route.get("data", {})
        if not isinstance(data, dict):
            raise InvalidInput(f"the data of the route of {screen!r} must be an object")
        checked[str(screen)] = {"next_screen": route["next_screen"], "data": data}
    return checked


def new_flow_token() -> str:
    return secrets.token_urlsafe(16)


def flow_token_for(flow_id: UUID, reference: str | None = None) -> str:
    """`<flow id>.<reference>`: the data endpoint finds the flow from the token alone, and a campaign's
    completions name their recipient (the reference) without a lookup table."""
    return f"{flow_id}.{reference or new_flow_token()}"


def flow_message(
    *,
    meta_flow_id: str,
    body: str,
    cta: str,
    token: str,
    screen: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `interactive` object of a flow message, checked as Meta would check it (InvalidInput if not)."""
    parameters: dict[str, Any] = {"flow_id": meta_flow_id, "flow_cta": cta, "flow_token": token}
    if screen:
        parameters["flow_action_payload"] = {"screen": screen, **({"data": data} if data else {})}
    interactive: dict[str, Any] = {
        "type": "flow",
        "body": {"text": body},
        "action": {"name": "flow", "parameters": parameters},
    }
    problem = check_flow_interactive(interactive)
    if problem is not None:
        raise InvalidInput(problem)
    return interactive


def check_flow_interactive(payload: dict[str, Any]) -> str | None:
    """The problem with an `interactive` of type `flow`, or None; fills in what Meta lets one leave out.

    Meta's shape: `{"type": "flow", "body": {"text"}, "action": {"name": "flow", "parameters":
    {"flow_message_version": "3", "flow_token", "flow_id" | "flow_name", "flow_cta", "flow_action":
    "navigate" | "data_exchange", "flow_action_payload": {"screen", "data"}, "mode"?}}}`. The defaults set
    here: the action's name, the message version, a random flow token and `navigate` when a screen is given
    (else `data_exchange`)."""
    body = payload.get("body")
    if not (isinstance(body, dict) and isinstance(body.get("text"), str) and body["text"].strip()):
        return "a flow message needs a 'body': {'text': ...}"
    action = payload.get("action")
    if not isinstance(action, dict):
        return "a flow message needs an 'action' with its 'parameters'"
    parameters = action.get("parameters")
    if not isinstance(parameters, dict):
        return "a flow message needs 'action': {'parameters': {'flow_id' or 'flow_name', 'flow_cta', ...}}"
    if action.setdefault("name", "flow") != "flow":
        return "a flow message's action is named 'flow'"
    if bool(parameters.get("flow_id")) == bool(parameters.get("flow_name")):
        return "a flow message names its flow by 'flow_id' or by 'flow_name' (one of them)"
    cta = parameters.get("flow_cta")
    if not (isinstance(cta, str) and cta.strip()) or len(cta) > MAX_CTA:
        return f"a flow message needs 'flow_cta', the button's text (1 to {MAX_CTA} characters)"
    parameters.setdefault("flow_message_version", "3")
    token = parameters.setdefault("flow_token", new_flow_token())
    if not isinstance(token, str) or not token or len(token) > MAX_FLOW_TOKEN:
        return "'flow_token' must be a non-empty string"
    mode = parameters.get("mode")
    if mode is not None and mode not in FLOW_MODES:
        return "'mode' is 'draft' (to test a draft flow) or 'published'"
    action_payload = parameters.get("flow_action_payload")
    if action_payload is not None and not (
        isinstance(action_payload, dict)
        and isinstance(action_payload.get("screen"), str)
        and action_payload["screen"]
        and isinstance(action_payload.get("data", {}), dict)
    ):
        return "'flow_action_payload' is {'screen': <first screen id>, 'data': {...}}"
    flow_action = parameters.setdefault("flow_action", "navigate" if action_payload else "data_exchange")
    if flow_action not in FLOW_ACTIONS:
        return "'flow_action' is 'navigate' (with 'flow_action_payload') or 'data_exchange'"
    if flow_action == "navigate" and action_payload is None:
        return "a 'navigate' flow message needs 'flow_action_payload': {'screen': ..., 'data': {...}}"
    if flow_action == "data_exchange" and action_payload is not None:
        return "a 'data_exchange' flow message asks the data endpoint for its first screen: no payload"
    return None
