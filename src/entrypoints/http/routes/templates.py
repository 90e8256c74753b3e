"""`/api/v1/templates`: the tenant's message templates, kept in step with Meta.

Agents list, read and preview templates; admins submit new ones to Meta for review, delete them (at Meta
too) and sync the stored copies with the WABA's templates at Meta.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from pywhatsapp.application.common.list_records import MAX_OFFSET, MAX_PAGE_SIZE
from pywhatsapp.application.templates.manage_templates import ManageTemplates
from pywhatsapp.application.templates.ports import TemplateFilter
from pywhatsapp.application.templates.sync_templates import SyncTemplates
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.envelope import Envelope, ListPage, ok
from pywhatsapp.entrypoints.http.routes.paging import list_page
from pywhatsapp.entrypoints.http.security import requires

PATH = "/api/v1/templates"
TAGS = ["templates"]
SERVICES = {
    "manage_templates": from_container("manage_templates"),
    "sync_templates": from_container("sync_templates"),
}
ADMIN = [requires(Role.ADMIN)]
AGENT = [requires(Role.AGENT)]
Component = dict[str, Any]


class TemplateCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    language: Annotated[str, msgspec.Meta(min_length=2, max_length=16)]
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    components: Annotated[list[Component], msgspec.Meta(min_length=1, max_length=4)]
    """HEADER, BODY, FOOTER, BUTTONS as Meta names them, with `example` values for placeholders."""
    parameter_format: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    """POSITIONAL (`{{1}}`) or NAMED (`{{first_name}}`); inferred from the placeholders when left out."""
    channel_id: UUID | None = None
    """The channel whose WABA gets the template; the tenant's default channel when left out."""


class TemplatePreviewRequest(msgspec.Struct, forbid_unknown_fields=True):
    components: Annotated[list[Component], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    """The parameters exactly as a send gives them (`[{"type": "body", "parameters": [...]}, ...]`)."""


class TemplateSyncRequest(msgspec.Struct, forbid_unknown_fields=True):
    channel_id: UUID | None = None


class TemplateDetail(msgspec.Struct):
    id: UUID
    name: str
    language: str
    category: str | None
    status: str
    quality_score: str | None
    rejected_reason: str | None
    meta_template_id: str | None
    parameter_format: str | None
    channel_id: UUID | None
    components: list[Component]
    synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TemplatePreview(msgspec.Struct, omit_defaults=True):
    header: str | None = None
    body: str | None = None
    footer: str | None = None
    buttons: str | None = None
    """One line per button: its label, and its URL or code where it has one."""


class TemplateSyncResult(msgspec.Struct):
    created: int
    updated: int
    unchanged: int
    removed: int
    """Stored templates Meta no longer has (kept here with the status DELETED)."""
    at_meta: int
    pages: int
    channel_id: UUID


def _detail(template: MessageTemplate) -> TemplateDetail:
    return TemplateDetail(
        id=template.id,
        name=template.name,
        language=template.language,
        category=template.category,
        status=template.status,
        quality_score=template.quality_score,
        rejected_reason=template.rejected_reason,
        meta_template_id=template.meta_template_id,
        parameter_format=template.parameter_format,
        channel_id=template.channel_id,
        components=template.components,
        synced_at=template.synced_at,
        created_at=template.created_at,
        updated_at=template.updated_at,
    )


@get(
    PATH,
    guards=AGENT,
    tags=TAGS,
    dependencies=SERVICES,
    operation_id="list_templates",
    summary="The tenant's templates, by name",
)
async def list_templates(
    principal: NamedDependency[Principal],
    manage_templates: NamedDependency[ManageTemplates],
    status: Annotated[str | None, QueryParameter(max_length=32, description="APPROVED...")] = None,
    name: Annotated[str | None, QueryParameter(max_length=512, description="A part of the name")] = None,
    language: Annotated[str | None, QueryParameter(max_length=16, description="en_US, pt_BR...")] = None,
    category: Annotated[str | None, QueryParameter(max_length=32, description="MARKETING...")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
) -> Envelope[ListPage[TemplateDetail]]:
    where = TemplateFilter(status=status, name=name, language=language, category=category)
    page = await manage_templates.list(principal, where, limit=limit, offset=offset)
    return ok(list_page(page, _detail))


@get(
    f"{PATH}/{{template_id:uuid}}",
    guards=AGENT,
    tags=TAGS,
    dependencies=SERVICES,
    operation_id="get_template",
    summary="One template",
)
async def get_template(
    template_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_templates: NamedDependency[ManageTemplates],
) -> Envelope[TemplateDetail]:
    return ok(_detail(await manage_templates.get(principal, template_id)))


@post(
    PATH,
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=201,
    operation_id="submit_template",
    summary="Submit a new template to Meta for review (checked against Meta's rules first)",
)
async def submit_template(
    data: JSONBody[TemplateCreate],
    principal: NamedDependency[Principal],
    manage_templates: NamedDependency[ManageTemplates],
) -> Envelope[TemplateDetail]:
    template = await manage_templates.submit(
        principal,
        name=data.name,
        language=data.language,
        category=data.category,
        components=data.components,
        parameter_format=data.parameter_format,
        channel_id=data.channel_id,
    )
    return ok(_detail(template), message=f"Submitted to Meta: {template.status}")


@delete(
    f"{PATH}/{{template_id:uuid}}",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=200,
    operation_id="delete_template",
    summary="Delete the template at Meta and here",
)
async def delete_template(
    template_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_templates: NamedDependency[ManageTemplates],
) -> Envelope[TemplateDetail]:
    return ok(_detail(await manage_templates.delete(principal, template_id)), message="Deleted")


@post(
    f"{PATH}/sync",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=200,
    operation_id="sync_templates",
    summary="Bring the stored templates in line with the WABA's templates at Meta (every page)",
)
async def sync(
    principal: NamedDependency[Principal],
    sync_templates: NamedDependency[SyncTemplates],
    data: JSONBody[TemplateSyncRequest | None] = None,
) -> Envelope[TemplateSyncResult]:
    report = await sync_templates.execute(
        principal.tenant_id, channel_id=data.channel_id if data is not None else None
    )
    return ok(
        TemplateSyncResult(
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            removed=report.removed,
            at_meta=report.at_meta,
            pages=report.pages,
            channel_id=report.channel_id,
        ),
        message=f"{report.at_meta} templates at Meta",
    )


@post(
    f"{PATH}/{{template_id:uuid}}/preview",
    guards=AGENT,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=200,
    operation_id="preview_template",
    summary="The header, body, footer and buttons a send with these parameters would show",
)
async def preview(
    template_id: FromPath[UUID],
    data: JSONBody[TemplatePreviewRequest],
    principal: NamedDependency[Principal],
    manage_templates: NamedDependency[ManageTemplates],
) -> Envelope[TemplatePreview]:
    rendered = await manage_templates.preview(principal, template_id, data.components)
    return ok(TemplatePreview(**rendered))


ROUTES = [list_templates, get_template, submit_template, delete_template, sync, preview]
