"""The event delivery retry schedule (`next_attempt`), as its docstring and the docs state it: 10 s after the
first failure, doubling, at most 6 h apart; given up once the first failure is 3 days old."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from pywhatsapp.domain.integrations import event_webhook
from pywhatsapp.domain.integrations.event_webhook import next_attempt

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_the_schedule_constants_are_the_documented_ones() -> None:
    schedule = {
        "first retry": event_webhook.FIRST_RETRY,
        "ceiling": event_webhook.MAX_RETRY_DELAY,
        "give up after": event_webhook.GIVE_UP_AFTER,
    }
    assert schedule == {
        "first retry": timedelta(seconds=10),
        "ceiling": timedelta(hours=6),
        "give up after": timedelta(days=3),
    }


@pytest.mark.parametrize(
    ("failures", "delay"),
    [
        (0, timedelta(seconds=10)),  # never below the first delay
        (1, timedelta(seconds=10)),
        (2, timedelta(seconds=20)),
        (3, timedelta(seconds=40)),
        (4, timedelta(seconds=80)),
        (7, timedelta(seconds=640)),
        (12, timedelta(hours=5, minutes=41, seconds=20)),  # the last doubling below the ceiling
        (13, timedelta(hours=6)),  # 11 h 22 m would be next: the ceiling
        (20, timedelta(hours=6)),
        (1000, timedelta(hours=6)),  # a long count neither overflows nor exceeds the ceiling
    ],
)
def test_retries_double_from_ten_seconds_up_to_six_hours(failures: int, delay: timedelta) -> None:
    assert next_attempt(failures, first_failed_at=NOW, now=NOW) == NOW + delay


def test_the_delay_counts_from_now_not_from_the_first_failure() -> None:
    first = NOW - timedelta(hours=30)
    assert next_attempt(3, first_failed_at=first, now=NOW) == NOW + timedelta(seconds=40)


def test_a_delivery_failing_for_three_days_is_given_up() -> None:
    just_before = NOW - timedelta(days=3) + timedelta(seconds=1)
    assert next_attempt(20, first_failed_at=just_before, now=NOW) == NOW + timedelta(hours=6)
    assert next_attempt(20, first_failed_at=NOW - timedelta(days=3), now=NOW) is None
    assert next_attempt(1, first_failed_at=NOW - timedelta(days=4), now=NOW) is None


def test_a_delivery_that_keeps_failing_is_tried_24_times_over_three_days_then_given_up() -> None:
    """Following the schedule from a first failure: the whole life of a delivery that never gets a 2xx."""
    first = now = NOW
    failures = 1
    tries: list[datetime] = [now]
    while (retry := next_attempt(failures, first, now)) is not None:
        now = retry
        tries.append(now)
        failures += 1
    gaps = [later - earlier for earlier, later in pairwise(tries)]
    assert gaps[:3] == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
    assert max(gaps) == timedelta(hours=6)
    assert gaps == sorted(gaps), "never sooner than the previous gap"
    # 12 doublings (11 h 22 m 30 s in all), then every 6 h until a failure comes 3 days after the first
    assert len(tries) == 24
    assert now - first == timedelta(hours=77, minutes=22, seconds=30)
