"""Meta's webhook, from raw bytes to stored, announced inbox state (the brief's flow 1).

Bytes -> JSON -> every update of every entry and change -> the channel (and so the tenant) each is about ->
signature checked with that channel's app secret -> per tenant, one transaction: the raw body in the
webhook log, every update applied idempotently, realtime events published -> commit. Bodies that do not
parse, and bodies about phone numbers no tenant owns, are logged and acknowledged so that Meta stops
retrying; they can be replayed later.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from pywhatsapp.application.common.metrics import NO_METRICS, Metrics
from pywhatsapp.application.common.unit_of_work import RecordRejected, UnitOfWorkFactory
from pywhatsapp.application.messaging.ports import ChannelDirectory
from pywhatsapp.application.webhooks.apply_update import UpdateApplier
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.errors import SignatureInvalid, SignatureMissing
from pywhatsapp.domain.webhooks.meta_payload import parse_webhook_body
from pywhatsapp.domain.webhooks.signature import signature_matches
from pywhatsapp.domain.webhooks.updates import (
    GroupUpdate,
    InboundMessage,
    MalformedWebhook,
    MessageDeleted,
    MessageEdited,
    ReactionUpdate,
    StatusUpdate,
    TemplateUpdate,
    Update,
)
from pywhatsapp.domain.webhooks.webhook_log import WebhookLogEntry, WebhookOutcome

logger = logging.getLogger(__name__)

EVENT_KINDS: dict[type, str] = {
    InboundMessage: "message",
    StatusUpdate: "status",
    ReactionUpdate: "reaction",
    MessageEdited: "message_edit",
    MessageDeleted: "message_delete",
    TemplateUpdate: "template",
    GroupUpdate: "group",
}


def _count(metrics: Metrics, updates: list[Update], outcome: str) -> None:
    for kind, count in Counter(EVENT_KINDS.get(type(update), "other") for update in updates).items():
        metrics.webhook_events(kind, outcome, count)


@dataclass
class IngestReport:
    outcome: WebhookOutcome
    updates: int = 0
    tenants: list[UUID] = field(default_factory=list)
    unknown_phone_numbers: list[str] = field(default_factory=list)


FIELD_NAME_LENGTH = 64
"""Meta's field names are short words ("messages", "message_template_status_update"); the log keeps 64."""


def _first_field(body: Any) -> str | None:
    """The first change's field, to filter the log by; anything but a short string is not a field name."""
    try:
        field = body["entry"][0]["changes"][0]["field"]
    except (KeyError, IndexError, TypeError):
        return None
    return field[:FIELD_NAME_LENGTH] if isinstance(field, str) else None


