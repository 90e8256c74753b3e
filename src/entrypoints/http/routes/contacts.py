"""`/api/v1/contacts`: the tenant's contacts, searched and changed, imported from CSV and exported to it.

Numbers come in any format (`+1 (415) 555-0100`, `0044 20 7946 0000`, `14155550100`, or national in
DEFAULT_PHONE_REGION) and are stored as the WhatsApp id (E.164 digits without '+'). Agents read, create
and change contacts; deleting, importing and exporting need the admin role.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_202_ACCEPTED

from pywhatsapp.application.common.list_records import MAX_OFFSET, MAX_PAGE_SIZE
from pywhatsapp.application.contacts.export_contacts import ExportContacts
from pywhatsapp.application.contacts.import_contacts import (
    MAX_FILE_BYTES,
    ContactImportJobs,
    ContactImportScheduler,
    StartContactImport,
)
from pywhatsapp.application.contacts.manage_contacts import ContactChanges, ManageContacts, NewContact
from pywhatsapp.application.contacts.ports import ContactQuery
from pywhatsapp.domain.contacts.contact_import import ContactImport
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.envelope import Envelope, ListPage, ok
from pywhatsapp.entrypoints.http.routes.paging import list_page
from pywhatsapp.entrypoints.http.schemas import ContactRead, present
from pywhatsapp.entrypoints.http.security import requires

AGENT = [requires(Role.AGENT)]
ADMIN = [requires(Role.ADMIN)]
CONTACTS = {"manage_contacts": from_container("manage_contacts")}
IMPORTS = {
    "start_contact_import": from_container("start_contact_import"),
    "contact_import_scheduler": from_container("contact_import_scheduler"),
    "contact_import_jobs": from_container("contact_import_jobs"),
}
Text = Annotated[str, msgspec.Meta(max_length=200)]
Tag = Annotated[str, msgspec.Meta(max_length=64)]
Phone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=100)]
Attributes = Annotated[dict[Annotated[str, msgspec.Meta(max_length=64)], Any], msgspec.Meta(max_length=50)]


class ContactCreate(msgspec.Struct, forbid_unknown_fields=True):
    phone: Phone | None = None
    """The number in any format; `wa_id` is accepted as its synonym."""
    wa_id: Phone | None = None
    name: Text | None = None
    tags: Tags = msgspec.field(default_factory=list)
    attributes: Attributes = msgspec.field(default_factory=dict)
    opted_out: bool = False


class ContactUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change; `"name": ""` clears the name; `attributes` replaces them all."""

    phone: Phone | None = None
    name: Text | None = None
    tags: Tags | None = None
    attributes: Attributes | None = None
    opted_out: bool | None = None


class ImportRead(msgspec.Struct):
    id: UUID
    status: str
    filename: str | None
    mapping: dict[str, Any]
    default_region: str
    total_rows: int
    processed: int
    created: int
    updated: int
    rejected: int
    report: list[dict[str, Any]]
    """Each rejected row: its number in the file (the header is row 1), the phone as written, a code
    (missing_phone, bad_number, duplicate_in_file, bad_value) and the reason in words."""
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime


