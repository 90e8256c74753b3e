"""List, read, submit, delete and preview a tenant's message templates.

Submitting and deleting act at Meta first (through the `MetaTemplates` port) and store the outcome after:
a template exists here only with the id Meta gave it, and one Meta still has is never lost here.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pywhatsapp.application.common.list_records import Page
from pywhatsapp.application.common.paging import check_page
from pywhatsapp.application.common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from pywhatsapp.application.common.waba_channel import waba_channel
from pywhatsapp.application.templates.ports import MetaTemplates, TemplateFilter
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import Conflict, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent
from pywhatsapp.domain.templates.parameters import render_template
from pywhatsapp.domain.templates.submission import validate_draft
from pywhatsapp.domain.templates.template import MessageTemplate

DELETED = "DELETED"


def template_event(template: MessageTemplate, kind: str) -> RealtimeEvent:
    return RealtimeEvent(
        EventType.TEMPLATE_STATUS,
        template.tenant_id,
        {
            "id": str(template.id),
            "name": template.name,
            "language": template.language,
            "status": template.status,
            "category": template.category,
            "quality_score": template.quality_score,
            "kind": kind,
        },
    )


async def stored_template(uow: UnitOfWork, template_id: UUID) -> MessageTemplate:
    template = await uow.templates.get(template_id)
    if template is None:
        raise NotFound(f"No template {template_id} in this tenant")
    return template


async def template_channel(
    uow: UnitOfWork, template: MessageTemplate | None, channel_id: UUID | None
) -> Channel:
    """The channel whose WABA holds the template: the one asked for, the template's own, else the default."""
    return await waba_channel(uow, template.channel_id if template is not None else None, channel_id)


class ManageTemplates:
    def __init__(self, uow_factory: UnitOfWorkFactory, meta: MetaTemplates) -> None:
        self._uow_factory = uow_factory
        self._meta = meta

    async def list(
        self, principal: Principal, where: TemplateFilter, *, limit: int = 50, offset: int = 0
    ) -> Page[MessageTemplate]:
        check_page(limit, offset)
        async with self._uow_factory(principal.tenant_id) as uow:
            items, total = await uow.template_registry.search(where, limit=limit, offset=offset)
        return Page(items=list(items), total=total, limit=limit, offset=offset)

    async def get(self, principal: Principal, template_id: UUID) -> MessageTemplate:
        async with self._uow_factory(principal.tenant_id) as uow:
            return await stored_template(uow, template_id)

    async def submit(
        self,
        principal: Principal,
        *,
        name: str,
        language: str,
        category: str,
        components: Any,
        parameter_format: str | None = None,
        channel_id: UUID | None = None,
    ) -> MessageTemplate:
        draft = validate_draft(
            name=name,
            language=language,
            category=category,
            components=components,
            parameter_format=parameter_format,
        )
        async with self._uow_factory(principal.tenant_id) as uow:
            existing = await uow.template_registry.find(
                meta_template_id=None, name=draft.name, language=draft.language
            )
            if existing is not None and existing.status != DELETED:
                raise Conflict(
                    f"The template {draft.name!r} already exists in {draft.language} "
                    f"(status {existing.status})"
                )
            channel = await template_channel(uow, None, channel_id)
        submitted = await self._meta.submit(channel, draft)
        async with self._uow_factory(principal.tenant_id) as uow:
            registry = uow.template_registry
            # Meta's review webhook may have been faster than this answer: it found or made the same row.
            template = await registry.find(
                meta_template_id=submitted.meta_template_id, name=draft.name, language=draft.language
            ) or MessageTemplate(tenant_id=principal.tenant_id, name=draft.name, language=draft.language)
            reviewed = template.meta_template_id == submitted.meta_template_id and template.status != DELETED
            template.meta_template_id = submitted.meta_template_id
            template.channel_id = channel.id
            template.category = template.category if reviewed and template.category else submitted.category
            template.status = template.status if reviewed else submitted.status
            template.rejected_reason = template.rejected_reason if reviewed else None
            template.components = draft.components
            template.parameter_format = draft.parameter_format
            template.updated_at = utc_now()
            saved = await registry.save(template)
            await uow.events.publish(template_event(saved, "submitted"))
            await uow.commit()
        return saved

    async def delete(self, principal: Principal, template_id: UUID) -> MessageTemplate:
        """Delete the template (this language of it) at Meta, then here."""
        async with self._uow_factory(principal.tenant_id) as uow:
            template = await stored_template(uow, template_id)
            channel = await template_channel(uow, template, None) if template.meta_template_id else None
        if channel is not None and template.status != DELETED:
            await self._meta.delete(channel, name=template.name, meta_template_id=template.meta_template_id)
        async with self._uow_factory(principal.tenant_id) as uow:
            await uow.template_registry.remove(template.id)
            template.status = DELETED
            await uow.events.publish(template_event(template, "deleted"))
            await uow.commit()
        return template

    async def preview(self, principal: Principal, template_id: UUID, components: Any) -> dict[str, str]:
        """The header, body, footer and buttons the customer would see with these send parameters."""
        template = await self.get(principal, template_id)
        return render_template(template.components, components, parameter_format=template.parameter_format)
