"""The /templates page: the tenant's message templates as Meta has them, a sync, and a preview that fills a
template's variables the way a send would."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any
from uuid import UUID

from litestar import MediaType, Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from pywhatsapp.application.templates.manage_templates import ManageTemplates
from pywhatsapp.application.templates.ports import TemplateFilter
from pywhatsapp.application.templates.sync_templates import SyncTemplates
from pywhatsapp.application.templates.template_analytics import AnalyticsReport, TemplateAnalytics
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.templates.parameters import component_of, uses_named_parameters, variables
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.page_context import page_context
from pywhatsapp.entrypoints.http.pages.forms import PAGE_ERRORS, fragment_or_back, is_htmx, read_form
from pywhatsapp.entrypoints.http.routes.template_analytics import present_list
from pywhatsapp.entrypoints.http.security import requires

PAGE_SIZE = 100
STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "DELETED")
Text = Annotated[str, QueryParameter(max_length=100)]


def template_variables(template: MessageTemplate) -> dict[str, list[str]]:
    """The variables a send fills, per part: a text header's and the body's."""
    found: dict[str, list[str]] = {}
    header = component_of(template.components, "HEADER")
    if header is not None and str(header.get("format", "TEXT")).upper() == "TEXT":
        found["header"] = variables(str(header.get("text") or ""))
    body = component_of(template.components, "BODY")
    found["body"] = variables(str((body or {}).get("text") or ""))
    return found


def send_components(template: MessageTemplate, values: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """The send's components for the variables' values, in the template's parameter format."""
    named = uses_named_parameters(template.components, template.parameter_format)
    components: list[dict[str, Any]] = []
    for part, names in template_variables(template).items():
        given = list(values.get(part, []))
        if not names:
            continue
        parameters = []
        for index, name in enumerate(names):
            parameter = {"type": "text", "text": given[index] if index < len(given) else ""}
            if named:
                parameter["parameter_name"] = name
            parameters.append(parameter)
        components.append({"type": part, "parameters": parameters})
    return components


async def _table(principal: Principal, templates: ManageTemplates, name: str, status: str) -> dict[str, Any]:
    where = TemplateFilter(name=name or None, status=status or None)
    page = await templates.list(principal, where, limit=PAGE_SIZE)
    return {"templates": page.items, "total": page.total, "name": name, "status": status}


@get("/templates", media_type=MediaType.HTML)
async def templates_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_templates: NamedDependency[ManageTemplates],
    template_analytics: NamedDependency[TemplateAnalytics],
    name: Text = "",
    status: Text = "",
) -> Template:
    table = await _table(principal, manage_templates, name, status)
    if is_htmx(request):
        return Template("admin/_template_table.html", context=table)
    # Our own figures come with the page (one request); Meta's take a round trip and come on request.
    period = template_analytics.period(None, None)
    report = await template_analytics.for_all(principal, period, with_meta=False)
    context = await page_context(
        request,
        principal,
        nav="templates",
        statuses=STATUSES,
        analytics=present_list(report),
        analytics_url="/templates/analytics",
        **table,
    )
    return Template("admin/templates.html", context=context)


@post("/templates/sync", status_code=200, guards=[requires(Role.ADMIN)], media_type=MediaType.HTML)
async def sync_templates_now(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_templates: NamedDependency[ManageTemplates],
    sync_templates: NamedDependency[SyncTemplates],
) -> Template | Redirect:
    report = await sync_templates.execute(principal.tenant_id)
    table = await _table(principal, manage_templates, "", "")
    return fragment_or_back(request, "admin/_template_table.html", {**table, "report": report}, "/templates")


@get("/templates/{template_id:uuid}", media_type=MediaType.HTML)
async def template_page(
    request: Request[Any, Any, Any],
    template_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_templates: NamedDependency[ManageTemplates],
    template_analytics: NamedDependency[TemplateAnalytics],
) -> Template:
    template = await manage_templates.get(principal, template_id)
    period = template_analytics.period(None, None)
    ours = await template_analytics.for_template(principal, template_id, period, with_meta=False)
    context = await page_context(
        request,
        principal,
        nav="templates",
        template=template,
        parts=template_variables(template),
        component_of=component_of,
        analytics=present_list(AnalyticsReport(period=period, templates=[ours])),
        analytics_url=f"/templates/{template_id}/analytics",
    )
    return Template("admin/template.html", context=context)


@post("/templates/{template_id:uuid}/preview", status_code=200, media_type=MediaType.HTML)
async def preview_template(
    request: Request[Any, Any, Any],
    template_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_templates: NamedDependency[ManageTemplates],
) -> Template:
    form = await read_form(request)
    template = await manage_templates.get(principal, template_id)
    values = {part: form.values(part, max_length=1024) for part in ("header", "body")}
    rendered = await manage_templates.preview(principal, template_id, send_components(template, values))
    return Template("admin/_template_preview.html", context={"rendered": rendered})


ROUTES = [
    Router(
        path="/",
        route_handlers=[templates_page, sync_templates_now, template_page, preview_template],
        dependencies={
            "manage_templates": from_container("manage_templates"),
            "sync_templates": from_container("sync_templates"),
            "template_analytics": from_container("template_analytics"),
        },
        exception_handlers=PAGE_ERRORS,
        include_in_schema=False,
        guards=[requires(Role.AGENT)],
    )
]
