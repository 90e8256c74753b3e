"""Apply a logged webhook body again: safe, since applying is idempotent; useful after a fix or a new
channel, and to fetch what a failed run missed."""

from __future__ import annotations

from uuid import UUID

from pywhatsapp.application.inbox.read_models import InboxReader
from pywhatsapp.application.webhooks.ingest_webhook import IngestReport, IngestWebhook
from pywhatsapp.domain.errors import NotFound


class ReplayWebhook:
    def __init__(self, reader: InboxReader, ingest: IngestWebhook) -> None:
        self._reader = reader
        self._ingest = ingest

    async def execute(self, tenant_id: UUID, entry_id: UUID) -> IngestReport:
        entry = await self._reader.webhook_log(tenant_id, entry_id)
        if entry is None:
            raise NotFound(f"No webhook log entry {entry_id} in this tenant")
        return await self._ingest.execute(entry.raw_body.encode(), None, replay=True, only_tenant=tenant_id)
