"""The Flows API of the simulator, shaped as Meta documents it, with state per WABA.

Graph API (bearer token required):

- POST   /{version}/{waba_id}/flows          create (name, categories, flow_json?, publish?, endpoint_uri?)
                                             -> id, success, validation_errors
- GET    /{version}/{waba_id}/flows          the WABA's flows (`fields`; paged: limit, after)
- GET    /{version}/{flow_id}                one flow (`fields`, `preview.invalidate(...)`)
- POST   /{version}/{flow_id}                metadata: name, categories, endpoint_uri
- DELETE /{version}/{flow_id}                a DRAFT flow
- POST   /{version}/{flow_id}/assets         multipart `file` flow.json -> success, validation_errors
- GET    /{version}/{flow_id}/assets         the flow JSON asset with its download URL
- POST   /{version}/{flow_id}/publish        a DRAFT flow without validation errors
- POST   /{version}/{flow_id}/deprecate      a PUBLISHED flow
- POST   /{version}/{phone_id}/whatsapp_business_encryption   the business public key (GET reads it)

Control API: GET /_simulator/flows (flows, public keys and every Graph request about flows received).
A flow JSON is checked as Meta's schema does at its root: a JSON object with a `version` string and a
non-empty `screens` list whose screens have an `id` and a `layout`.
"""

from __future__ import annotations

import json
import secrets
import time
import weakref
from dataclasses import asdict, dataclass, field
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromPath

from pywhatsapp.adapters.whatsapp.simulator import payloads
from pywhatsapp.adapters.whatsapp.simulator.errors import graph_error, invalid_parameter
from pywhatsapp.adapters.whatsapp.simulator.graph_calls import check_graph_call, json_object
from pywhatsapp.adapters.whatsapp.simulator.state import SimulatorState

AnyRequest = Request[Any, Any, Any]

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
DEFAULT_FIELDS = ("id", "name", "status", "categories", "validation_errors")
PREVIEW_SECONDS = 30 * 24 * 3600
# Meta's Flows API error codes.
FLOW_UPDATING = 139001
FLOW_PUBLISHING = 139002
FLOW_DEPRECATING = 139003
FLOW_DELETING = 139004


@dataclass
class SimFlow:
    id: str
    waba_id: str
    name: str
    categories: list[str]
    status: str = "DRAFT"
    flow_json: str | None = None
    validation_errors: list[dict[str, Any]] = field(default_factory=list)
    endpoint_uri: str | None = None
    preview_token: str = field(default_factory=lambda: secrets.token_hex(8))
    preview_expires: int = 0
    updated_at: int = field(default_factory=lambda: int(time.time()))

    def view(self, requested: list[str], base: str) -> dict[str, Any]:
        version = None
        if self.flow_json is not None and not self.validation_errors:
            version = json.loads(self.flow_json).get("version")
        if not self.preview_expires:
            self.preview_expires = int(time.time()) + PREVIEW_SECONDS
        full: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "categories": self.categories,
            "validation_errors": self.validation_errors,
            "json_version": version,
            "data_api_version": "3.0" if self.endpoint_uri else None,
            "endpoint_uri": self.endpoint_uri,
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(self.updated_at)),
            "whatsapp_business_account": {"id": self.waba_id},
        }
        answer: dict[str, Any] = {"id": self.id}
        for name in requested:
            if name.startswith("preview"):
                if "invalidate(true)" in name:
                    self.preview_token = secrets.token_hex(8)
                    self.preview_expires = int(time.time()) + PREVIEW_SECONDS
                answer["preview"] = {
                    "preview_url": f"{base}/flows/{self.id}/preview/?token={self.preview_token}",
                    "expires_at": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(self.preview_expires)),
                }
            elif name in full and full[name] is not None:
                answer[name] = full[name]
        return answer


@dataclass
class FlowRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float


@dataclass
class SimFlows:
    flows: dict[str, SimFlow] = field(default_factory=dict)
    public_keys: dict[str, str] = field(default_factory=dict)
    """phone number id -> business public key (PEM)."""
    requests: list[FlowRequest] = field(default_factory=list)


