"""The dashboard's arithmetic: rates over outgoing messages, 30 days of bars, today's share."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pywhatsapp.application.inbox.dashboard import DayCount, StatusCount, totals
from pywhatsapp.entrypoints.http.pages.dashboard import CHART_HEIGHT, day_bars, percent


def test_rates_count_read_as_delivered_and_ignore_incoming() -> None:
    today = date(2026, 3, 1)
    rows = [
        StatusCount(today, "incoming", "received", 5),
        StatusCount(today, "outgoing", "read", 2),
        StatusCount(today, "outgoing", "delivered", 1),
        StatusCount(today, "outgoing", "failed", 1),
    ]
    figures = totals(rows)
    assert (figures.incoming, figures.outgoing, figures.delivered, figures.read, figures.failed) == (
        5,
        4,
        3,
        2,
        1,
    )
    assert percent(figures.delivered_rate) == "75%"
    assert percent(figures.read_rate) == "50%"
    assert percent(totals([]).read_rate) == "-"


def test_bars_scale_to_the_busiest_day_and_stay_inside_the_chart() -> None:
    first = datetime(2026, 3, 1, tzinfo=UTC).date()
    days = [DayCount(first + timedelta(days=n), n, 2 * n) for n in range(30)]
    incoming, outgoing, peak = day_bars(days)
    assert peak == 58 and len(incoming) == len(outgoing) == 30
    assert max(b.height for b in outgoing) <= CHART_HEIGHT and min(b.y for b in outgoing) >= 0
    assert incoming[0].height == 0
