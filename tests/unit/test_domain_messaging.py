"""Delivery statuses only move forward; free-form replies only within 24 hours of the last inbound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pywhatsapp.domain.messaging.conversation import Conversation, window_is_open
from pywhatsapp.domain.messaging.message import MessageStatus, status_can_advance
from pywhatsapp.domain.messaging.sending import SendRefused

S = MessageStatus
LADDER = [S.PENDING, S.SENT, S.DELIVERED, S.READ, S.PLAYED]
RANK = {status: rank for rank, status in enumerate(LADDER)}


def apply(current: MessageStatus, updates: list[MessageStatus]) -> MessageStatus:
    for new in updates:
        if status_can_advance(current, new):
            current = new
    return current


@pytest.mark.parametrize(
    ("current", "new"),
    [(S.PENDING, S.SENT), (S.SENT, S.DELIVERED), (S.DELIVERED, S.READ), (S.READ, S.PLAYED), (S.SENT, S.READ)],
)
def test_status_moves_forward(current: MessageStatus, new: MessageStatus) -> None:
    assert status_can_advance(current, new)


def test_full_forward_path_ends_played() -> None:
    assert apply(S.PENDING, [S.SENT, S.DELIVERED, S.READ, S.PLAYED]) is S.PLAYED


def test_read_then_late_delivered_stays_read() -> None:
    assert not status_can_advance(S.READ, S.DELIVERED)
    assert apply(S.SENT, [S.READ, S.DELIVERED, S.SENT]) is S.READ


def test_same_status_twice_is_not_an_advance() -> None:
    # Meta delivers at least once: a repeated webhook must not count as a change.
    assert not status_can_advance(S.DELIVERED, S.DELIVERED)


def test_failure_is_not_overwritten_by_an_older_status() -> None:
    assert apply(S.PENDING, [S.FAILED, S.SENT, S.DELIVERED, S.READ]) is S.FAILED


def test_failure_is_recorded_before_delivery() -> None:
    assert status_can_advance(S.PENDING, S.FAILED)
    assert status_can_advance(S.SENT, S.FAILED)


@pytest.mark.parametrize("reached", [S.DELIVERED, S.READ, S.PLAYED])
def test_failure_after_reaching_the_phone_is_ignored(reached: MessageStatus) -> None:
    assert not status_can_advance(reached, S.FAILED)


@pytest.mark.parametrize("new", list(MessageStatus))
def test_deleted_is_final(new: MessageStatus) -> None:
    assert not status_can_advance(S.DELETED, new)


@pytest.mark.parametrize("current", [S.PENDING, S.SENT, S.DELIVERED, S.READ, S.PLAYED, S.RECEIVED])
def test_a_message_can_be_deleted_from_any_live_status(current: MessageStatus) -> None:
    assert status_can_advance(current, S.DELETED)


@given(st.sampled_from(LADDER), st.sampled_from(LADDER))
def test_ladder_only_climbs(current: MessageStatus, new: MessageStatus) -> None:
    assert status_can_advance(current, new) == (RANK[new] > RANK[current])


@given(st.lists(st.sampled_from([S.SENT, S.DELIVERED, S.READ, S.PLAYED, S.FAILED]), max_size=12))
def test_any_order_of_webhooks_ends_at_the_furthest_status_unless_a_failure_came_first(
    updates: list[MessageStatus],
) -> None:
    final = apply(S.PENDING, updates)

    failed_early = False
    for status in updates:
        if status is S.FAILED:
            failed_early = True
            break
        if RANK[status] >= RANK[S.DELIVERED]:
            break
    if failed_early:
        assert final is S.FAILED
    else:
        furthest = max((s for s in updates if s in RANK), key=RANK.__getitem__, default=S.PENDING)
        assert final is furthest


NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_window_open_at_23h59() -> None:
    assert window_is_open(NOW - timedelta(hours=23, minutes=59), NOW)


def test_window_closed_at_exactly_24h() -> None:
    assert not window_is_open(NOW - timedelta(hours=24), NOW)


def test_window_closed_after_24h() -> None:
    assert not window_is_open(NOW - timedelta(days=3), NOW)


def test_window_closed_when_the_contact_never_wrote() -> None:
    assert not window_is_open(None, NOW)


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
def test_window_open_exactly_below_24h(age: timedelta) -> None:
    assert window_is_open(NOW - age, NOW) == (age < timedelta(hours=24))


def test_conversation_window_follows_last_inbound() -> None:
    conversation = Conversation(tenant_id=uuid4(), contact_id=uuid4())
    assert not conversation.window_open(NOW)
    conversation.last_inbound_at = NOW - timedelta(hours=2)
    assert conversation.window_open(NOW)
    assert not conversation.window_open(NOW + timedelta(hours=22))


def test_a_refusal_names_metas_code_once() -> None:
    refused = SendRefused(131026, "(#131026) Message Undeliverable")
    assert refused.title == "Message Undeliverable"
    assert refused.message.endswith("Meta: (131026) Message Undeliverable")
    assert SendRefused(100, "Invalid parameter").title == "Invalid parameter"
    assert SendRefused(100, "(#100)").title == "(#100)"  # nothing else to say: kept as Meta said it