def present_import(job: ContactImport) -> ImportRead:
    return ImportRead(
        id=job.id,
        status=job.status.value,
        filename=job.filename,
        mapping=job.mapping,
        default_region=job.default_region,
        total_rows=job.total_rows,
        processed=job.processed,
        created=job.created,
        updated=job.updated,
        rejected=job.rejected,
        report=job.report,
        error=job.error,
        started_at=job.started_at,
        finished_at=job.finished_at,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


@get(
    "/api/v1/contacts",
    tags=["contacts"],
    guards=AGENT,
    operation_id="list_contacts",
    dependencies=CONTACTS,
    summary="The tenant's contacts, newest first; search by name or number, tag, opt-out state",
)
async def list_contacts(
    principal: NamedDependency[Principal],
    manage_contacts: NamedDependency[ManageContacts],
    q: Annotated[
        str | None, QueryParameter(max_length=100, description="A substring of the name or the number")
    ] = None,
    tag: Annotated[str | None, QueryParameter(max_length=64, description="Contacts with this tag")] = None,
    opted_out: Annotated[bool | None, QueryParameter(description="Only opted-out (true) or not")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
) -> Envelope[ListPage[ContactRead]]:
    page = await manage_contacts.search(
        principal, ContactQuery(text=q, tag=tag, opted_out=opted_out), limit=limit, offset=offset
    )
    return ok(list_page(page, lambda contact: present(contact, ContactRead)))


@post(
    "/api/v1/contacts",
    tags=["contacts"],
    guards=AGENT,
    status_code=201,
    dependencies=CONTACTS,
    summary="Create a contact; 409 if the number (in any format) belongs to one already",
)
async def create_contact(
    data: JSONBody[ContactCreate],
    principal: NamedDependency[Principal],
    manage_contacts: NamedDependency[ManageContacts],
) -> Envelope[ContactRead]:
    phone = data.phone or data.wa_id
    if not phone:
        raise InvalidInput("phone is required")
    contact = await manage_contacts.create(
        principal,
        NewContact(
            phone=phone, name=data.name, tags=data.tags, attributes=data.attributes, opted_out=data.opted_out
        ),
    )
    return ok(present(contact, ContactRead), message="Created")


@get(
    "/api/v1/contacts/{contact_id:uuid}",
    tags=["contacts"],
    guards=AGENT,
    dependencies=CONTACTS,
    summary="One contact",
)
async def get_contact(
    contact_id: UUID, principal: NamedDependency[Principal], manage_contacts: NamedDependency[ManageContacts]
) -> Envelope[ContactRead]:
    return ok(present(await manage_contacts.get(principal, contact_id), ContactRead))


@patch(
    "/api/v1/contacts/{contact_id:uuid}",
    tags=["contacts"],
    guards=AGENT,
    dependencies=CONTACTS,
    summary="Change a contact (opting out or in records when)",
)
async def update_contact(
    contact_id: UUID,
    data: JSONBody[ContactUpdate],
    principal: NamedDependency[Principal],
    manage_contacts: NamedDependency[ManageContacts],
) -> Envelope[ContactRead]:
    contact = await manage_contacts.update(
        principal,
        contact_id,
        ContactChanges(
            phone=data.phone,
            name=data.name,
            tags=data.tags,
            attributes=data.attributes,
            opted_out=data.opted_out,
        ),
    )
    return ok(present(contact, ContactRead), message="Updated")


@delete(
    "/api/v1/contacts/{contact_id:uuid}",
    tags=["contacts"],
    guards=ADMIN,
    status_code=200,
    dependencies=CONTACTS,
    summary="Delete a contact (admin); its audience memberships go with it",
)
async def delete_contact(
    contact_id: UUID, principal: NamedDependency[Principal], manage_contacts: NamedDependency[ManageContacts]
) -> Envelope[None]:
    await manage_contacts.delete(principal, contact_id)
    return ok(None, message="Deleted")


@get(
    "/api/v1/contacts/export",
    tags=["contacts"],
    guards=ADMIN,
    dependencies={"export_contacts": from_container("export_contacts")},
    summary="Every contact as CSV (admin): phone, name, tags, attributes.<name>..., opt-out; streamed",
    response_description="text/csv",
    media_type="text/csv",
)
async def export_contacts(
    principal: NamedDependency[Principal], export_contacts: NamedDependency[ExportContacts]
) -> Stream:
    chunks = export_contacts.csv_chunks(principal)
    first = await anext(chunks)  # checks the role before the answer starts, so a refusal is a clean 403

    async def body() -> AsyncIterator[str]:
        yield first
        async for chunk in chunks:
            yield chunk

    filename = f"contacts-{principal.tenant_slug}.csv"
    return Stream(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _mapping(raw: Any) -> dict[str, str] | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise InvalidInput('mapping must be a JSON object such as {"phone": "Phone", "name": "Name"}')
    try:
        mapping = json.loads(raw)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise InvalidInput('mapping must be a JSON object such as {"phone": "Phone", "name": "Name"}')
    return {str(key): value for key, value in mapping.items()}


def _text_field(form: dict[str, Any], name: str) -> str | None:
    value = form.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 10:
        raise InvalidInput(f"{name} must be a short text")
    return value


async def _start_import(
    form: dict[str, Any],
    principal: Principal,
    start: StartContactImport,
    scheduler: ContactImportScheduler,
) -> Response[Envelope[ImportRead]]:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("Send the CSV as the multipart form field 'file'")
    job = await start.execute(
        principal,
        data=await upload.read(),
        owner=scheduler.owner,
        filename=upload.filename,
        mapping=_mapping(form.get("mapping")),
        tag_separator=_text_field(form, "tag_separator"),
        default_region=_text_field(form, "default_region"),
        content_type=upload.content_type,
    )
    scheduler.start(job)
    return Response(
        ok(present_import(job), message="Import started; poll the job or listen for contact_import_progress"),
        status_code=HTTP_202_ACCEPTED,
    )


IMPORT_DESCRIPTION = (
    "Multipart form: `file` (CSV, UTF-8, or an Excel xlsx workbook, whose first sheet is read; the first "
    "row names the columns; other files are refused with 415), optional `mapping` (JSON object: "
    '`{"phone": "<column>", "name": "<column>", "tags": "<column>", "attributes.<name>": "<column>"}`; '
    "without it, columns named phone, name and tags are used), `tag_separator` (default `,`), "
    "`default_region` (default DEFAULT_PHONE_REGION). Existing contacts are updated: a name given replaces "
    "theirs, tags are added, attributes given replace those of the same name; opt-out is never changed."
)


@post(
    "/api/v1/contacts/imports",
    tags=["contacts"],
    guards=ADMIN,
    status_code=HTTP_202_ACCEPTED,
    dependencies=IMPORTS,
    request_max_body_size=MAX_FILE_BYTES + 64 * 1024,
    summary="Import contacts from a CSV or xlsx file (admin): answers with the job, runs in the background",
    description=IMPORT_DESCRIPTION,
)
async def start_contact_import(
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    principal: NamedDependency[Principal],
    start_contact_import: NamedDependency[StartContactImport],
    contact_import_scheduler: NamedDependency[ContactImportScheduler],
) -> Response[Envelope[ImportRead]]:
    return await _start_import(data, principal, start_contact_import, contact_import_scheduler)


@post(
    "/api/v1/contacts/import",
    tags=["contacts"],
    guards=ADMIN,
    status_code=HTTP_202_ACCEPTED,
    dependencies=IMPORTS,
    request_max_body_size=MAX_FILE_BYTES + 64 * 1024,
    operation_id="start_contact_import_legacy",
    summary="The same as POST /api/v1/contacts/imports (the name the API contract gives it)",
    description=IMPORT_DESCRIPTION,
)
async def start_contact_import_legacy(
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    principal: NamedDependency[Principal],
    start_contact_import: NamedDependency[StartContactImport],
    contact_import_scheduler: NamedDependency[ContactImportScheduler],
) -> Response[Envelope[ImportRead]]:
    return await _start_import(data, principal, start_contact_import, contact_import_scheduler)


@get(
    "/api/v1/contacts/imports",
    tags=["contacts"],
    guards=ADMIN,
    dependencies=IMPORTS,
    summary="The tenant's contact imports, newest first (admin)",
)
async def list_contact_imports(
    principal: NamedDependency[Principal],
    contact_import_jobs: NamedDependency[ContactImportJobs],
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
) -> Envelope[ListPage[ImportRead]]:
    page = await contact_import_jobs.list(principal, limit=limit, offset=offset)
    return ok(list_page(page, present_import))


@get(
    "/api/v1/contacts/imports/{import_id:uuid}",
    tags=["contacts"],
    guards=ADMIN,
    dependencies=IMPORTS,
    summary="An import's progress and its report of rejected rows (admin)",
)
async def get_contact_import(
    import_id: UUID,
    principal: NamedDependency[Principal],
    contact_import_jobs: NamedDependency[ContactImportJobs],
) -> Envelope[ImportRead]:
    return ok(present_import(await contact_import_jobs.get(principal, import_id)))


ROUTES = [
    list_contacts,
    create_contact,
    export_contacts,
    start_contact_import,
    start_contact_import_legacy,
    list_contact_imports,
    get_contact_import,
    get_contact,
    update_contact,
    delete_contact,
]
