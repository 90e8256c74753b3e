"""Meta's template analytics, answered from what the simulator itself sent.

Graph API:

- GET /{version}/{waba_id}/template_analytics
  ?start=&end=&granularity=DAILY&metric_types=[...]&template_ids=[...]
  daily points per template (UTC days, zeros included): `sent` counts the template's sends that day,
  `delivered` and `read` those the status timeline (or a pushed status) took that far, `clicked` the clicks
  registered below. At most ten template ids, all of the WABA; pages of 50 points with cursors.

Control API:

- POST /_simulator/templates/{id}/clicks        `{"button_content", "type"?: "quick_reply_button" |
                                                "url_button", "count"?: 1, "at"?: unix seconds}`
- POST /_simulator/template_analytics           `{"enabled": false, "waba_id"?}`: answer like a WABA
                                                that has not confirmed template analytics
- GET  /_simulator/template_analytics/requests  the query strings received, oldest first
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath

from pywhatsapp.adapters.whatsapp.simulator.errors import graph_error, invalid_parameter, invalid_token
from pywhatsapp.adapters.whatsapp.simulator.state import SentMessage, SimulatorState

AnyRequest = Request[Any, Any, Any]

DAY = 86_400
PAGE_SIZE = 50
MAX_TEMPLATE_IDS = 10
METRIC_TYPES = frozenset({"SENT", "DELIVERED", "READ", "CLICKED", "COST"})
BUTTON_TYPES = frozenset({"quick_reply_button", "url_button"})
NOT_ENABLED = (
    "Template analytics is not enabled for this WhatsApp Business Account. Confirm template analytics "
    "in WhatsApp Manager or set is_enabled_for_insights on the account."
)


@dataclass(frozen=True)
class Click:
    template_id: str
    type: str
    button_content: str
    count: int
    at: float


@dataclass
class SimAnalytics:
    clicks: list[Click] = field(default_factory=list)
    disabled_wabas: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)


_STATES: weakref.WeakKeyDictionary[SimulatorState, SimAnalytics] = weakref.WeakKeyDictionary()


def analytics_of(sim: SimulatorState) -> SimAnalytics:
    state = _STATES.get(sim)
    if state is None:
        state = _STATES[sim] = SimAnalytics()
    return state


def reset_analytics(sim: SimulatorState) -> None:
    _STATES.pop(sim, None)


def _json(content: Any, status_code: int = 200) -> Response[Any]:
    return Response(content=content, status_code=status_code, media_type=MediaType.JSON)


def _graph_call(request: AnyRequest, version: str, sim: SimulatorState) -> None:
    if not (version.startswith("v") and version[1:].replace(".", "").isdigit()):
        raise graph_error(2500, f"Unknown path components: /{version}", http_status=400)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    token = token or request.query_params.get("access_token", "")
    if not token:
        raise invalid_token(missing=True)
    if sim.settings.valid_tokens is not None and token not in sim.settings.valid_tokens:
        raise invalid_token(missing=False)


def _timestamp(params: dict[str, str], key: str) -> int:
    value = params.get(key)
    if not value:
        raise invalid_parameter(f"The parameter {key} is required.")
    try:
        return int(value)
    except ValueError:
        raise invalid_parameter(f"Param {key} must be a valid unix timestamp.") from None


def _json_list(params: dict[str, str], key: str) -> list[str] | None:
    value = params.get(key)
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, list) or not all(isinstance(i, str | int) for i in parsed):
        raise invalid_parameter(f"Param {key} must be an array.")
    return [str(i) for i in parsed]


def _statuses(sim: SimulatorState) -> dict[str, set[str]]:
    """Every status each wamid has reached, from the status webhooks sent (attempts of one, once)."""
    reached: dict[str, set[str]] = {}
    for attempt in sim.webhooks:
        if attempt.kind == "status" and attempt.wamid:
            reached.setdefault(attempt.wamid, set()).add(attempt.body_type.removeprefix("statuses."))
    return reached


def _sends_of(sim: SimulatorState, template: dict[str, Any]) -> list[SentMessage]:
    return [
        message
        for message in sim.sent
        if message.type == "template"
        and isinstance(message.body.get("template"), dict)
        and message.body["template"].get("name") == template["name"]
        and (message.body["template"].get("language") or {}).get("code") == template["language"]
    ]


def _points(
    sim: SimulatorState, templates: list[dict[str, Any]], start: int, end: int, metrics: set[str]
) -> list[dict[str, Any]]:
    reached = _statuses(sim)
    clicks = analytics_of(sim).clicks
    points: list[dict[str, Any]] = []
    for template in templates:
        sends = _sends_of(sim, template)
        for day in range(start, end, DAY):
            today = [m for m in sends if day <= m.received_at < day + DAY]
            point: dict[str, Any] = {"template_id": str(template["id"]), "start": day, "end": day + DAY}
            if "SENT" in metrics:
                point["sent"] = len(today)
            if "DELIVERED" in metrics:
                point["delivered"] = sum(
                    1 for m in today if reached.get(m.wamid, set()) & {"delivered", "read"}
                )
            if "READ" in metrics:
                point["read"] = sum(1 for m in today if "read" in reached.get(m.wamid, set()))
            if "CLICKED" in metrics:
                totals: dict[tuple[str, str], int] = {}
                for click in clicks:
                    if click.template_id == str(template["id"]) and day <= click.at < day + DAY:
                        key = (click.type, click.button_content)
                        totals[key] = totals.get(key, 0) + click.count
                point["clicked"] = [
                    {"type": kind, "button_content": content, "count": count}
                    for (kind, content), count in sorted(totals.items())
                ]
            points.append(point)
    return points


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        return max(0, int(text.removeprefix("offset:")))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_parameter("Invalid cursor.") from None


@get("/{version:str}/{node_id:str}/template_analytics")
async def template_analytics(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    _graph_call(request, version, sim)
    params = {key: value for key, value in request.query_params.items() if key != "access_token"}
    analytics_of(sim).requests.append({"waba_id": node_id, "params": params})
    known_wabas = {sim.settings.waba_id, *sim.template_wabas.values()}
    if node_id not in known_wabas:
        raise graph_error(
            100,
            f"Unsupported get request. Object with ID '{node_id}' does not exist, cannot be loaded due to"
            " missing permissions, or does not support this operation.",
            subcode=33,
        )
    if node_id in analytics_of(sim).disabled_wabas:
        raise invalid_parameter(NOT_ENABLED)
    start, end = _timestamp(params, "start"), _timestamp(params, "end")
    if start >= end:
        raise invalid_parameter("Param end must be after start.")
    granularity = params.get("granularity")
    if not granularity:
        raise invalid_parameter("The parameter granularity is required.")
    if granularity != "DAILY":
        raise invalid_parameter(f'Param granularity must be one of {{DAILY}} - got "{granularity}".')
    template_ids = _json_list(params, "template_ids")
    if not template_ids:
        raise invalid_parameter("The parameter template_ids is required.")
    if len(template_ids) > MAX_TEMPLATE_IDS:
        raise invalid_parameter(f"Param template_ids must have at most {MAX_TEMPLATE_IDS} elements.")
    metric_types = _json_list(params, "metric_types")
    metrics = {m.upper() for m in metric_types} if metric_types else set(METRIC_TYPES)
    if metrics - METRIC_TYPES:
        raise invalid_parameter(f"Param metric_types has unknown values {sorted(metrics - METRIC_TYPES)}.")
    templates = []
    for template_id in template_ids:
        template = sim.template(template_id)
        if template is None or sim.waba_of(template) != node_id:
            raise invalid_parameter(
                f"Template {template_id} does not belong to this WhatsApp Business Account."
            )
        templates.append(template)
    # Meta reports whole UTC days: the start is floored to its day, the end rounded up to the next.
    first_day = start - start % DAY
    last_day = end if end % DAY == 0 else end - end % DAY + DAY
    points = _points(sim, templates, first_day, last_day, metrics)
    offset = _offset(params["after"]) if params.get("after") else 0
    page = points[offset : offset + PAGE_SIZE]
    result: dict[str, Any] = {
        "data": [{"granularity": "DAILY", "product_type": "cloud_api", "data_points": page}]
    }
    if page:
        paging: dict[str, Any] = {
            "cursors": {"before": _cursor(offset), "after": _cursor(offset + len(page))}
        }
        if offset + len(page) < len(points):
            base = f"{str(request.base_url).rstrip('/')}{request.url.path}"
            paging["next"] = f"{base}?{urlencode({**params, 'after': _cursor(offset + len(page))})}"
        result["paging"] = paging
    return _json(result)


async def _control_body(request: AnyRequest) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ClientException("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ClientException("The request body must be a JSON object.")
    return data


@post("/_simulator/templates/{template_id:str}/clicks", status_code=200)
async def register_clicks(
    request: AnyRequest, template_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> dict[str, Any]:
    """Customers clicked a button of a template's messages (Meta counts them; no webhook)."""
    if sim.template(template_id) is None:
        raise NotFoundException(f"no template {template_id}")
    body = await _control_body(request)
    content = body.get("button_content")
    kind = body.get("type", "quick_reply_button")
    count = body.get("count", 1)
    at = body.get("at", time.time())
    if not isinstance(content, str) or not content:
        raise ClientException("button_content is required")
    if kind not in BUTTON_TYPES:
        raise ClientException(f"type must be one of {sorted(BUTTON_TYPES)}")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ClientException("count must be a positive integer")
    if not isinstance(at, int | float) or isinstance(at, bool):
        raise ClientException("at must be a unix timestamp")
    clicks = analytics_of(sim).clicks
    clicks.append(Click(template_id, str(kind), content, count, float(at)))
    return {
        "template_id": template_id,
        "clicks": sum(c.count for c in clicks if c.template_id == template_id),
    }


@post("/_simulator/template_analytics", status_code=200)
async def configure_analytics(request: AnyRequest, sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    body = await _control_body(request)
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise ClientException("enabled must be true or false")
    waba_id = str(body.get("waba_id") or sim.settings.waba_id)
    disabled = analytics_of(sim).disabled_wabas
    if enabled:
        disabled.discard(waba_id)
    else:
        disabled.add(waba_id)
    return {"waba_id": waba_id, "enabled": enabled}


@get("/_simulator/template_analytics/requests")
async def list_analytics_requests(sim: NamedDependency[SimulatorState]) -> list[dict[str, Any]]:
    return list(analytics_of(sim).requests)


ROUTES = [template_analytics, register_clicks, configure_analytics, list_analytics_requests]
