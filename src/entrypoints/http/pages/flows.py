"""The /flows pages: the tenant's WhatsApp Flows (Meta's multi-screen forms) and one flow with its flow JSON,
Meta's validation errors and preview link. The same use cases as `/api/v1/flows`: changing a flow is for
administrators; agents look and open the preview."""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from litestar import MediaType, Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Response, Template

from pywhatsapp.application.common.list_records import ListRecords
from pywhatsapp.application.flows.manage_flows import ManageFlows
from pywhatsapp.application.flows.ports import FlowFilter
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.flows.flow import DEPRECATED, DRAFT, PUBLISHED, Flow
from pywhatsapp.domain.flows.rules import CATEGORIES
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.page_context import page_context
from pywhatsapp.entrypoints.http.pages.forms import (
    PAGE_ERRORS,
    Form,
    fragment_or_back,
    go_to,
    is_admin,
    is_htmx,
)
from pywhatsapp.entrypoints.http.security import requires

LISTED = 200
ADMIN = [requires(Role.ADMIN)]
STATUSES = (DRAFT, PUBLISHED, DEPRECATED, "BLOCKED", "THROTTLED")
CATEGORY_CHOICES = sorted(CATEGORIES)
MAX_FLOW_JSON_CHARS = 2 * 1024 * 1024
"""What one form post can carry (the app's body limit); the use case checks Meta's own (10 MB)."""
Text = Annotated[str, QueryParameter(max_length=100)]


def web_link(url: str | None) -> str | None:
    """Meta's URL as a link only when it is one (never a `javascript:` or other scheme)."""
    return url if url and url.startswith(("https://", "http://")) else None


def preview_link(flow: Flow) -> str | None:
    if flow.preview_expires_at is not None and flow.preview_expires_at <= utc_now():
        return None
    return web_link(flow.preview_url)


def error_place(error: dict[str, Any]) -> str:
    """Where in the flow JSON Meta found the error: its line and column, and the property's path."""
    parts = []
    if error.get("line_start") is not None:
        column = error.get("column_start")
        parts.append(f"line {error['line_start']}" + (f", column {column}" if column is not None else ""))
    pointers = error.get("pointers")
    if isinstance(pointers, list):
        paths = [str(p.get("path")) for p in pointers if isinstance(p, dict) and p.get("path")]
        if paths:
            parts.append(", ".join(paths))
    return " · ".join(parts)


def pretty_json(flow: Flow) -> str:
    return json.dumps(flow.flow_json, indent=2, ensure_ascii=False) if flow.flow_json is not None else ""


async def _flow_json(form: Form, upload: object) -> dict[str, Any] | None:
    """The flow JSON of a form: a chosen file (it wins), else the pasted text; None when neither."""
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(f"{upload.filename} is not UTF-8 text: choose the flow's .json file") from None
        source = upload.filename
    else:
        text = form.text("flow_json", max_length=MAX_FLOW_JSON_CHARS) or ""
        source = "The flow JSON"
    if not text.strip():
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}: {error.msg}"
        raise InvalidInput(f"{source} is not valid JSON ({where}); fix it and send it again.") from None
    except RecursionError:
        raise InvalidInput(f"{source} is nested too deeply to be a flow JSON.") from None
    if not isinstance(document, dict):
        raise InvalidInput(
            f"{source} must be one JSON object like "
            '{"version": "7.1", "screens": [...]}; fix it and send it again.'
        )
    return document


async def _active_channels(principal: Principal, channels: ListRecords[Any]) -> list[Any]:
    if not is_admin(principal):
        return []
    page = await channels.execute(principal, limit=LISTED)
    return [channel for channel in page.items if channel.is_active]


async def _list(
    principal: Principal, flows: ManageFlows, name: str = "", status: str = "", **extra: Any
) -> dict[str, Any]:
    page = await flows.list(principal, FlowFilter(status=status or None, name=name or None), limit=LISTED)
    return {
        "flows": page.items,
        "total": page.total,
        "name": name,
        "status": status,
        "is_admin": is_admin(principal),
        **extra,
    }


def _detail(principal: Principal, flow: Flow, **extra: Any) -> dict[str, Any]:
    return {
        "flow": flow,
        "is_admin": is_admin(principal),
        "preview_link": preview_link(flow),
        "error_place": error_place,
        "flow_json_text": pretty_json(flow),
        "draft": flow.status == DRAFT,
        "deprecable": flow.status not in (DRAFT, DEPRECATED),
        **extra,
    }


