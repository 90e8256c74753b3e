"""/logs (admins): Meta's webhook bodies as they came, filtered by time, field and outcome, each with its
raw body and a replay button (idempotent: applying a body twice changes nothing more)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from pywhatsapp.application.inbox.read_models import InboxReader, WebhookLogFilters
from pywhatsapp.application.webhooks.replay_webhook import ReplayWebhook
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.domain.webhooks.webhook_log import WebhookOutcome
from pywhatsapp.entrypoints.http.page_context import page_context
from pywhatsapp.entrypoints.http.routes.inbox import decode_cursor, encode_cursor
from pywhatsapp.entrypoints.http.security import requires

PAGE_SIZE = 50
FIELDS = (
    "messages",
    "message_template_status_update",
    "template_category_update",
    "message_template_quality_update",
    "group_lifecycle_update",
    "group_participants_update",
    "account_update",
)


def _when(value: str | None, name: str) -> datetime | None:
    """`datetime-local` inputs send no zone: they are read as UTC, as the page says."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput(f"{name} is not a date and time") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pretty(raw: str) -> str:
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw


@get("/logs", include_in_schema=False, guards=[requires(Role.ADMIN)])
async def logs_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    field: FromQuery[str | None] = None,
    outcome: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    filters = WebhookLogFilters(
        since=_when(since, "since"),
        until=_when(until, "until"),
        field_name=(field or None) and field[:64],
        outcome=(outcome or None) and outcome[:32],
    )
    page = await inbox_reader.webhook_logs(
        principal.tenant_id, filters, limit=PAGE_SIZE, before=decode_cursor(cursor)
    )
    context = await page_context(
        request,
        principal,
        nav="logs",
        entries=page.items,
        total=page.total,
        next_cursor=encode_cursor(page.next_cursor),
        filters={"since": since or "", "until": until or "", "field": field or "", "outcome": outcome or ""},
        fields=FIELDS,
        outcomes=[o.value for o in WebhookOutcome],
        pretty=pretty,
    )
    return Template("logs.html", context=context)


@post("/logs/{entry_id:uuid}/replay", include_in_schema=False, status_code=200, guards=[requires(Role.ADMIN)])
async def replay_entry(
    entry_id: UUID, principal: NamedDependency[Principal], replay_webhook: NamedDependency[ReplayWebhook]
) -> Template:
    report = await replay_webhook.execute(principal.tenant_id, entry_id)
    return Template(
        template_str="Replayed: {{ outcome }}, {{ updates }} update(s) applied again.",
        context={"outcome": report.outcome.value, "updates": report.updates},
    )


ROUTES = [logs_page, replay_entry]
