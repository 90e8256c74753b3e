"""The send pacer: never more than the channel's cap of sends in any one-second window.

Sends are spread evenly (one every 1/cap seconds) so that they do not arrive at Meta in bursts, and a
sliding window over the start times holds the cap exactly: at most `cap` starts in any span of
`window + guard` seconds. The guard absorbs the jitter between when we start a request and when Meta
receives it, so the cap also holds where Meta counts. It costs `guard / window` of the rate (2 %).
"""

from __future__ import annotations

from collections import deque

WINDOW_SECONDS = 1.0
GUARD_SECONDS = 0.02


class SendPacer:
    def __init__(self, per_second: int, *, window: float = WINDOW_SECONDS, guard: float = GUARD_SECONDS):
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        self.per_second = per_second
        self._span = window + guard
        self._interval = window / per_second
        self._starts: deque[float] = deque()
        self._next_even_slot = float("-inf")

    def reserve(self, now: float) -> float:
        """Book the next send: the time (>= now) at which it may start. Call it once per send."""
        start = max(now, self._next_even_slot)
        if len(self._starts) >= self.per_second:
            start = max(start, self._starts[-self.per_second] + self._span)
        self._starts.append(start)
        while self._starts and self._starts[0] <= start - self._span:
            self._starts.popleft()
        self._next_even_slot = start + self._interval
        return start

    def hold(self, until: float) -> None:
        """No send before `until` (Meta asked us to slow down)."""
        self._next_even_slot = max(self._next_even_slot, until)


PAIR_INTERVAL_SECONDS = 6.0
"""Meta's pair rate limit: about one message every 6 seconds to the same customer (131056)."""
