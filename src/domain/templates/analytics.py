"""How well a template does: our own figures from the messages we sent, and Meta's where it reports them.

Our figures count template messages by their latest status. A status only moves forward (sent ->
delivered -> read), so a message read was delivered too: `delivered` counts delivered and read ones.
`delivery_rate` is delivered over sends, `read_rate` read over delivered (as WhatsApp Manager shows it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from pywhatsapp.domain.errors import InvalidInput

DEFAULT_DAYS = 30
MAX_DAYS = 366
DELIVERED_STATUSES = frozenset({"delivered", "read", "played"})
READ_STATUSES = frozenset({"read", "played"})


@dataclass(frozen=True)
class AnalyticsPeriod:
    """[since, until): send times counted. Meta reports whole UTC days, so its figures cover the days
    this period touches."""

    since: datetime
    until: datetime

    @classmethod
    def resolve(cls, since: datetime | None, until: datetime | None, now: datetime) -> AnalyticsPeriod:
        """The period asked for; by default the last 30 days up to now."""
        end = _aware(until) if until is not None else now
        start = _aware(since) if since is not None else end - timedelta(days=DEFAULT_DAYS)
        if start >= end:
            raise InvalidInput("since must be before until")
        if end - start > timedelta(days=MAX_DAYS):
            raise InvalidInput(f"the period may span at most {MAX_DAYS} days")
        return cls(since=start, until=end)

    @classmethod
    def parse(cls, since: str | None, until: str | None, now: datetime) -> AnalyticsPeriod:
        """From ISO 8601 text: `2026-01-31` (a whole day: until includes it) or `2026-01-31T12:00:00Z`."""
        return cls.resolve(_moment(since, "since", end_of_day=False), _moment(until, "until", True), now)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _moment(text: str | None, name: str, end_of_day: bool) -> datetime | None:
    if text is None or not text.strip():
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        return _aware(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"{name} must be a date (2026-01-31) or a date and time (2026-01-31T12:00:00Z)"
        ) from None


@dataclass(frozen=True)
class StatusCount:
    """One row of the aggregate: template messages with this status (and error code) and how many."""

    name: str
    language: str
    status: str
    error_code: int | None
    count: int


@dataclass(frozen=True)
class FailureCount:
    error_code: int | None
    """Meta's error code; None when the send failed without one."""
    count: int


@dataclass(frozen=True)
class SendFigures:
    """One template (name and language) as our own records tell it."""

    name: str
    language: str
    sends: int = 0
    pending: int = 0
    """Stored but not (yet) accepted by Meta."""
    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    failures: tuple[FailureCount, ...] = ()

    @property
    def delivery_rate(self) -> float | None:
        return round(self.delivered / self.sends, 4) if self.sends else None

    @property
    def read_rate(self) -> float | None:
        return round(self.read / self.delivered, 4) if self.delivered else None

    @classmethod
    def empty(cls, name: str, language: str) -> SendFigures:
        return cls(name=name, language=language)


def fold_counts(rows: Iterable[StatusCount]) -> dict[tuple[str, str], SendFigures]:
    """The aggregate's rows, per (name, language)."""
    tallies: dict[tuple[str, str], dict[str, int]] = {}
    failures: dict[tuple[str, str], dict[int | None, int]] = {}
    for row in rows:
        key = (row.name, row.language)
        tally = tallies.setdefault(key, {"sends": 0, "pending": 0, "sent": 0, "delivered": 0, "read": 0})
        tally["sends"] += row.count
        if row.status == "pending":
            tally["pending"] += row.count
        if row.status == "failed":
            codes = failures.setdefault(key, {})
            codes[row.error_code] = codes.get(row.error_code, 0) + row.count
        elif row.status != "pending":
            tally["sent"] += row.count
        if row.status in DELIVERED_STATUSES:
            tally["delivered"] += row.count
        if row.status in READ_STATUSES:
            tally["read"] += row.count
    figures: dict[tuple[str, str], SendFigures] = {}
    for key, tally in tallies.items():
        codes = failures.get(key, {})
        ordered = sorted(codes.items(), key=lambda item: (-item[1], item[0] is None, item[0] or 0))
        figures[key] = SendFigures(
            name=key[0],
            language=key[1],
            failed=sum(codes.values()),
            failures=tuple(FailureCount(code, count) for code, count in ordered),
            **tally,
        )
    return figures


@dataclass(frozen=True)
class ButtonClicks:
    type: str
    """`quick_reply_button` or `url_button`, as Meta names them."""
    button_content: str
    count: int


@dataclass(frozen=True)
class MetaDay:
    start: datetime
    end: datetime
    sent: int
    delivered: int
    read: int
    clicked: int


@dataclass(frozen=True)
class MetaFigures:
    """One template as Meta's template analytics report it over the period's days."""

    meta_template_id: str
    sent: int = 0
    delivered: int = 0
    read: int = 0
    clicks: tuple[ButtonClicks, ...] = ()
    days: tuple[MetaDay, ...] = field(default_factory=tuple)

    @property
    def clicked(self) -> int:
        return sum(c.count for c in self.clicks)


def sum_clicks(clicks: Iterable[ButtonClicks]) -> tuple[ButtonClicks, ...]:
    """Clicks per button over the days, most clicked first."""
    totals: dict[tuple[str, str], int] = {}
    for click in clicks:
        key = (click.type, click.button_content)
        totals[key] = totals.get(key, 0) + click.count
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return tuple(ButtonClicks(type=t, button_content=b, count=n) for (t, b), n in ordered)
