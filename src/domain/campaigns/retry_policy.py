"""What the campaign sender does with each answer Meta gives to a send."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pywhatsapp.domain.messaging.sending import MetaRefusal

MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 300.0
THROTTLE_PAUSE_SECONDS = 1.0
RECONCILE_GRACE_SECONDS = 120.0
"""How long a send whose answer was lost waits for its status webhook before it is tried again."""


class Next(Enum):
    SENT = "sent"
    RETRY = "retry"
    FAIL = "fail"
    PAUSE_CAMPAIGN = "pause_campaign"
    AWAIT_WEBHOOK = "await_webhook"


@dataclass(frozen=True)
class Decision:
    next: Next
    delay_seconds: float = 0.0
    slow_down_seconds: float = 0.0
    """How long the whole channel should hold its sends (Meta throttled us)."""


def backoff(attempts: int) -> float:
    """Seconds before attempt number `attempts + 1`: 2, 4, 8, ... up to 5 minutes."""
    return float(min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


def after_refusal(code: int, refusal: MetaRefusal, attempts: int) -> Decision:
    """Meta answered with an error: retry what time can fix, fail the rest with the reason."""
    if refusal is MetaRefusal.TOKEN_EXPIRED:
        return Decision(Next.PAUSE_CAMPAIGN)
    if refusal is MetaRefusal.THROTTLED:
        # Throttling is not the recipient's fault: it does not use up their attempts.
        pause = THROTTLE_PAUSE_SECONDS * (6.0 if code == 131056 else 1.0)
        return Decision(Next.RETRY, delay_seconds=pause, slow_down_seconds=THROTTLE_PAUSE_SECONDS)
    if code in (1, 2) or code == 131000 or code == 500:
        return after_transient_failure(attempts)
    return Decision(Next.FAIL)


def after_transient_failure(attempts: int) -> Decision:
    """Meta said it failed (5xx, code 1/2): nothing was sent; try again later, a limited number of times."""
    if attempts >= MAX_ATTEMPTS:
        return Decision(Next.FAIL)
    return Decision(Next.RETRY, delay_seconds=backoff(attempts))


def after_lost_answer(attempts: int, grace_seconds: float = RECONCILE_GRACE_SECONDS) -> Decision:
    """No answer (timeout, connection cut): Meta may have sent it. Its status webhook will say so, and
    carries our recipient id; only when none comes within the grace period is it tried again."""
    if attempts >= MAX_ATTEMPTS:
        return Decision(Next.FAIL)
    return Decision(Next.AWAIT_WEBHOOK, delay_seconds=grace_seconds)
