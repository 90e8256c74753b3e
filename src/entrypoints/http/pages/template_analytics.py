"""The analytics panel of the /templates pages with Meta's figures added (asked for from the page: Meta's
figures take a round trip, so the page itself comes with ours only)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import MediaType, Request, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from pywhatsapp.application.templates.template_analytics import AnalyticsReport, TemplateAnalytics
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.pages.forms import PAGE_ERRORS
from pywhatsapp.entrypoints.http.routes.template_analytics import present_list
from pywhatsapp.entrypoints.http.security import requires

Day = Annotated[str | None, QueryParameter(max_length=40)]


@get("/templates/analytics", media_type=MediaType.HTML)
async def analytics_panel(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    template_analytics: NamedDependency[TemplateAnalytics],
    since: Day = None,
    until: Day = None,
) -> Template:
    period = template_analytics.period(since, until)
    report = await template_analytics.for_all(principal, period)
    context = {"analytics": present_list(report), "analytics_url": request.url.path, "with_meta": True}
    return Template("partials/template_analytics.html", context=context)


@get("/templates/{template_id:uuid}/analytics", media_type=MediaType.HTML)
async def template_analytics_panel(
    request: Request[Any, Any, Any],
    template_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    template_analytics: NamedDependency[TemplateAnalytics],
    since: Day = None,
    until: Day = None,
) -> Template:
    period = template_analytics.period(since, until)
    one = await template_analytics.for_template(principal, template_id, period)
    report = AnalyticsReport(period=period, templates=[one])
    context = {"analytics": present_list(report), "analytics_url": request.url.path, "with_meta": True}
    return Template("partials/template_analytics.html", context=context)


ROUTES = [
    Router(
        path="/",
        route_handlers=[analytics_panel, template_analytics_panel],
        dependencies={"template_analytics": from_container("template_analytics")},
        exception_handlers=PAGE_ERRORS,
        include_in_schema=False,
        guards=[requires(Role.AGENT)],
    )
]