_STATES: weakref.WeakKeyDictionary[SimulatorState, SimFlows] = weakref.WeakKeyDictionary()


def flows_of(sim: SimulatorState) -> SimFlows:
    state = _STATES.get(sim)
    if state is None:
        state = _STATES[sim] = SimFlows()
    return state


def reset_flows(sim: SimulatorState) -> None:
    _STATES.pop(sim, None)


def find_flow(sim: SimulatorState, node_id: str) -> SimFlow | None:
    return flows_of(sim).flows.get(node_id)


def _json(content: Any, status_code: int = 200) -> Response[Any]:
    return Response(content=content, status_code=status_code, media_type=MediaType.JSON)


async def _record(request: AnyRequest, sim: SimulatorState) -> dict[str, Any]:
    """The body (JSON or multipart form, a file read as text; {} when empty), recorded with the call."""
    body: dict[str, Any] = {}
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        for key, value in form.items():
            if isinstance(value, str):
                body[key] = value
            else:
                content = await value.read()
                body[key] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "text": content.decode("utf-8", "replace"),
                }
    else:
        body = await json_object(request, invalid_parameter)
    flows_of(sim).requests.append(
        FlowRequest(request.method, request.url.path, dict(request.query_params), body, time.time())
    )
    return body


def _schema_error(message: str, path: str, error: str = "MISSING_REQUIRED_PROPERTY") -> dict[str, Any]:
    return {
        "error": error,
        "error_type": "JSON_SCHEMA_ERROR",
        "message": message,
        "line_start": 1,
        "line_end": 1,
        "column_start": 1,
        "column_end": 2,
        "pointers": [{"line_start": 1, "line_end": 1, "column_start": 1, "column_end": 2, "path": path}],
    }


def validate_flow_json(text: str) -> list[dict[str, Any]]:
    try:
        document = json.loads(text)
    except ValueError as error:
        return [_schema_error(f"Invalid JSON: {error}", "$root", "INVALID_JSON")]
    if not isinstance(document, dict):
        return [_schema_error("The flow JSON must be an object.", "$root", "INVALID_PROPERTY_TYPE")]
    errors = []
    if not isinstance(document.get("version"), str) or not document["version"]:
        errors.append(_schema_error('The property "version" is required at "$root".', "version"))
    screens = document.get("screens")
    if not isinstance(screens, list) or not screens:
        errors.append(_schema_error('The property "screens" is required at "$root".', "screens"))
    else:
        for index, screen in enumerate(screens):
            for key in ("id", "layout"):
                if not isinstance(screen, dict) or key not in screen:
                    errors.append(
                        _schema_error(
                            f'The property "{key}" is required at "$root/screens/{index}".',
                            f"screens[{index}].{key}",
                        )
                    )
    return errors


