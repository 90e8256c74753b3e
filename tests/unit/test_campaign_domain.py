"""The campaign rules that need no database: pacing under the cap, retries, personal fields, lifecycle."""

from __future__ import annotations

import itertools
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pywhatsapp.domain.campaigns.campaign import (
    Campaign,
    CampaignStatus,
    RecipientState,
    callback_data_for,
    recipient_can_move,
    recipient_id_from_callback,
)
from pywhatsapp.domain.campaigns.pacing import SendPacer
from pywhatsapp.domain.campaigns.personalize import MissingField, contact_fields, personalize
from pywhatsapp.domain.campaigns.retry_policy import (
    MAX_ATTEMPTS,
    Next,
    after_lost_answer,
    after_refusal,
    backoff,
)
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import Conflict
from pywhatsapp.domain.messaging.sending import REFUSALS, MetaRefusal


def max_in_any_window(starts: list[float], window: float = 1.0) -> int:
    starts = sorted(starts)
    best, left = 0, 0
    for right, start in enumerate(starts):
        while starts[left] <= start - window:
            left += 1
        best = max(best, right - left + 1)
    return best


def run_pacer(pacer: SendPacer, requests: list[float], lateness: list[float]) -> list[float]:
    """Sends wanted at `requests` times; each starts when the pacer allows, `lateness` after that (a
    busy event loop wakes up late). The actual start times."""
    now, starts = 0.0, []
    for i, wanted in enumerate(sorted(requests)):
        now = max(now, wanted)
        now += pacer.delay(now)
        now += lateness[i % len(lateness)] if lateness else 0.0
        while pacer.delay(now) > 0:  # woke up, but a later check says wait (the sender loops the same)
            now += pacer.delay(now)
        pacer.record(now)
        starts.append(now)
    return starts


@settings(max_examples=200, deadline=None)
@given(
    cap=st.integers(min_value=1, max_value=1000),
    requests=st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=1, max_size=2500),
    lateness=st.lists(st.floats(min_value=0, max_value=0.3, allow_nan=False), max_size=20),
)
def test_no_one_second_window_ever_holds_more_than_the_cap(
    cap: int, requests: list[float], lateness: list[float]
) -> None:
    starts = run_pacer(SendPacer(cap), requests, lateness)
    assert all(start >= wanted for start, wanted in zip(starts, sorted(requests), strict=True))
    assert max_in_any_window(starts) <= cap


@settings(max_examples=50, deadline=None)
@given(cap=st.integers(min_value=1, max_value=1000), holds=st.lists(st.floats(0, 3), max_size=5))
def test_holding_never_breaks_the_cap(cap: int, holds: list[float]) -> None:
    pacer = SendPacer(cap)
    starts, now = [], 0.0
    for i in range(cap * 3):
        if holds and i % max(1, cap // len(holds)) == 0:
            pacer.hold(holds[i % len(holds)])
        now += pacer.delay(now)
        pacer.record(now)
        starts.append(now)
    assert max_in_any_window(starts) <= cap


@pytest.mark.parametrize("cap", [1, 80, 1000])
def test_under_constant_demand_the_rate_stays_close_under_the_cap(cap: int) -> None:
    starts = run_pacer(SendPacer(cap), [0.0] * (cap * 10), [])
    rate = (len(starts) - 1) / (starts[-1] - starts[0]) if len(starts) > 1 else cap
    assert (0.9 if cap >= 100 else 0.8) * cap <= rate <= cap


def test_a_late_event_loop_catches_up_a_little_but_never_bursts() -> None:
    starts = run_pacer(SendPacer(100), [0.0] * 300, [0.0, 0.0, 0.0, 0.05])
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert sum(1 for gap in gaps if gap == 0) <= 2 * 300 / 4  # catch-up sends, at most 2 after a stall
    assert max_in_any_window(starts) <= 100


def test_sends_are_spread_evenly_not_in_bursts() -> None:
    starts = run_pacer(SendPacer(100), [0.0] * 50, [])
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) == pytest.approx(0.01)


