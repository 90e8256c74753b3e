"""The campaign sender: every worker runs one; each channel is driven by one worker at a time.

A driver holds its channel's lease, claims due recipients in batches (committed as `sending` before
anything goes out, so a crash leaves a trace), paces the sends under the channel's cap, and records the
answers in batches. A send whose answer was lost stays `sending` until its status webhook names it
(matched by the recipient id it carried as biz_opaque_callback_data) or its reconcile time passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pywhatsapp.application.campaigns.ports import CampaignQueue, ChannelLease, SendResult
from pywhatsapp.application.common.metrics import NO_METRICS, Metrics
from pywhatsapp.application.messaging.gateway import (
    GatewayUnreachable,
    OutgoingMessage,
    RequestNotSent,
    WhatsAppGateway,
)
from pywhatsapp.domain.campaigns.campaign import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    RecipientState,
    callback_data_for,
)
from pywhatsapp.domain.campaigns.pacing import PAIR_INTERVAL_SECONDS, SendPacer
from pywhatsapp.domain.campaigns.retry_policy import (
    RECONCILE_GRACE_SECONDS,
    Decision,
    Next,
    after_lost_answer,
    after_refusal,
    after_transient_failure,
)
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.flows.rules import flow_message, flow_token_for
from pywhatsapp.domain.messaging.sending import SendRefused

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
RECORD_EVERY_SECONDS = 0.25
STATUS_CHECK_SECONDS = 0.2
Progress = Callable[[UUID, UUID], Any]


@dataclass(frozen=True)
class SenderSettings:
    reconcile_seconds: float = RECONCILE_GRACE_SECONDS
    """How long a send whose answer was lost waits for its webhook before being tried again."""
    max_in_flight: int = 1000
    poll_seconds: float = POLL_SECONDS
    metrics: Metrics = NO_METRICS


class CampaignSender:
    def __init__(
        self, queue: CampaignQueue, gateway: WhatsAppGateway, settings: SenderSettings | None = None
    ) -> None:
        self._queue = queue
        self._gateway = gateway
        self._settings = settings or SenderSettings()
        self._drivers: dict[UUID, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()

    @property
    def driving(self) -> set[UUID]:
        return {channel for channel, task in self._drivers.items() if not task.done()}

    async def tick(self) -> int:
        """Start due campaigns and drive every channel that has running ones and no driver yet."""
        await self._queue.start_due(utc_now())
        started = 0
        for channel_id in await self._queue.channels_to_drive():
            if channel_id in self.driving or self._stopping.is_set():
                continue
            lease = await self._queue.lease(channel_id)
            if lease is None:
                continue  # another worker drives it
            self._drivers[channel_id] = asyncio.create_task(
                ChannelDriver(lease, self._gateway, self._settings, self._stopping).run(),
                name=f"campaign-driver-{channel_id}",
            )
            started += 1
        return started

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: tick, then let the drivers finish what they have in flight."""
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    logger.warning("campaign sender tick failed; trying again", exc_info=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._settings.poll_seconds)
        finally:
            await self.stop()

    async def stop(self) -> None:
        self._stopping.set()
        drivers = list(self._drivers.values())
        if drivers:
            await asyncio.gather(*drivers, return_exceptions=True)
        self._drivers.clear()

    async def has_work(self) -> bool:
        """Whether any channel has running campaigns."""
        return bool(await self._queue.channels_to_drive())

    async def wait_idle(self) -> None:
        """Until every driver has run out of work (for `pywhatsapp worker --once` and tests)."""
        while self.driving:
            await asyncio.gather(*self._drivers.values(), return_exceptions=True)


