"""Copy the approved templates of one WhatsApp Business Account into another (Meta's template migration).

The seed's `scripts/migrate_templates.py`, as `pywhatsapp templates migrate`: a business that moves to a
new WABA (another tenant here, or a WABA not managed here) keeps its approved templates without a new
review. Meta recreates them in the destination (only APPROVED ones of GREEN or UNKNOWN quality, both WABAs
in the same business), 500 per request; then the destination tenant is synced so they show up here.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.templates.manage_templates import template_channel
from pywhatsapp.application.templates.ports import MetaTemplates
from pywhatsapp.application.templates.sync_templates import SyncReport, SyncTemplates
from pywhatsapp.domain.errors import InvalidInput

MIGRATION_PAGE = 500
MAX_MIGRATION_PAGES = 20


@dataclass(frozen=True)
class MigrationReport:
    source_waba_id: str
    destination_waba_id: str
    migrated: list[str]
    failed: dict[str, str]
    sync: SyncReport


class MigrateTemplates:
    def __init__(self, uow_factory: UnitOfWorkFactory, meta: MetaTemplates, sync: SyncTemplates) -> None:
        self._uow_factory = uow_factory
        self._meta = meta
        self._sync = sync

    async def source_waba(self, tenant_id: UUID) -> str:
        """The WABA of a tenant's default channel (the source when migrating from a tenant)."""
        async with self._uow_factory(tenant_id) as uow:
            channel = await template_channel(uow, None, None)
        if not channel.waba_id:
            raise InvalidInput("the source tenant's channel has no waba_id")
        return channel.waba_id

    async def execute(
        self, *, to_tenant: UUID, source_waba_id: str, to_channel: UUID | None = None
    ) -> MigrationReport:
        async with self._uow_factory(to_tenant) as uow:
            channel = await template_channel(uow, None, to_channel)
        if not channel.waba_id:
            raise InvalidInput("the destination channel has no waba_id")
        if channel.waba_id == source_waba_id:
            raise InvalidInput("the source and destination are the same WhatsApp Business Account")
        migrated: list[str] = []
        failed: dict[str, str] = {}
        for page_number in range(MAX_MIGRATION_PAGES):
            page = await self._meta.migrate(channel, source_waba_id=source_waba_id, page_number=page_number)
            migrated.extend(page.migrated)
            failed.update(page.failed)
            if len(page.migrated) + len(page.failed) < MIGRATION_PAGE:
                break
        sync = await self._sync.execute(to_tenant, channel_id=channel.id)
        return MigrationReport(
            source_waba_id=source_waba_id,
            destination_waba_id=channel.waba_id,
            migrated=migrated,
            failed=failed,
            sync=sync,
        )
