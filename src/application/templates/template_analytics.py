"""Template analytics: sends, deliveries, reads and failures (by error code) from our own messages, with
Meta's template analytics (sent, delivered, read, button clicks) beside them when Meta gives them.

Meta's figures are a bonus: analytics may be off for the WABA, unsupported in its region, or Meta may not
answer. Then `meta` is None and `meta_note` says why; our own figures are always there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from pywhatsapp.application.templates.analytics_ports import (
    META_IDS_PER_CALL,
    MetaAnalyticsUnavailable,
    MetaTemplateAnalytics,
)
from pywhatsapp.application.templates.manage_templates import stored_template, template_channel
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import DomainError
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.templates.analytics import (
    AnalyticsPeriod,
    MetaFigures,
    SendFigures,
    fold_counts,
)
from pywhatsapp.domain.templates.template import MessageTemplate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TemplateReport:
    name: str
    language: str
    ours: SendFigures
    meta: MetaFigures | None
    meta_note: str | None
    """Why `meta` is None (not at Meta yet, analytics off, Meta's error...)."""
    template: MessageTemplate | None = None
    """The stored template; None for sends of a template not stored here (sent by name only)."""


@dataclass(frozen=True)
class AnalyticsReport:
    period: AnalyticsPeriod
    templates: list[TemplateReport]


class TemplateAnalytics:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        meta: MetaTemplateAnalytics,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._uow_factory = uow_factory
        self._meta = meta
        self._clock = clock

    def period(self, since: str | None, until: str | None) -> AnalyticsPeriod:
        return AnalyticsPeriod.parse(since, until, self._clock())

    async def for_template(
        self, principal: Principal, template_id: UUID, period: AnalyticsPeriod, *, with_meta: bool = True
    ) -> TemplateReport:
        async with self._uow_factory(principal.tenant_id) as uow:
            template = await stored_template(uow, template_id)
            counts = await uow.template_send_stats.status_counts(
                period.since, period.until, name=template.name, language=template.language
            )
            channels = await self._channels(uow, [template]) if with_meta else {}
        ours = fold_counts(counts).get((template.name, template.language))
        meta, notes = await self._meta_figures([template], channels, period) if with_meta else ({}, {})
        return _report(template.name, template.language, ours, template, meta, notes, with_meta)

    async def for_all(
        self, principal: Principal, period: AnalyticsPeriod, *, with_meta: bool = True
    ) -> AnalyticsReport:
        """Every stored template (sent or not in the period), and templates sent by name only."""
        async with self._uow_factory(principal.tenant_id) as uow:
            templates = [t for t in await uow.template_registry.every() if t.status != "DELETED"]
            ours = fold_counts(await uow.template_send_stats.status_counts(period.since, period.until))
            channels = await self._channels(uow, templates) if with_meta else {}
        meta, notes = await self._meta_figures(templates, channels, period) if with_meta else ({}, {})
        reports = [
            _report(t.name, t.language, ours.get((t.name, t.language)), t, meta, notes, with_meta)
            for t in templates
        ]
        stored = {(t.name, t.language) for t in templates}
        reports += [
            _report(name, language, figures, None, meta, notes, with_meta)
            for (name, language), figures in sorted(ours.items())
            if (name, language) not in stored
        ]
        reports.sort(key=lambda r: (-r.ours.sends, r.name, r.language))
        return AnalyticsReport(period=period, templates=reports)

    async def _channels(
        self, uow: UnitOfWork, templates: Sequence[MessageTemplate]
    ) -> dict[UUID, Channel | str]:
        """The channel whose WABA holds each template at Meta, or why there is none."""
        found: dict[UUID, Channel | str] = {}
        for template in templates:
            if not template.meta_template_id:
                continue
            try:
                found[template.id] = await template_channel(uow, template, None)
            except DomainError as error:
                found[template.id] = error.message
        return found

    async def _meta_figures(
        self,
        templates: Sequence[MessageTemplate],
        channels: dict[UUID, Channel | str],
        period: AnalyticsPeriod,
    ) -> tuple[dict[str, MetaFigures], dict[UUID, str]]:
        """Meta's figures by Meta template id, asked per channel ten ids at a time, and a note per
        template without figures."""
        notes: dict[UUID, str] = {}
        by_channel: dict[UUID, tuple[Channel, list[MessageTemplate]]] = {}
        for template in templates:
            channel = channels.get(template.id)
            if not template.meta_template_id:
                notes[template.id] = "not submitted to Meta: no Meta template id"
            elif isinstance(channel, str) or channel is None:
                notes[template.id] = f"no channel to ask Meta: {channel or 'none'}"
            elif not channel.waba_id:
                notes[template.id] = "the channel has no WhatsApp Business Account id (waba_id)"
            else:
                by_channel.setdefault(channel.id, (channel, []))[1].append(template)
        figures: dict[str, MetaFigures] = {}
        for channel, members in by_channel.values():
            for start in range(0, len(members), META_IDS_PER_CALL):
                chunk = members[start : start + META_IDS_PER_CALL]
                ids = [t.meta_template_id for t in chunk if t.meta_template_id]
                try:
                    figures.update(await self._meta.figures(channel, ids, period))
                except MetaAnalyticsUnavailable as unavailable:
                    logger.info(
                        "Meta's template analytics unavailable", extra={"reason": unavailable.message}
                    )
                    for template in chunk:
                        notes[template.id] = unavailable.message
        return figures, notes


def _report(
    name: str,
    language: str,
    ours: SendFigures | None,
    template: MessageTemplate | None,
    meta: dict[str, MetaFigures],
    notes: dict[UUID, str],
    with_meta: bool,
) -> TemplateReport:
    figures = ours or SendFigures.empty(name, language)
    if template is None:
        note = "not stored here: sync the templates to see Meta's figures" if with_meta else None
        return TemplateReport(name, language, figures, None, note)
    found = meta.get(template.meta_template_id or "")
    note = None
    if found is None and with_meta:
        note = notes.get(template.id) or "Meta reported nothing for this template"
    return TemplateReport(name, language, figures, found, note, template)
