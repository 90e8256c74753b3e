"""What event-webhook delivery needs: a durable queue in the database and an HTTP client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from pywhatsapp.domain.integrations.event_webhook import EventDelivery, EventEndpoint


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    latency_ms: int
    error: str | None = None
    response_body: str | None = None
    """The start of the endpoint's answer (at most ANSWER_BODY_LIMIT bytes, decoded leniently)."""
    started_at: datetime | None = None
    """When the request went out (None: when the outcome was recorded)."""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class DueDelivery:
    delivery: EventDelivery
    endpoint: EventEndpoint


class DeliveryQueue(Protocol):
    """One round's transaction: `delivered` and `failed` record the outcome on the delivery and append the
    attempt to its history, committed together by `finish`."""

    async def claim(self, limit: int) -> list[DueDelivery]:
        """Due deliveries (each the oldest pending one of its endpoint and conversation), locked so that no
        other worker takes them until `finish`."""
        ...

    async def delivered(self, delivery_id: UUID, attempt: Attempt, at: datetime) -> None: ...

    async def failed(
        self, delivery_id: UUID, attempt: Attempt, retry_at: datetime | None, at: datetime
    ) -> None:
        """A failed attempt; `retry_at` None gives the delivery up."""
        ...

    async def finish(self) -> None:
        """Commit what this round recorded and release the locks."""
        ...

    async def prune_attempts(self, before: datetime) -> int:
        """Remove the attempts made before `before`, across tenants (one statement); how many.
        `finish` commits it."""
        ...


class EventSender(Protocol):
    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Attempt: ...


class DeliveryQueueFactory(Protocol):
    def __call__(self) -> DeliveryQueue: ...


class DestinationGuard(Protocol):
    """Decides whether the server may send requests to a URL a tenant chose."""

    async def check(self, url: str) -> None:
        """Raise InvalidInput for a destination that is refused (e.g. an address on the server's network)."""
        ...