def test_permanent_errors_fail_the_recipient_with_no_retry() -> None:
    for code in (131026, 131047, 131050, 131009, 100):
        assert after_refusal(code, REFUSALS[code], attempts=1).next is Next.FAIL


def test_throttling_retries_later_and_slows_the_channel() -> None:
    for code in (130429, 131056):
        decision = after_refusal(code, MetaRefusal.THROTTLED, attempts=1)
        assert decision.next is Next.RETRY
        assert decision.delay_seconds > 0 and decision.slow_down_seconds > 0
    # the pair limit waits for the 6-second interval to the same customer
    assert after_refusal(131056, MetaRefusal.THROTTLED, 1).delay_seconds >= 6


def test_an_expired_token_pauses_the_campaign() -> None:
    assert after_refusal(190, MetaRefusal.TOKEN_EXPIRED, attempts=1).next is Next.PAUSE_CAMPAIGN


def test_server_errors_retry_with_growing_delays_until_the_limit() -> None:
    delays = [after_refusal(2, MetaRefusal.OTHER, attempts=n).delay_seconds for n in range(1, MAX_ATTEMPTS)]
    assert delays == sorted(delays) and delays[0] < delays[-1]
    assert after_refusal(2, MetaRefusal.OTHER, attempts=MAX_ATTEMPTS).next is Next.FAIL
    assert backoff(100) == 300.0


def test_a_lost_answer_waits_for_the_webhook_instead_of_resending() -> None:
    decision = after_lost_answer(attempts=1, grace_seconds=42)
    assert decision.next is Next.AWAIT_WEBHOOK and decision.delay_seconds == 42
    assert after_lost_answer(attempts=MAX_ATTEMPTS).next is Next.FAIL


def test_recipient_states_only_move_forward() -> None:
    assert recipient_can_move(RecipientState.SENDING, RecipientState.SENT)
    assert recipient_can_move(RecipientState.SENT, RecipientState.READ)
    assert not recipient_can_move(RecipientState.READ, RecipientState.DELIVERED)
    assert not recipient_can_move(RecipientState.DELIVERED, RecipientState.FAILED)
    assert recipient_can_move(RecipientState.SENT, RecipientState.FAILED)
    assert not recipient_can_move(RecipientState.SKIPPED, RecipientState.SENT)


def test_callback_data_names_the_recipient() -> None:
    rid = uuid4()
    assert recipient_id_from_callback(callback_data_for(rid)) == rid
    assert recipient_id_from_callback(str(rid)) is None  # an inbox message's callback, not a campaign's
    assert recipient_id_from_callback("campaign_recipient:nonsense") is None


def test_contact_fields_fill_parameters_with_fallbacks() -> None:
    fields = contact_fields(wa_id="4915112345678", name="Ana", attributes={"city": "Berlin", "vip": ""})
    components = [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "{{contact.name}}"},
                {"type": "text", "text": "{{ contact.city }}"},
                {"type": "text", "text": "{{contact.vip|regular}}"},
                {"type": "text", "text": "{{contact.phone}}"},
            ],
        }
    ]
    rendered = personalize(components, fields)
    assert [p["text"] for p in rendered[0]["parameters"]] == ["Ana", "Berlin", "regular", "+4915112345678"]
    with pytest.raises(MissingField) as missing:
        personalize({"text": "{{contact.order_id}}"}, fields)
    assert missing.value.name == "order_id"


def test_campaign_lifecycle() -> None:
    now = utc_now()
    campaign = Campaign(tenant_id=uuid4(), name="Spring", template_name="promo", language="en")
    campaign.start(now)
    assert (campaign.status, campaign.started_at) == (CampaignStatus.RUNNING, now)
    campaign.pause("by hand")
    with pytest.raises(Conflict):
        campaign.start(now)
    campaign.resume(now)
    campaign.cancel(now)
    assert campaign.status == CampaignStatus.CANCELLED
    with pytest.raises(Conflict):
        campaign.resume(now)
