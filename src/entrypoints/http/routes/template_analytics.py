"""`/api/v1/templates/analytics` and `/api/v1/templates/{id}/analytics`: how the tenant's templates do.

Our own figures (sends, deliveries, reads, failures by Meta's error code) come from the messages stored
here, direct and campaign sends alike; Meta's (sent, delivered, read, button clicks per day) from its
template analytics when the WABA has them. Without them `meta` is null and `meta_note` says why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from pywhatsapp.application.templates.template_analytics import (
    AnalyticsReport,
    TemplateAnalytics,
    TemplateReport,
)
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.templates.analytics import MetaFigures, SendFigures
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.envelope import Envelope, ok
from pywhatsapp.entrypoints.http.security import requires

PATH = "/api/v1/templates"
TAGS = ["templates"]
SERVICES = {"template_analytics": from_container("template_analytics")}
AGENT = [requires(Role.AGENT)]

Since = Annotated[
    str | None,
    QueryParameter(
        max_length=40,
        description="Start of the period: a date (2026-01-31) or an ISO 8601 time; default until - 30 days",
    ),
]
Until = Annotated[
    str | None,
    QueryParameter(
        max_length=40,
        description="End of the period (a date includes that whole day); default now. At most 366 days",
    ),
]
WithMeta = Annotated[
    bool, QueryParameter(description="Also ask Meta's template analytics (false: our own figures only)")
]


class FailureRead(msgspec.Struct):
    error_code: int | None
    count: int


class OwnFigures(msgspec.Struct):
    sends: int
    """Template messages sent in the period (stored here, whatever became of them)."""
    pending: int
    sent: int
    """Accepted by Meta (sent, delivered or read)."""
    delivered: int
    """Delivered or read."""
    read: int
    failed: int
    failures: list[FailureRead]
    """Failed sends per Meta error code, most frequent first."""
    delivery_rate: float | None
    """delivered / sends"""
    read_rate: float | None
    """read / delivered"""


class ClickRead(msgspec.Struct):
    type: str
    button_content: str
    count: int


class MetaDayRead(msgspec.Struct):
    start: datetime
    end: datetime
    sent: int
    delivered: int
    read: int
    clicked: int


class MetaFiguresRead(msgspec.Struct):
    meta_template_id: str
    sent: int
    delivered: int
    read: int
    clicked: int
    clicks: list[ClickRead]
    """Clicks per button (quick reply or URL), most clicked first."""
    days: list[MetaDayRead]


class TemplateAnalyticsRead(msgspec.Struct):
    template_id: UUID | None
    """None for a template sent by name that is not stored here."""
    name: str
    language: str
    category: str | None
    status: str | None
    ours: OwnFigures
    meta: MetaFiguresRead | None
    meta_note: str | None
    since: datetime
    until: datetime


class TemplateAnalyticsList(msgspec.Struct):
    since: datetime
    until: datetime
    items: list[TemplateAnalyticsRead]


def _ours(figures: SendFigures) -> OwnFigures:
    return OwnFigures(
        sends=figures.sends,
        pending=figures.pending,
        sent=figures.sent,
        delivered=figures.delivered,
        read=figures.read,
        failed=figures.failed,
        failures=[FailureRead(error_code=f.error_code, count=f.count) for f in figures.failures],
        delivery_rate=figures.delivery_rate,
        read_rate=figures.read_rate,
    )


def _meta(figures: MetaFigures | None) -> MetaFiguresRead | None:
    if figures is None:
        return None
    return MetaFiguresRead(
        meta_template_id=figures.meta_template_id,
        sent=figures.sent,
        delivered=figures.delivered,
        read=figures.read,
        clicked=figures.clicked,
        clicks=[
            ClickRead(type=c.type, button_content=c.button_content, count=c.count) for c in figures.clicks
        ],
        days=[
            MetaDayRead(
                start=d.start, end=d.end, sent=d.sent, delivered=d.delivered, read=d.read, clicked=d.clicked
            )
            for d in figures.days
        ],
    )


def present_report(report: TemplateReport, since: datetime, until: datetime) -> TemplateAnalyticsRead:
    template = report.template
    return TemplateAnalyticsRead(
        template_id=template.id if template else None,
        name=report.name,
        language=report.language,
        category=template.category if template else None,
        status=template.status if template else None,
        ours=_ours(report.ours),
        meta=_meta(report.meta),
        meta_note=report.meta_note,
        since=since,
        until=until,
    )


def present_list(report: AnalyticsReport) -> TemplateAnalyticsList:
    period = report.period
    return TemplateAnalyticsList(
        since=period.since,
        until=period.until,
        items=[present_report(r, period.since, period.until) for r in report.templates],
    )


@get(
    f"{PATH}/analytics",
    guards=AGENT,
    tags=TAGS,
    dependencies=SERVICES,
    operation_id="list_template_analytics",
    summary="Sends, deliveries, reads, failures by error code and Meta's clicks, for every template",
)
async def list_template_analytics(
    principal: NamedDependency[Principal],
    template_analytics: NamedDependency[TemplateAnalytics],
    since: Since = None,
    until: Until = None,
    meta: WithMeta = True,
) -> Envelope[TemplateAnalyticsList]:
    period = template_analytics.period(since, until)
    return ok(present_list(await template_analytics.for_all(principal, period, with_meta=meta)))


@get(
    f"{PATH}/{{template_id:uuid}}/analytics",
    guards=AGENT,
    tags=TAGS,
    dependencies=SERVICES,
    operation_id="get_template_analytics",
    summary="One template's sends, deliveries, reads, failures by error code and Meta's figures",
)
async def get_template_analytics(
    template_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    template_analytics: NamedDependency[TemplateAnalytics],
    since: Since = None,
    until: Until = None,
    meta: WithMeta = True,
) -> Envelope[TemplateAnalyticsRead]:
    period = template_analytics.period(since, until)
    report = await template_analytics.for_template(principal, template_id, period, with_meta=meta)
    return ok(present_report(report, period.since, period.until))


ROUTES = [list_template_analytics, get_template_analytics]
