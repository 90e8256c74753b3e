"""Bring the stored templates in line with the WABA's templates at Meta (paged, every page).

Meta is the truth: a template found there is created or updated here; one stored here (for the same WABA)
that Meta no longer lists is kept with the status DELETED, so that a send naming it is refused with a
clear reason instead of failing at Meta. Status webhooks keep templates current between syncs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.templates.manage_templates import DELETED, template_channel
from pywhatsapp.application.templates.ports import MetaTemplates, RemoteTemplate
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.templates.template import MessageTemplate

PAGE_SIZE = 50
MAX_PAGES = 1000
"""A guard against a cursor that never ends (Meta caps a WABA at a few thousand templates)."""


@dataclass(frozen=True)
class SyncReport:
    created: int
    updated: int
    unchanged: int
    removed: int
    """Stored templates that Meta no longer lists (now DELETED here)."""
    at_meta: int
    pages: int
    channel_id: UUID


SyncProgress = Callable[[int, int], None]
"""Called after each page with (pages read, templates read)."""


def _apply(template: MessageTemplate, remote: RemoteTemplate, channel: Channel) -> bool:
    """Copy Meta's view onto the stored template; whether anything a user sees changed."""
    before = (
        template.meta_template_id,
        template.name,
        template.language,
        template.status,
        template.category,
        template.components,
        template.parameter_format,
        template.quality_score,
        template.rejected_reason,
    )
    template.meta_template_id = remote.meta_template_id
    template.name = remote.name
    template.language = remote.language
    template.status = remote.status
    template.category = remote.category or template.category
    template.components = remote.components
    template.parameter_format = remote.parameter_format or template.parameter_format
    template.quality_score = remote.quality_score or template.quality_score
    template.rejected_reason = remote.rejected_reason
    template.channel_id = channel.id
    after = (
        template.meta_template_id,
        template.name,
        template.language,
        template.status,
        template.category,
        template.components,
        template.parameter_format,
        template.quality_score,
        template.rejected_reason,
    )
    return before != after


class SyncTemplates:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, meta: MetaTemplates, *, page_size: int = PAGE_SIZE
    ) -> None:
        self._uow_factory = uow_factory
        self._meta = meta
        self._page_size = page_size

    async def execute(
        self, tenant_id: UUID, *, channel_id: UUID | None = None, progress: SyncProgress | None = None
    ) -> SyncReport:
        async with self._uow_factory(tenant_id) as uow:
            channel = await template_channel(uow, None, channel_id)
            same_waba = {
                c.id for c in await uow.channels.list(limit=200) if c.waba_id and c.waba_id == channel.waba_id
            } | {channel.id}

        remote: list[RemoteTemplate] = []
        after: str | None = None
        pages = 0
        while pages < MAX_PAGES:
            page = await self._meta.page(channel, after=after, limit=self._page_size)
            pages += 1
            remote.extend(page.templates)
            if progress is not None:
                progress(pages, len(remote))
            if page.after is None or not page.templates:
                break
            after = page.after

        created = updated = unchanged = removed = 0
        now = utc_now()
        async with self._uow_factory(tenant_id) as uow:
            registry = uow.template_registry
            stored = list(await registry.every())
            by_meta_id = {t.meta_template_id: t for t in stored if t.meta_template_id}
            by_key = {(t.name, t.language): t for t in stored}
            seen: set[UUID] = set()
            for item in remote:
                template = by_meta_id.get(item.meta_template_id) or by_key.get((item.name, item.language))
                if template is None or template.id in seen:
                    template = MessageTemplate(tenant_id=tenant_id, name=item.name, language=item.language)
                    _apply(template, item, channel)
                    created += 1
                elif _apply(template, item, channel):
                    updated += 1
                else:
                    unchanged += 1
                template.synced_at = now
                template.updated_at = now
                seen.add(template.id)
                await registry.save(template)
            for template in stored:
                gone = template.id not in seen and template.status != DELETED
                if gone and (template.channel_id is None or template.channel_id in same_waba):
                    template.status = DELETED
                    template.updated_at = now
                    await registry.save(template)
                    removed += 1
            await uow.commit()
        return SyncReport(
            created=created,
            updated=updated,
            unchanged=unchanged,
            removed=removed,
            at_meta=len(remote),
            pages=pages,
            channel_id=channel.id,
        )
