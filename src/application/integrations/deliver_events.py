"""The delivery worker's round: send due event deliveries, record each attempt, back off or give up."""

from __future__ import annotations

import asyncio
import json
import logging

from pywhatsapp.application.integrations.ports import Attempt, DeliveryQueueFactory, DueDelivery, EventSender
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.integrations.event_webhook import SIGNATURE_HEADER, next_attempt, sign

logger = logging.getLogger(__name__)
BATCH = 50
FAILED_ROUND_PAUSE = 5.0


class DeliverEvents:
    def __init__(self, queues: DeliveryQueueFactory, sender: EventSender) -> None:
        self._queues = queues
        self._sender = sender

    async def run_once(self, limit: int = BATCH) -> int:
        """One round; the number of deliveries attempted (0: nothing was due)."""
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