@get("/flows", media_type=MediaType.HTML)
async def flows_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
    list_channels: NamedDependency[ListRecords[Any]],
    name: Text = "",
    status: Text = "",
) -> Template:
    listing = await _list(principal, manage_flows, name, status)
    if is_htmx(request):
        return Template("admin/_flow_list.html", context=listing)
    context = await page_context(
        request,
        principal,
        nav="flows",
        statuses=STATUSES,
        categories=CATEGORY_CHOICES,
        channels=await _active_channels(principal, list_channels),
        **listing,
    )
    return Template("admin/flows.html", context=context)


@post("/flows", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def create_flow(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Template | Redirect:
    fields = await request.form()
    form = Form(fields)
    categories = form.texts("categories", max_length=40)
    if not categories:
        raise InvalidInput("Tick at least one category: what the flow is for (OTHER if none fits).")
    flow = await manage_flows.create(
        principal,
        name=form.required("name", max_length=200),
        categories=categories,
        flow_json=await _flow_json(form, fields.get("flow_json_file")),
        channel_id=form.uuid("channel_id"),
    )
    errors = len(flow.validation_errors)
    listing = await _list(principal, manage_flows, created=flow, created_errors=errors)
    return fragment_or_back(request, "admin/_flow_list.html", listing, f"/flows/{flow.id}")


@post("/flows/sync", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def sync_flows(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Template | Redirect:
    report = await manage_flows.sync(principal)
    listing = await _list(principal, manage_flows, report=report)
    return fragment_or_back(request, "admin/_flow_list.html", listing, "/flows")


@get("/flows/{flow_id:uuid}", media_type=MediaType.HTML)
async def flow_page(
    request: Request[Any, Any, Any],
    flow_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Template:
    flow = await manage_flows.get(principal, flow_id)
    context = await page_context(request, principal, nav="flows", **_detail(principal, flow))
    return Template("admin/flow.html", context=context)


def _answer(
    request: Request[Any, Any, Any], principal: Principal, flow: Flow, notice: str
) -> Template | Redirect:
    context = _detail(principal, flow, notice=notice)
    return fragment_or_back(request, "admin/_flow_detail.html", context, f"/flows/{flow.id}")


@post("/flows/{flow_id:uuid}/json", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def upload_flow_json(
    request: Request[Any, Any, Any],
    flow_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Template | Redirect:
    fields = await request.form()
    document = await _flow_json(Form(fields), fields.get("flow_json_file"))
    if document is None:
        raise InvalidInput("Paste the flow JSON or choose its .json file, then upload it.")
    flow = await manage_flows.upload_json(principal, flow_id, document)
    errors = len(flow.validation_errors)
    notice = (
        f"Uploaded. Meta found {errors} validation error{'' if errors == 1 else 's'}: "
        "fix the flow JSON and upload it again."
        if errors
        else "Uploaded. Meta found no validation errors: the flow can be published."
    )
    return _answer(request, principal, flow, notice)


@post("/flows/{flow_id:uuid}/preview", status_code=200, media_type=MediaType.HTML)
async def preview_flow(
    request: Request[Any, Any, Any],
    flow_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Template | Redirect:
    """Meta's preview link, read again from Meta with the flow's status and validation errors."""
    flow = await manage_flows.preview(principal, flow_id, invalidate=False)
    notice = (
        "Meta's preview is ready: open it below." if preview_link(flow) else "Meta gave no preview link now."
    )
    return _answer(request, principal, flow, notice)


@post("/flows/{flow_id:uuid}/publish", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def publish_flow(
    request: Request[Any, Any, Any],
    flow_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Template | Redirect:
    flow = await manage_flows.publish(principal, flow_id)
    return _answer(request, principal, flow, "Published: the flow can now be sent to customers.")


@post("/flows/{flow_id:uuid}/deprecate", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def deprecate_flow(
    request: Request[Any, Any, Any],
    flow_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Template | Redirect:
    flow = await manage_flows.deprecate(principal, flow_id)
    return _answer(request, principal, flow, "Deprecated: the flow can no longer be sent or opened.")


@post("/flows/{flow_id:uuid}/delete", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def delete_flow(
    request: Request[Any, Any, Any],
    flow_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Response[Any]:
    await manage_flows.delete(principal, flow_id)
    return go_to(request, "/flows")


ROUTES = [
    Router(
        path="/",
        route_handlers=[
            flows_page,
            create_flow,
            sync_flows,
            flow_page,
            upload_flow_json,
            preview_flow,
            publish_flow,
            deprecate_flow,
            delete_flow,
        ],
        dependencies={
            "manage_flows": from_container("manage_flows"),
            "list_channels": from_container("list_channels"),
        },
        exception_handlers=PAGE_ERRORS,
        include_in_schema=False,
        guards=[requires(Role.AGENT)],
    )
]
