"""The send pacer: never more than the channel's cap of sends in any one-second window.

Sends are spread evenly (one every 1/cap seconds) so that they do not reach Meta in bursts, and a
sliding window over the times sends actually started holds the cap exactly: at most `cap` starts in
any span of `window + guard` seconds, however late the event loop woke up. The guard absorbs the jitter
between starting a request and Meta receiving it, so the cap also holds where Meta counts; it costs
`guard / window` of the rate: 9 % at high caps, up to 17 % at low ones. (Guards of 20 and 50 ms let 88 and
81 sends reach the simulator within one second at a cap of 80 on a loaded 2-core machine: the event loop can
hold a started send for tens of milliseconds.)
"""

from __future__ import annotations

from collections import deque

WINDOW_SECONDS = 1.0
MIN_GUARD_SECONDS = 0.1
MAX_GUARD_SECONDS = 0.2


def guard_for(per_second: int) -> float:
    """Two sends' worth of time, within bounds."""
    return min(MAX_GUARD_SECONDS, max(MIN_GUARD_SECONDS, 2 / per_second))


CATCH_UP_SENDS = 1
"""After a stall, at most this many sends go out back to back to catch up with the even schedule."""


class SendPacer:
    def __init__(self, per_second: int, *, window: float = WINDOW_SECONDS, guard: float | None = None):
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        self.per_second = per_second
        self._span = window + (guard_for(per_second) if guard is None else guard)
        self._interval = window / per_second
        self._starts: deque[float] = deque()
        self._next_slot = float("-inf")

    def delay(self, now: float) -> float:
        """Seconds to wait before the next send may start (0: now)."""
        ready = self._next_slot
        if len(self._starts) >= self.per_second:
            ready = max(ready, self._starts[-self.per_second] + self._span)
        return max(0.0, ready - now)

    def record(self, now: float) -> None:
        """A send started at `now` (call it only when `delay(now)` is 0)."""
        if not self._starts:
            self._next_slot = max(self._next_slot, now)  # the first send starts the schedule
        self._starts.append(now)
        while len(self._starts) > self.per_second:
            self._starts.popleft()
        self._next_slot = max(self._next_slot, now - CATCH_UP_SENDS * self._interval) + self._interval

    def hold(self, until: float) -> None:
        """No send before `until` (Meta asked us to slow down)."""
        self._next_slot = max(self._next_slot, until)


PAIR_INTERVAL_SECONDS = 6.0
"""Meta's pair rate limit: about one message every 6 seconds to the same customer (131056)."""
