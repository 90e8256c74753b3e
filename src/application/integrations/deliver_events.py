"""The delivery worker's round: send due event deliveries, record each attempt, back off or give up; and, at
most once per PRUNE_ATTEMPTS_EVERY, remove the attempts older than ATTEMPT_RETENTION (one DELETE)."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from pywhatsapp.application.integrations.ports import Attempt, DeliveryQueueFactory, DueDelivery, EventSender
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.integrations.event_webhook import (
    ATTEMPT_RETENTION,
    PRUNE_ATTEMPTS_EVERY,
    SIGNATURE_HEADER,
    next_attempt,
    sign,
)

logger = logging.getLogger(__name__)
BATCH = 50
FAILED_ROUND_PAUSE = 5.0


class DeliverEvents:
    def __init__(self, queues: DeliveryQueueFactory, sender: EventSender) -> None:
        self._queues = queues
        self._sender = sender
        self._next_prune = 0.0  # time.monotonic(): the first round prunes

    async def run_once(self, limit: int = BATCH) -> int:
        """One round; the number of deliveries attempted (0: nothing was due)."""
        if time.monotonic() >= self._next_prune:
            await self.prune_attempts()
        queue = self._queues()
        try:
            due = await queue.claim(limit)
            attempts = await asyncio.gather(*(self._attempt(item) for item in due))
            for item, attempt in zip(due, attempts, strict=True):
                now = utc_now()
                if attempt.succeeded:
                    await queue.delivered(item.delivery.id, attempt, now)
                else:
                    first = item.delivery.first_failed_at or now
                    retry_at = next_attempt(item.delivery.attempts + 1, first, now)
                    await queue.failed(item.delivery.id, attempt, retry_at, now)
            await queue.finish()
        except Exception:
            logger.warning("event delivery round failed; retrying in a few seconds", exc_info=True)
            await asyncio.sleep(FAILED_ROUND_PAUSE)
            return 0
        return len(due)

    async def prune_attempts(self) -> int:
        """Remove the attempts older than ATTEMPT_RETENTION, in a transaction of its own; how many. The next
        prune is due PRUNE_ATTEMPTS_EVERY later, whether this one worked or not."""
        self._next_prune = time.monotonic() + PRUNE_ATTEMPTS_EVERY.total_seconds()
        queue = self._queues()
        try:
            try:
                removed = await queue.prune_attempts(utc_now() - ATTEMPT_RETENTION)
            finally:
                await queue.finish()  # commits, or (after a failure) fails to and releases the session
        except Exception:
            logger.warning("removing old event delivery attempts failed; trying again later", exc_info=True)
            return 0
        if removed:
            logger.info("removed old event delivery attempts", extra={"removed": removed})
        return removed

    async def _attempt(self, item: DueDelivery) -> Attempt:
        body = json.dumps(
            {
                "id": str(item.delivery.id),
                "created_at": item.delivery.created_at.isoformat(),
                **item.delivery.payload,
            },
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, item.endpoint.secret),
            "X-PyWhatsApp-Event": item.delivery.event_type,
            "X-PyWhatsApp-Delivery": str(item.delivery.id),
        }
        return await self._sender.post(item.endpoint.url, body, headers)
