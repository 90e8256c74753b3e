"""What `IngestWebhook` counts through the `Metrics` port: each webhook item by kind and outcome."""

from __future__ import annotations

from collections import Counter

import pytest

from pywhatsapp.application.webhooks.apply_update import UpdateApplier
from pywhatsapp.application.webhooks.ingest_webhook import IngestWebhook
from pywhatsapp.domain.errors import SignatureInvalid
from pywhatsapp.domain.messaging.opt_out import OptOutKeywords
from pywhatsapp.domain.webhooks.signature import sign
from tests.unit.test_ingest_webhook import (  # noqa: F401 (the fixture)
    ACME_WABA,
    APP_SECRET,
    Inbound,
    acme_messages,
    acme_statuses,
    body,
    inbound,
    messages_change,
    status,
    text,
)


class CountingMetrics:
    def __init__(self) -> None:
        self.events: Counter[tuple[str, str]] = Counter()
        self.sends: Counter[tuple[str, str]] = Counter()

    def webhook_events(self, kind: str, outcome: str, count: int = 1) -> None:
        self.events[(kind, outcome)] += count

    def send(self, source: str, result: str) -> None:
        self.sends[(source, result)] += 1


def counted(world_inbound: Inbound) -> tuple[IngestWebhook, CountingMetrics]:
    metrics = CountingMetrics()
    ingest = IngestWebhook(
        world_inbound.factory,
        world_inbound.directory,
        UpdateApplier(OptOutKeywords()),
        validate_signatures=True,
        metrics=metrics,
    )
    return ingest, metrics


async def test_every_item_is_counted_by_kind_with_its_outcome(inbound: Inbound) -> None:  # noqa: F811
    ingest, metrics = counted(inbound)
    raw = acme_messages(text("wamid.m1", "hi"), text("wamid.m2", "there"))
    await ingest.execute(raw, sign(raw, APP_SECRET))
    raw = acme_statuses(status("wamid.m9", "delivered"))
    await ingest.execute(raw, sign(raw, APP_SECRET))
    assert metrics.events == {("message", "processed"): 2, ("status", "processed"): 1}


async def test_refused_unknown_and_unparseable_bodies_are_counted_apart(
    inbound: Inbound,  # noqa: F811
) -> None:
    ingest, metrics = counted(inbound)
    raw = acme_messages(text("wamid.m1", "hi"))
    with pytest.raises(SignatureInvalid):
        await ingest.execute(raw, sign(raw, "not-the-app-secret"))
    stranger = body((ACME_WABA, [messages_change("999999999999999", messages=[text("wamid.s", "who?")])]))
    await ingest.execute(stranger, None)
    await ingest.execute(b"{not json", None)
    assert metrics.events == {
        ("message", "rejected_signature"): 1,
        ("message", "unknown_phone_number"): 1,
        ("body", "unparseable"): 1,
    }
