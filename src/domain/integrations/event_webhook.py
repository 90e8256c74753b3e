"""Event webhooks: a tenant's integrations hear of its events as signed JSON, at least once, in order per
conversation, retried with exponential back-off for days; endpoints that keep failing are disabled."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.ids import new_id
from pywhatsapp.domain.realtime.event import EventType

SIGNATURE_HEADER = "X-PyWhatsApp-Signature"
# The realtime event types, plus the one integrations care about that the inbox does not show.
CAMPAIGN_COMPLETED = "campaign_completed"
EVENT_TYPES = frozenset({*(t.value for t in EventType), CAMPAIGN_COMPLETED})
FIRST_RETRY = timedelta(seconds=10)
MAX_RETRY_DELAY = timedelta(hours=6)
GIVE_UP_AFTER = timedelta(days=3)
DISABLE_AFTER_FAILURES = 50
ANSWER_BODY_LIMIT = 1024
"""Bytes of an endpoint's answer kept with each attempt (the start of it: enough to read an error)."""
ATTEMPT_RETENTION = timedelta(days=30)
"""Attempts are kept this long, then removed (a delivery keeps its last attempt's outcome and its count)."""
PRUNE_ATTEMPTS_EVERY = timedelta(hours=1)
RECENT_ATTEMPTS = 20
"""Attempts shown per delivery in an endpoint's delivery log (the most recent); one delivery shows all."""


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    """Given up after GIVE_UP_AFTER of failures."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def validate_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - EVENT_TYPES)
    if not events or unknown:
        raise InvalidInput(
            f"events must name at least one of {', '.join(sorted(EVENT_TYPES))}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return sorted(set(events))


def validate_url(url: str) -> str:
    if not url.startswith(("https://", "http://")) or len(url) > 2000:
        raise InvalidInput("url must be an http(s) URL of at most 2,000 characters")
    return url


def next_attempt(attempts: int, first_failed_at: datetime, now: datetime) -> datetime | None:
    """When to try again after `attempts` failures (doubling from 10 s, at most 6 h apart); None: give up
    once the first failure is GIVE_UP_AFTER (3 days) old.

    10 s after the first failure, 20 s after the second, ... 5 h 41 m 20 s after the 12th, then 6 h after
    every later one."""
    if now - first_failed_at >= GIVE_UP_AFTER:
        return None
    # The exponent is capped (2**20 x 10 s is far past the ceiling) so a long count never overflows.
    delay: timedelta = min(FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 20)), MAX_RETRY_DELAY)
    return now + delay


@dataclass(kw_only=True)
class EventEndpoint:
    tenant_id: UUID
    url: str
    events: list[str]
    secret: str
    id: UUID = field(default_factory=new_id)
    description: str | None = None
    is_active: bool = True
    disabled_reason: str | None = None
    consecutive_failures: int = 0
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass(kw_only=True)
class EventDelivery:
    tenant_id: UUID
    endpoint_id: UUID
    event_type: str
    payload: dict[str, object]
    ordering_key: str
    id: UUID = field(default_factory=new_id)
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime = field(default_factory=utc_now)
    first_failed_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    last_latency_ms: int | None = None
    delivered_at: datetime | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass(kw_only=True)
class DeliveryAttempt:
    """One try of a delivery: the endpoint's answer (status and the start of its body) or the network
    error, and how long it took."""

    tenant_id: UUID
    delivery_id: UUID
    number: int
    """1 for a delivery's first attempt, counting up (the delivery's `attempts` after this one)."""
    attempted_at: datetime
    status_code: int | None
    error: str | None
    response_body: str | None
    latency_ms: int
    id: UUID = field(default_factory=new_id)
