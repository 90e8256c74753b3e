"""What template management needs: the WABA's templates at Meta, and the tenant's stored copies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from pywhatsapp.application.messaging.ports import Templates
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.templates.submission import TemplateDraft
from pywhatsapp.domain.templates.template import MessageTemplate


@dataclass(frozen=True)
class RemoteTemplate:
    """A template as Meta lists it, with every field a sync keeps."""

    meta_template_id: str
    name: str
    language: str
    status: str
    category: str | None = None
    components: list[dict[str, Any]] = field(default_factory=list)
    parameter_format: str | None = None
    quality_score: str | None = None
    rejected_reason: str | None = None


@dataclass(frozen=True)
class RemotePage:
    templates: list[RemoteTemplate]
    after: str | None
    """The cursor of the next page; None on the last one."""


@dataclass(frozen=True)
class SubmittedTemplate:
    meta_template_id: str
    status: str
    category: str


@dataclass(frozen=True)
class MigratedPage:
    migrated: list[str]
    """Meta's ids of the templates now in the destination WABA."""
    failed: dict[str, str]
    """Source template id -> Meta's reason (already there, not approved...)."""


class MetaTemplates(Protocol):
    """The message templates of a channel's WhatsApp Business Account, at Meta.

    Refusals are raised as `TemplateRefused` (with Meta's own words), silence as `MetaUnreachable`."""

    async def page(self, channel: Channel, *, after: str | None, limit: int) -> RemotePage: ...

    async def submit(self, channel: Channel, draft: TemplateDraft) -> SubmittedTemplate: ...

    async def delete(self, channel: Channel, *, name: str, meta_template_id: str | None) -> None: ...

    async def migrate(self, channel: Channel, *, source_waba_id: str, page_number: int) -> MigratedPage:
        """Copy the source WABA's templates into the channel's WABA (500 per page, Meta's unit)."""
        ...


@dataclass(frozen=True)
class TemplateFilter:
    status: str | None = None
    name: str | None = None
    """A part of the name, case-insensitive."""
    language: str | None = None
    category: str | None = None


class TemplateRegistry(Templates, Protocol):
    """The tenant's stored templates: found, saved (from `Templates`), searched and removed."""

    async def search(
        self, where: TemplateFilter, *, limit: int, offset: int
    ) -> tuple[Sequence[MessageTemplate], int]:
        """A page of matching templates by name and language, and how many match in all."""
        ...

    async def every(self) -> Sequence[MessageTemplate]: ...

    async def remove(self, template_id: UUID) -> None: ...