def _categories(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = [value]
    if not isinstance(value, list) or not value:
        raise invalid_parameter("The parameter categories is required.")
    unknown = [c for c in value if c not in CATEGORIES]
    if unknown:
        raise invalid_parameter(
            f'Param categories[0] must be one of {{{", ".join(sorted(CATEGORIES))}}} - got "{unknown[0]}".'
        )
    return [str(c) for c in value]


def _base(request: AnyRequest, sim: SimulatorState) -> str:
    return (sim.settings.public_url or str(request.base_url)).rstrip("/")


def _fields(request: AnyRequest) -> list[str]:
    raw = request.query_params.get("fields")
    if not raw:
        return list(DEFAULT_FIELDS)
    # `preview.invalidate(false)` holds no comma, so a plain split keeps it whole.
    return [f.strip() for f in raw.split(",") if f.strip()]


@post("/{version:str}/{node_id:str}/flows", status_code=200)
async def create_flow(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    body = await _record(request, sim)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid_parameter("The parameter name is required.")
    categories = _categories(body.get("categories"))
    state = flows_of(sim)
    if any(f.waba_id == node_id and f.name == name for f in state.flows.values()):
        raise invalid_parameter(
            f"Flow with the name {name!r} already exists in this WhatsApp Business Account."
        )
    flow = SimFlow(
        id=payloads.new_numeric_id(),
        waba_id=node_id,
        name=name,
        categories=categories,
        endpoint_uri=body.get("endpoint_uri") or None,
    )
    clone = body.get("clone_flow_id")
    if clone:
        source = state.flows.get(str(clone))
        if source is None:
            raise invalid_parameter(f"The flow {clone} to clone does not exist.")
        flow.flow_json, flow.validation_errors = source.flow_json, list(source.validation_errors)
    answer: dict[str, Any] = {"id": flow.id, "success": True}
    flow_json = body.get("flow_json")
    if flow_json is not None:
        flow.flow_json = flow_json if isinstance(flow_json, str) else json.dumps(flow_json)
        flow.validation_errors = validate_flow_json(flow.flow_json)
        answer["validation_errors"] = flow.validation_errors
        if body.get("publish") in (True, "true") and not flow.validation_errors:
            flow.status = "PUBLISHED"
        answer["success"] = not flow.validation_errors
    state.flows[flow.id] = flow
    return _json(answer)


@get("/{version:str}/{node_id:str}/flows")
async def list_flows(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    await _record(request, sim)
    items = [f for f in flows_of(sim).flows.values() if f.waba_id == node_id]
    try:
        limit = max(1, min(int(request.query_params.get("limit", "25")), 100))
    except ValueError:
        raise invalid_parameter("Param limit must be a number.") from None
    after = request.query_params.get("after")
    start = next((i + 1 for i, f in enumerate(items) if f.id == after), 0) if after else 0
    page = items[start : start + limit]
    fields = _fields(request)
    answer: dict[str, Any] = {"data": [f.view(fields, _base(request, sim)) for f in page]}
    if page:
        answer["paging"] = {"cursors": {"before": page[0].id, "after": page[-1].id}}
        if start + limit < len(items):
            answer["paging"]["next"] = (
                f"{_base(request, sim)}{request.url.path}?limit={limit}&after={page[-1].id}"
            )
    return _json(answer)


async def get_flow(request: AnyRequest, flow: SimFlow, sim: SimulatorState) -> Response[Any]:
    await _record(request, sim)
    return _json(flow.view(_fields(request), _base(request, sim)))


async def update_flow(request: AnyRequest, flow: SimFlow, sim: SimulatorState) -> Response[Any]:
    body = await _record(request, sim)
    if not any(body.get(k) for k in ("name", "categories", "endpoint_uri", "application_id")):
        raise invalid_parameter("At least one of name, categories, endpoint_uri is required.")
    if body.get("name"):
        flow.name = str(body["name"])
    if body.get("categories"):
        flow.categories = _categories(body["categories"])
    if body.get("endpoint_uri"):
        flow.endpoint_uri = str(body["endpoint_uri"])
    flow.updated_at = int(time.time())
    return _json({"success": True})


async def delete_flow(request: AnyRequest, flow: SimFlow, sim: SimulatorState) -> Response[Any]:
    await _record(request, sim)
    if flow.status != "DRAFT":
        raise graph_error(
            FLOW_DELETING,
            "Flow can't be deleted",
            details="A published flow cannot be deleted.",
            http_status=400,
        )
    del flows_of(sim).flows[flow.id]
    return _json({"success": True})


def _flow(sim: SimulatorState, flow_id: str, method: str) -> SimFlow:
    flow = find_flow(sim, flow_id)
    if flow is None:
        raise graph_error(
            100,
            f"Unsupported {method} request. Object with ID '{flow_id}' does not exist, cannot be loaded"
            " due to missing permissions, or does not support this operation.",
            subcode=33,
        )
    return flow


@post("/{version:str}/{flow_id:str}/assets", status_code=200)
async def upload_asset(
    request: AnyRequest, version: FromPath[str], flow_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    flow = _flow(sim, flow_id, "post")
    body = await _record(request, sim)
    file = body.get("file")
    if body.get("asset_type") != "FLOW_JSON" or not isinstance(file, dict):
        raise invalid_parameter("The parameters file and asset_type=FLOW_JSON are required.")
    if flow.status != "DRAFT":
        raise graph_error(
            FLOW_UPDATING,
            "Flow can't be updated",
            details="The flow is not in DRAFT status, so its JSON cannot change.",
            http_status=400,
        )
    flow.flow_json = str(file["text"])
    flow.validation_errors = validate_flow_json(flow.flow_json)
    flow.updated_at = int(time.time())
    return _json({"success": True, "validation_errors": flow.validation_errors})


@get("/{version:str}/{flow_id:str}/assets")
async def list_assets(
    request: AnyRequest, version: FromPath[str], flow_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    flow = _flow(sim, flow_id, "get")
    await _record(request, sim)
    data = []
    if flow.flow_json is not None:
        data.append(
            {
                "name": "flow.json",
                "asset_type": "FLOW_JSON",
                "download_url": f"{_base(request, sim)}/_simulator/flows/{flow.id}/flow.json",
            }
        )
    return _json({"data": data})


@post("/{version:str}/{flow_id:str}/publish", status_code=200)
async def publish_flow(
    request: AnyRequest, version: FromPath[str], flow_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    flow = _flow(sim, flow_id, "post")
    await _record(request, sim)
    if flow.status != "DRAFT" or flow.flow_json is None or flow.validation_errors:
        raise graph_error(
            FLOW_PUBLISHING,
            "Flow can't be published",
            details="The flow has no valid flow JSON or is not a draft.",
            http_status=400,
        )
    flow.status = "PUBLISHED"
    return _json({"success": True})


@post("/{version:str}/{flow_id:str}/deprecate", status_code=200)
async def deprecate_flow(
    request: AnyRequest, version: FromPath[str], flow_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    flow = _flow(sim, flow_id, "post")
    await _record(request, sim)
    if flow.status != "PUBLISHED":
        raise graph_error(
            FLOW_DEPRECATING,
            "Flow can't be deprecated",
            details="Only a published flow can be deprecated.",
            http_status=400,
        )
    flow.status = "DEPRECATED"
    return _json({"success": True})


@post("/{version:str}/{phone_id:str}/whatsapp_business_encryption", status_code=200)
async def set_public_key(
    request: AnyRequest, version: FromPath[str], phone_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    body = await _record(request, sim)
    key = body.get("business_public_key")
    if not isinstance(key, str) or "BEGIN PUBLIC KEY" not in key:
        raise invalid_parameter("The parameter business_public_key is required (a PEM public key).")
    flows_of(sim).public_keys[phone_id] = key
    return _json({"success": True})


@get("/{version:str}/{phone_id:str}/whatsapp_business_encryption")
async def get_public_key(
    request: AnyRequest, version: FromPath[str], phone_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    key = flows_of(sim).public_keys.get(phone_id)
    entry = {"business_public_key": key, "business_public_key_signature_status": "VALID"} if key else {}
    return _json({"data": [entry] if entry else []})


@get("/_simulator/flows")
async def control_list_flows(sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    state = flows_of(sim)
    return {
        "flows": [asdict(f) for f in state.flows.values()],
        "public_keys": state.public_keys,
        "requests": [asdict(r) for r in state.requests],
    }


@get("/_simulator/flows/{flow_id:str}/flow.json", media_type=MediaType.JSON)
async def control_flow_json(flow_id: str, sim: NamedDependency[SimulatorState]) -> Response[Any]:
    flow = find_flow(sim, flow_id)
    if flow is None or flow.flow_json is None:
        return Response({"error": "no such flow JSON"}, status_code=404, media_type=MediaType.JSON)
    return Response(flow.flow_json, media_type=MediaType.JSON)


ROUTES = [
    create_flow,
    list_flows,
    upload_asset,
    list_assets,
    publish_flow,
    deprecate_flow,
    set_public_key,
    get_public_key,
    control_list_flows,
    control_flow_json,
]
