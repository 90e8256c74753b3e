"""/dashboard: today's and the last 30 days' counts, rates, failures by error, messages per day and the
delivery funnel as server-drawn SVG, and the campaigns in progress (kept live by `campaign_progress`) with
those that finished in the last hour: a campaign watched while it runs stays in view once it is done, and
its delivered and read counts keep moving as the status webhooks come in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from pywhatsapp.application.campaigns.manage_campaigns import ManageCampaigns
from pywhatsapp.application.common.list_records import ListRecords
from pywhatsapp.application.inbox.dashboard import ActiveCampaign, Dashboard, DayCount, ShowDashboard
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.page_context import page_context

DEPENDENCIES = {
    "show_dashboard": from_container("show_dashboard"),
    "list_campaigns": from_container("list_campaigns"),
    "manage_campaigns": from_container("manage_campaigns"),
}
CHART_WIDTH, CHART_HEIGHT, AXIS = 600, 180, 20
FINISHED_SHOWN_FOR = timedelta(hours=1)
NEWEST_LOOKED_AT = 20


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    title: str


def day_bars(days: list[DayCount]) -> tuple[list[Bar], list[Bar], int]:
    """Incoming and outgoing bars side by side per day, scaled to the busiest day."""
    peak = max([max(d.incoming, d.outgoing) for d in days] + [1])
    slot = CHART_WIDTH / max(len(days), 1)
    scale = (CHART_HEIGHT - AXIS) / peak
    incoming: list[Bar] = []
    outgoing: list[Bar] = []
    for index, day in enumerate(days):
        x = index * slot
        label = day.day.strftime("%d") if index % 5 == 0 or index == len(days) - 1 else ""
        for bars, value, offset, kind in (
            (incoming, day.incoming, 0.1, "in"),
            (outgoing, day.outgoing, 0.5, "out"),
        ):
            height = value * scale
            bars.append(
                Bar(
                    x=round(x + slot * offset, 1),
                    y=round(CHART_HEIGHT - AXIS - height, 1),
                    width=round(slot * 0.4, 1),
                    height=round(height, 1),
                    label=label if kind == "in" else "",
                    title=f"{day.day.isoformat()}: {value} {kind}",
                )
            )
    return incoming, outgoing, peak


def funnel_bars(dashboard: Dashboard) -> list[Bar]:
    steps = dashboard.funnel
    top = max([count for _, count in steps] + [1])
    return [
        Bar(
            x=0,
            y=index * 40,
            width=round(300 * count / top, 1),
            height=28,
            label=name,
            title=f"{name}: {count}",
        )
        for index, (name, count) in enumerate(steps)
    ]


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.0f}%"


def campaign_progress(active: ActiveCampaign) -> dict[str, Any]:
    counts = active.counts.as_dict()
    done = counts["total"] - active.counts.open
    return {
        "id": active.campaign.id,
        "name": active.campaign.name,
        "status": active.campaign.status.value,
        "total": counts["total"],
        "done": done,
        "counts": counts,
    }


async def shown_campaigns(
    principal: Principal,
    dashboard: Dashboard,
    list_campaigns: ListRecords[Any],
    manage_campaigns: ManageCampaigns,
) -> list[dict[str, Any]]:
    """The active campaigns, then those among the newest that finished within FINISHED_SHOWN_FOR (without
    them a campaign would vanish from the page the moment it completes, its last counts unseen)."""
    shown = [campaign_progress(active) for active in dashboard.campaigns]
    active_ids = {active.campaign.id for active in dashboard.campaigns}
    since = utc_now() - FINISHED_SHOWN_FOR
    newest = await list_campaigns.execute(principal, limit=NEWEST_LOOKED_AT)
    for campaign in newest.items:
        if campaign.id in active_ids or campaign.completed_at is None or campaign.completed_at < since:
            continue
        view = await manage_campaigns.get(principal, campaign.id)
        shown.append(campaign_progress(ActiveCampaign(view.campaign, view.counts)))
    return shown


@get("/dashboard", include_in_schema=False, dependencies=DEPENDENCIES)
async def dashboard_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    show_dashboard: NamedDependency[ShowDashboard],
    list_campaigns: NamedDependency[ListRecords[Any]],
    manage_campaigns: NamedDependency[ManageCampaigns],
) -> Template:
    dashboard = await show_dashboard.execute(principal)
    incoming, outgoing, peak = day_bars(dashboard.per_day)
    context = await page_context(
        request,
        principal,
        nav="dashboard",
        d=dashboard,
        percent=percent,
        incoming_bars=incoming,
        outgoing_bars=outgoing,
        peak=peak,
        funnel=funnel_bars(dashboard),
        campaigns=await shown_campaigns(principal, dashboard, list_campaigns, manage_campaigns),
        chart_width=CHART_WIDTH,
        chart_height=CHART_HEIGHT,
    )
    return Template("dashboard.html", context=context)


@get("/dashboard/campaigns", include_in_schema=False, dependencies=DEPENDENCIES)
async def dashboard_campaigns(
    principal: NamedDependency[Principal],
    show_dashboard: NamedDependency[ShowDashboard],
    list_campaigns: NamedDependency[ListRecords[Any]],
    manage_campaigns: NamedDependency[ManageCampaigns],
) -> Template:
    dashboard = await show_dashboard.execute(principal)
    campaigns = await shown_campaigns(principal, dashboard, list_campaigns, manage_campaigns)
    return Template("dashboard_campaigns.html", context={"campaigns": campaigns})


ROUTES = [dashboard_page, dashboard_campaigns]