class IngestWebhook:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        channels: ChannelDirectory,
        applier: UpdateApplier,
        *,
        validate_signatures: bool,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._uow_factory = uow_factory
        self._channels = channels
        self._applier = applier
        self._validate = validate_signatures
        self._metrics = metrics

    async def execute(
        self, raw_body: bytes, signature: str | None, *, replay: bool = False, only_tenant: UUID | None = None
    ) -> IngestReport:
        """`replay` re-applies a logged body (already verified when it came); `only_tenant` limits the work
        to that tenant's part of the body (a tenant replaying its log touches nobody else)."""
        # PostgreSQL text and jsonb cannot hold NUL: it is replaced before anything is parsed or stored.
        text = (
            raw_body.decode("utf-8", errors="replace").replace("\x00", "\ufffd").replace("\\u0000", "\\ufffd")
        )
        try:
            body = json.loads(text)
            updates = parse_webhook_body(body)
        except (ValueError, RecursionError, MalformedWebhook) as error:
            await self._log_without_tenant(
                text, None, WebhookOutcome.UNPARSEABLE, f"not a webhook body: {error}"
            )
            self._metrics.webhook_events("body", WebhookOutcome.UNPARSEABLE.value)
            return IngestReport(outcome=WebhookOutcome.UNPARSEABLE)

        by_channel, unknown = await self._route(updates)
        if not replay:
            try:
                self._check_signatures(raw_body, signature, [channel for channel, _ in by_channel.values()])
            except (SignatureMissing, SignatureInvalid):
                _count(self._metrics, updates, WebhookOutcome.REJECTED_SIGNATURE.value)
                raise
        if unknown and only_tenant is None:
            reason = "no tenant owns phone number(s) " + ", ".join(sorted(unknown))
            await self._log_without_tenant(text, body, WebhookOutcome.UNKNOWN_PHONE_NUMBER, reason)
            logger.warning("webhook for an unknown phone number", extra={"phone_numbers": sorted(unknown)})

        per_tenant: dict[UUID, list[tuple[Channel, Update]]] = defaultdict(list)
        for channel, channel_updates in by_channel.values():
            if only_tenant is not None and channel.tenant_id != only_tenant:
                continue
            per_tenant[channel.tenant_id].extend((channel, update) for update in channel_updates)
        outcome = WebhookOutcome.REPLAYED if replay else WebhookOutcome.PROCESSED
        applied: list[Update] = []
        for tenant_id, items in per_tenant.items():
            try:
                await self._apply(tenant_id, items, body, text, outcome)
            except RecordRejected as rejected:
                # Sending it again cannot help: kept in the tenant's log to look at, applied nowhere.
                await self._log_unstorable(tenant_id, items, body, text, str(rejected))
                _count(self._metrics, [update for _, update in items], WebhookOutcome.UNSTORABLE.value)
                continue
            except Exception:  # the answer is an error and Meta sends the body again
                _count(self._metrics, [update for _, update in items], "failed")
                raise
            _count(self._metrics, [update for _, update in items], outcome.value)
            applied.extend(update for _, update in items)
        if only_tenant is None:
            routed = {id(update) for update in applied}
            _count(
                self._metrics,
                [update for update in updates if id(update) not in routed and _names_a_number(update)],
                WebhookOutcome.UNKNOWN_PHONE_NUMBER.value,
            )
        if not per_tenant and not unknown:
            await self._log_without_tenant(text, body, outcome, "nothing to apply")
        return IngestReport(
            outcome=outcome if per_tenant else WebhookOutcome.UNKNOWN_PHONE_NUMBER if unknown else outcome,
            updates=len(updates),
            tenants=list(per_tenant),
            unknown_phone_numbers=sorted(unknown),
        )

    async def _apply(
        self,
        tenant_id: UUID,
        items: list[tuple[Channel, Update]],
        body: Any,
        text: str,
        outcome: WebhookOutcome,
    ) -> None:
        """One transaction per tenant: the raw body in its log, every update applied, events published."""
        async with self._uow_factory(tenant_id) as uow:
            await uow.webhook_logs.append(
                WebhookLogEntry(
                    tenant_id=tenant_id,
                    phone_number_id=items[0][0].phone_number_id,
                    field_name=_first_field(body),
                    outcome=outcome,
                    body=body,
                    raw_body=text,
                    item_count=len(items),
                )
            )
            for channel, update in items:
                await self._applier.apply(uow, channel, update)
            await uow.commit()

    async def _log_unstorable(
        self, tenant_id: UUID, items: list[tuple[Channel, Update]], body: Any, text: str, reason: str
    ) -> None:
        entry = WebhookLogEntry(
            tenant_id=tenant_id,
            phone_number_id=items[0][0].phone_number_id,
            field_name=_first_field(body),
            outcome=WebhookOutcome.UNSTORABLE,
            reason=reason,
            body=body,
            raw_body=text,
            item_count=len(items),
        )
        await self._keep_in_log(entry)

    async def _keep_in_log(self, entry: WebhookLogEntry) -> None:
        """A log row on its own; if the parsed body holds what PostgreSQL refuses (a lone surrogate escape
        in jsonb), the text as it came is kept alone: decoded leniently with NUL replaced, it always fits."""
        for attempt in (entry, replace(entry, body=None)):
            try:
                unit_of_work = (
                    self._uow_factory(entry.tenant_id)
                    if entry.tenant_id is not None
                    else self._uow_factory.for_all_tenants()
                )
                async with unit_of_work as uow:
                    await uow.webhook_logs.add(attempt)
                    await uow.commit()
                return
            except RecordRejected:
                if attempt.body is None:
                    raise

    async def _route(self, updates: list[Update]) -> tuple[dict[str, tuple[Channel, list[Update]]], set[str]]:
        by_channel: dict[str, tuple[Channel, list[Update]]] = {}
        unknown: set[str] = set()
        for update in updates:
            if isinstance(update, TemplateUpdate):
                channel = await self._channels.by_waba_id(update.waba_id)
                key = f"waba:{update.waba_id}"
            else:
                phone_number_id = getattr(update, "phone_number_id", None)
                if not phone_number_id:
                    continue  # changes with no phone number (account updates) are kept in the log only
                channel = await self._channels.by_phone_number_id(phone_number_id)
                key = phone_number_id
            if channel is None:
                unknown.add(key.removeprefix("waba:"))
                continue
            by_channel.setdefault(str(channel.id), (channel, []))[1].append(update)
        return by_channel, unknown

    def _check_signatures(self, raw_body: bytes, signature: str | None, channels: list[Channel]) -> None:
        if not self._validate or not channels:
            return
        if not signature:
            logger.warning("webhook without X-Hub-Signature-256 refused")
            raise SignatureMissing("X-Hub-Signature-256 is missing; Meta signs every webhook")
        for channel in channels:
            if not channel.app_secret or not signature_matches(raw_body, signature, channel.app_secret):
                logger.warning("webhook with a wrong signature refused", extra={"channel": str(channel.id)})
                raise SignatureInvalid("X-Hub-Signature-256 does not match the channel's app secret")

    async def _log_without_tenant(self, text: str, body: Any, outcome: WebhookOutcome, reason: str) -> None:
        entry = WebhookLogEntry(
            tenant_id=None,
            outcome=outcome,
            reason=reason,
            body=body if isinstance(body, (dict, list)) else None,
            raw_body=text,
            field_name=_first_field(body),
        )
        await self._keep_in_log(entry)


def _names_a_number(update: Update) -> bool:
    """Updates without a phone number (account updates) are only logged: not "unknown"."""
    return isinstance(update, TemplateUpdate) or bool(getattr(update, "phone_number_id", None))
