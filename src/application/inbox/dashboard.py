"""The dashboard's figures: message counts for today and the last 30 days, rates, failures by error,
messages per day, and the campaigns in progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.domain.campaigns.campaign import Campaign, CampaignCounts, CampaignStatus
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.identity.principal import Principal

DAYS = 30
ACTIVE = (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED, CampaignStatus.PAUSED)
CAMPAIGNS_LOOKED_AT = 200


@dataclass(frozen=True)
class StatusCount:
    """Messages of one day, direction and status."""

    day: date
    direction: str
    status: str
    count: int


@dataclass(frozen=True)
class FailureCount:
    code: int | None
    title: str | None
    count: int


@dataclass(frozen=True)
class Totals:
    incoming: int = 0
    outgoing: int = 0
    delivered: int = 0
    """Outgoing messages that reached the phone (delivered, read or played)."""
    read: int = 0
    failed: int = 0

    @property
    def delivered_rate(self) -> float | None:
        return self.delivered / self.outgoing if self.outgoing else None

    @property
    def read_rate(self) -> float | None:
        return self.read / self.outgoing if self.outgoing else None


@dataclass(frozen=True)
class DayCount:
    day: date
    incoming: int
    outgoing: int


@dataclass(frozen=True)
class ActiveCampaign:
    campaign: Campaign
    counts: CampaignCounts


@dataclass(frozen=True)
class Dashboard:
    today: Totals
    last_30_days: Totals
    per_day: list[DayCount]
    failures: list[FailureCount]
    campaigns: list[ActiveCampaign] = field(default_factory=list)

    @property
    def funnel(self) -> list[tuple[str, int]]:
        month = self.last_30_days
        return [("Sent", month.outgoing), ("Delivered", month.delivered), ("Read", month.read)]


class DashboardQueries(Protocol):
    async def status_counts(self, tenant_id: UUID, *, since: datetime) -> list[StatusCount]:
        """Messages since `since`, counted per UTC day, direction and status."""
        ...

    async def failures(self, tenant_id: UUID, *, since: datetime) -> list[FailureCount]:
        """Failed outgoing messages since `since` by Meta's error code, most frequent first."""
        ...


REACHED = frozenset({"delivered", "read", "played"})
READ = frozenset({"read", "played"})


def totals(rows: list[StatusCount]) -> Totals:
    incoming = sum(r.count for r in rows if r.direction == "incoming")
    out = [r for r in rows if r.direction == "outgoing"]
    return Totals(
        incoming=incoming,
        outgoing=sum(r.count for r in out),
        delivered=sum(r.count for r in out if r.status in REACHED),
        read=sum(r.count for r in out if r.status in READ),
        failed=sum(r.count for r in out if r.status == "failed"),
    )


class ShowDashboard:
    def __init__(self, queries: DashboardQueries, uow_factory: UnitOfWorkFactory) -> None:
        self._queries = queries
        self._uow_factory = uow_factory

    async def execute(self, principal: Principal, *, now: datetime | None = None) -> Dashboard:
        now = now or utc_now()
        today = now.date()
        first_day = today - timedelta(days=DAYS - 1)
        since = datetime.combine(first_day, datetime.min.time(), tzinfo=now.tzinfo)
        rows = await self._queries.status_counts(principal.tenant_id, since=since)
        per_day = {first_day + timedelta(days=n): [0, 0] for n in range(DAYS)}
        for row in rows:
            if row.day in per_day:
                per_day[row.day][0 if row.direction == "incoming" else 1] += row.count
        return Dashboard(
            today=totals([r for r in rows if r.day == today]),
            last_30_days=totals(rows),
            per_day=[DayCount(day, incoming, outgoing) for day, (incoming, outgoing) in per_day.items()],
            failures=await self._queries.failures(principal.tenant_id, since=since),
            campaigns=await self._active_campaigns(principal),
        )

    async def _active_campaigns(self, principal: Principal) -> list[ActiveCampaign]:
        async with self._uow_factory(principal.tenant_id) as uow:
            campaigns = [c for c in await uow.campaigns.list(limit=CAMPAIGNS_LOOKED_AT) if c.status in ACTIVE]
            return [ActiveCampaign(c, await uow.campaign_recipients.counts(c.id)) for c in campaigns]