class ChannelDriver:
    def __init__(
        self,
        lease: ChannelLease,
        gateway: WhatsAppGateway,
        settings: SenderSettings,
        stopping: asyncio.Event,
    ) -> None:
        self._lease = lease
        self._gateway = gateway
        self._settings = settings
        self._stopping = stopping
        self._pacer = SendPacer(lease.channel.messages_per_second)
        self._in_flight: dict[UUID, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(settings.max_in_flight)
        self._results: dict[UUID, list[SendResult]] = {}
        self._held: set[UUID] = set()
        self._halted: set[UUID] = set()
        self._prefetched: dict[UUID, asyncio.Task[Sequence[CampaignRecipient]]] = {}
        self._campaigns: dict[UUID, Campaign] = {}
        self._last_send_to: dict[str, float] = {}
        self._pause: dict[UUID, str] = {}

    async def run(self) -> None:
        channel = self._lease.channel
        await self._gateway.prepare(channel)
        recorder = asyncio.create_task(self._record_periodically())
        watcher = asyncio.create_task(self._watch_statuses())
        try:
            while not self._stopping.is_set():
                campaigns = [c for c in await self._lease.running_campaigns() if c.id not in self._pause]
                await self._give_back_prefetched(keep={c.id for c in campaigns})
                if not campaigns:
                    break
                claimed = 0
                for campaign in campaigns:
                    self._campaigns[campaign.id] = campaign
                    self._halted.discard(campaign.id)
                    claimed += await self._send_batch(campaign)
                if not claimed:
                    for campaign in campaigns:
                        await self._finish_if_done(campaign)
                    await self._idle(campaigns)
        except Exception:
            logger.exception("campaign driver failed", extra={"channel_id": str(channel.id)})
        finally:
            await self._give_back_prefetched(keep=set())
            if self._in_flight:
                await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
            for task in (recorder, watcher):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._flush()
            for campaign in list(self._campaigns.values()):
                with contextlib.suppress(Exception):
                    await self._finish_if_done(campaign)
            await self._lease.release()

    async def _claim(self, campaign: Campaign) -> Sequence[CampaignRecipient]:
        batch = max(10, min(500, self._pacer.per_second // 2))  # about half a second of sends
        hold = utc_now() + timedelta(seconds=self._settings.reconcile_seconds)
        # Never claim again what this driver holds: being sent, or sent with its answer not yet recorded.
        recipients = await self._lease.claim(campaign, limit=batch, hold_until=hold, exclude=list(self._held))
        self._held.update(recipient.id for recipient in recipients)
        return recipients

    async def _give_back_prefetched(self, keep: set[UUID]) -> None:
        """Batches claimed ahead for campaigns no longer running go back to pending, unsent."""
        for campaign_id in [cid for cid in self._prefetched if cid not in keep]:
            claimed = await self._prefetched.pop(campaign_id)
            for recipient in claimed:
                self._result(
                    self._campaigns[campaign_id],
                    SendResult(recipient.id, RecipientState.PENDING, counts_as_attempt=False),
                )

    async def _watch_statuses(self) -> None:
        """A user may pause or cancel at any moment: the sends stop within a fraction of a second."""
        while True:
            await asyncio.sleep(STATUS_CHECK_SECONDS)
            for campaign in list(self._campaigns.values()):
                with contextlib.suppress(Exception):
                    if await self._lease.status(campaign) is not CampaignStatus.RUNNING:
                        self._halted.add(campaign.id)

    async def _send_batch(self, campaign: Campaign) -> int:
        # The next batch is claimed while this one goes out, so the sends never wait for the database.
        ahead = self._prefetched.pop(campaign.id, None)
        recipients = await ahead if ahead is not None else await self._claim(campaign)
        if recipients:
            self._prefetched[campaign.id] = asyncio.create_task(self._claim(campaign))
        loop = asyncio.get_running_loop()
        for recipient in recipients:
            halted = campaign.id in self._halted
            if halted or self._stopping.is_set() or campaign.id in self._pause:
                # Not sent: back to pending right away rather than waiting out the reconcile time.
                self._result(
                    campaign, SendResult(recipient.id, RecipientState.PENDING, counts_as_attempt=False)
                )
                continue
            wait = self._pair_wait(recipient.wa_id)
            if wait > 0:
                retry_at = utc_now() + timedelta(seconds=wait)
                self._result(
                    campaign,
                    SendResult(
                        recipient.id,
                        RecipientState.PENDING,
                        next_attempt_at=retry_at,
                        counts_as_attempt=False,
                    ),
                )
                continue
            await self._slots.acquire()
            delay = self._pacer.delay(loop.time())
            if delay > 0:
                await asyncio.sleep(delay)  # the clock only moves on: after it, the send may start
            self._pacer.record(loop.time())
            self._last_send_to[recipient.wa_id] = time.monotonic()
            task = asyncio.create_task(self._send(campaign, recipient))
            self._in_flight[recipient.id] = task
            task.add_done_callback(functools.partial(self._sent, recipient.id))
        return len(recipients)

    def _sent(self, recipient_id: UUID, _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(recipient_id, None)
        self._slots.release()

    def _pair_wait(self, wa_id: str) -> float:
        last = self._last_send_to.get(wa_id)
        if last is None:
            return 0.0
        return max(0.0, PAIR_INTERVAL_SECONDS - (time.monotonic() - last))

    async def _send(self, campaign: Campaign, recipient: CampaignRecipient) -> None:
        message = outgoing_message(campaign, recipient)
        try:
            wamid = await self._gateway.send(self._lease.channel, message)
        except SendRefused as refused:
            self._settings.metrics.send("campaign", "refused")
            decision = after_refusal(refused.code, refused.refusal, recipient.attempts)
            self._decided(campaign, recipient, decision, refused.code, refused.title)
        except RequestNotSent as unsent:
            decision = after_transient_failure(recipient.attempts)
            self._decided(campaign, recipient, decision, None, f"Meta could not be reached: {unsent}")
        except GatewayUnreachable as lost:
            self._settings.metrics.send("campaign", "unknown")
            decision = after_lost_answer(recipient.attempts, self._settings.reconcile_seconds)
            self._decided(campaign, recipient, decision, None, f"no answer from Meta: {lost}")
        except Exception as error:  # never lose a recipient to a bug: it is retried after the grace time
            self._settings.metrics.send("campaign", "unknown")
            logger.exception("campaign send failed unexpectedly", extra={"campaign_id": str(campaign.id)})
            decision = after_lost_answer(recipient.attempts, self._settings.reconcile_seconds)
            self._decided(campaign, recipient, decision, None, type(error).__name__)
        else:
            self._settings.metrics.send("campaign", "sent")
            self._result(campaign, SendResult(recipient.id, RecipientState.SENT, wamid=wamid))

    def _decided(
        self,
        campaign: Campaign,
        recipient: CampaignRecipient,
        decision: Decision,
        code: int | None,
        title: str,
    ) -> None:
        later = utc_now() + timedelta(seconds=decision.delay_seconds)
        if decision.slow_down_seconds:
            self._pacer.hold(asyncio.get_running_loop().time() + decision.slow_down_seconds)
        if decision.next is Next.FAIL:
            result = SendResult(recipient.id, RecipientState.FAILED, error_code=code, error_title=title)
        elif decision.next is Next.PAUSE_CAMPAIGN:
            self._pause[campaign.id] = f"Meta refused the channel's token ({code}): {title}"
            result = SendResult(
                recipient.id,
                RecipientState.PENDING,
                error_code=code,
                error_title=title,
                counts_as_attempt=False,
            )
        elif decision.next is Next.AWAIT_WEBHOOK:
            result = SendResult(
                recipient.id, RecipientState.SENDING, error_title=title, next_attempt_at=later
            )
        else:
            result = SendResult(
                recipient.id,
                RecipientState.PENDING,
                error_code=code,
                error_title=title,
                next_attempt_at=later,
                counts_as_attempt=code not in (130429, 131056, 80007, 4),
            )
        self._result(campaign, result)

    def _result(self, campaign: Campaign, result: SendResult) -> None:
        self._results.setdefault(campaign.id, []).append(result)

    async def _record_periodically(self) -> None:
        while True:
            await asyncio.sleep(RECORD_EVERY_SECONDS)
            try:
                await self._flush()
            except Exception:
                logger.warning("recording campaign results failed; retrying", exc_info=True)

    async def _flush(self) -> None:
        results, self._results = self._results, {}
        for campaign_id, batch in results.items():
            campaign = self._campaigns[campaign_id]
            try:
                await self._lease.record(campaign, batch)
            except Exception:
                self._results.setdefault(campaign_id, []).extend(batch)  # kept for the next flush
                raise
            self._held.difference_update(result.recipient_id for result in batch)
        for campaign_id, reason in list(self._pause.items()):
            paused = self._campaigns.get(campaign_id)
            if paused is not None and paused.status is CampaignStatus.RUNNING:
                await self._lease.pause(paused, reason)
                paused.status = CampaignStatus.PAUSED

    async def _finish_if_done(self, campaign: Campaign) -> None:
        if self._results.get(campaign.id) or self._in_flight:
            await self._flush()
        if not self._in_flight:
            await self._lease.complete(campaign)

    async def _idle(self, campaigns: list[Campaign]) -> None:
        """Nothing due now: sleep until the earliest retry (at most a poll interval)."""
        await self._flush()
        soonest: datetime | None = None
        for campaign in campaigns:
            due = await self._lease.next_due_at(campaign)
            if due is not None and (soonest is None or due < soonest):
                soonest = due
        delay = self._settings.poll_seconds
        if soonest is not None:
            delay = min(delay, max(0.01, (soonest - utc_now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)


def outgoing_message(campaign: Campaign, recipient: CampaignRecipient) -> OutgoingMessage:
    callback = callback_data_for(recipient.id)
    if campaign.template_name is not None:
        payload: dict[str, Any] = {"name": campaign.template_name, "language": {"code": campaign.language}}
        components = recipient.parameters.get("components") or campaign.parameters.get("components")
        if components:
            payload["components"] = components
        return OutgoingMessage(to=recipient.wa_id, type="template", payload=payload, callback_data=callback)
    if campaign.flow is not None:
        flow = campaign.flow
        interactive = flow_message(
            meta_flow_id=flow["meta_flow_id"],
            body=campaign.text or "",
            cta=flow["cta"],
            # The completion (nfm_reply) and the data endpoint name the flow and this recipient.
            token=flow_token_for(UUID(flow["flow_id"]), str(recipient.id)),
            screen=flow.get("screen"),
            data=flow.get("data") or {},
        )
        return OutgoingMessage(
            to=recipient.wa_id, type="interactive", payload=interactive, callback_data=callback
        )
    return OutgoingMessage(
        to=recipient.wa_id, type="text", payload={"body": campaign.text or ""}, callback_data=callback
    )
