"""The `Metrics` port: what use cases count for operators (webhook events, sends), whatever collects it."""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    def webhook_events(self, kind: str, outcome: str, count: int = 1) -> None:
        """`count` webhook events (a message, a status, a template update...) ended with `outcome`."""
        ...

    def send(self, source: str, result: str) -> None:
        """A message left (or failed to leave) for Meta: `source` api or campaign; `result` sent, refused
        (Meta said no) or unknown (no answer; a status webhook settles it)."""
        ...


class NoMetrics:
    """Counts nothing: the default of use cases built without a collector (unit tests, scripts)."""

    def webhook_events(self, kind: str, outcome: str, count: int = 1) -> None:
        return None

    def send(self, source: str, result: str) -> None:
        return None


NO_METRICS: Metrics = NoMetrics()
