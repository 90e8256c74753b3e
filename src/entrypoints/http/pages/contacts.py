"""The /contacts page: search, create and edit contacts, import a CSV or Excel (xlsx) file with its live
progress, audiences.

Imports are for administrators (as on the API); agents see and edit contacts and audiences.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import MediaType, Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Response, Template

from pywhatsapp.application.common.list_records import MAX_OFFSET
from pywhatsapp.application.contacts.import_contacts import (
    MAX_FILE_BYTES,
    ContactImportJobs,
    ContactImportScheduler,
    StartContactImport,
)
from pywhatsapp.application.contacts.manage_audiences import ManageAudiences
from pywhatsapp.application.contacts.manage_contacts import ContactChanges, ManageContacts, NewContact
from pywhatsapp.application.contacts.ports import ContactQuery
from pywhatsapp.domain.contacts.contact_import import ContactImport
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.page_context import page_context
from pywhatsapp.entrypoints.http.pages.forms import (
    PAGE_ERRORS,
    fragment_or_back,
    is_admin,
    is_htmx,
    read_form,
)
from pywhatsapp.entrypoints.http.security import requires

PAGE_SIZE = 50
Search = Annotated[str, QueryParameter(max_length=100)]


def import_percent(job: ContactImport) -> int:
    return 100 if job.total_rows == 0 else min(100, job.processed * 100 // job.total_rows)


async def _list_context(
    principal: Principal, contacts: ManageContacts, q: str, tag: str, offset: int
) -> dict[str, Any]:
    page = await contacts.search(principal, ContactQuery(text=q, tag=tag), limit=PAGE_SIZE, offset=offset)
    return {
        "contacts": page.items,
        "total": page.total,
        "q": q,
        "tag": tag,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "is_admin": is_admin(principal),
    }


@get("/contacts", media_type=MediaType.HTML)
async def contacts_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_contacts: NamedDependency[ManageContacts],
    manage_audiences: NamedDependency[ManageAudiences],
    contact_import_jobs: NamedDependency[ContactImportJobs],
    q: Search = "",
    tag: Search = "",
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
) -> Template:
    listing = await _list_context(principal, manage_contacts, q, tag, offset)
    if is_htmx(request):
        return Template("admin/_contact_list.html", context=listing)
    audiences = await manage_audiences.page(principal, limit=100)
    imports = (await contact_import_jobs.list(principal, limit=5)).items if is_admin(principal) else []
    context = await page_context(
        request,
        principal,
        nav="contacts",
        **listing,
        audiences=audiences.items,
        imports=imports,
        import_percent=import_percent,
    )
    return Template("admin/contacts.html", context=context)


@post("/contacts", status_code=200, media_type=MediaType.HTML)
async def create_contact(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_contacts: NamedDependency[ManageContacts],
) -> Template | Redirect:
    form = await read_form(request)
    await manage_contacts.create(
        principal,
        NewContact(
            phone=form.required("phone", max_length=40),
            name=form.text("name", max_length=200),
            tags=form.listed("tags", max_length=1000),
        ),
    )
    listing = await _list_context(principal, manage_contacts, "", "", 0)
    return fragment_or_back(request, "admin/_contact_list.html", {**listing, "created": True}, "/contacts")


@get("/contacts/{contact_id:uuid}/row", media_type=MediaType.HTML)
async def contact_row(
    contact_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_contacts: NamedDependency[ManageContacts],
) -> Template:
    contact = await manage_contacts.get(principal, contact_id)
    return Template("admin/_contact_row.html", context={"contact": contact})


@get("/contacts/{contact_id:uuid}/edit", media_type=MediaType.HTML)
async def edit_contact_form(
    contact_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_contacts: NamedDependency[ManageContacts],
) -> Template:
    contact = await manage_contacts.get(principal, contact_id)
    return Template("admin/_contact_edit.html", context={"contact": contact, "is_admin": is_admin(principal)})


@post("/contacts/{contact_id:uuid}", status_code=200, media_type=MediaType.HTML)
async def update_contact(
    request: Request[Any, Any, Any],
    contact_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_contacts: NamedDependency[ManageContacts],
) -> Template | Redirect:
    form = await read_form(request)
    contact = await manage_contacts.update(
        principal,
        contact_id,
        ContactChanges(
            phone=form.required("phone", max_length=40),
            name=form.text("name", max_length=200) or "",
            tags=form.listed("tags", max_length=1000),
            opted_out=form.checked("opted_out"),
        ),
    )
    return fragment_or_back(request, "admin/_contact_row.html", {"contact": contact}, "/contacts")


@post(
    "/contacts/{contact_id:uuid}/delete",
    status_code=200,
    guards=[requires(Role.ADMIN)],
    media_type=MediaType.HTML,
)
async def delete_contact(
    request: Request[Any, Any, Any],
    contact_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_contacts: NamedDependency[ManageContacts],
) -> Response[str] | Redirect:
    await manage_contacts.delete(principal, contact_id)
    if is_htmx(request):
        return Response(content="", media_type="text/html")  # the row's swap removes it
    return Redirect(path="/contacts", status_code=303)


@post(
    "/contacts/imports",
    status_code=200,
    guards=[requires(Role.ADMIN)],
    request_max_body_size=MAX_FILE_BYTES + 64 * 1024,
    media_type=MediaType.HTML,
)
async def start_import(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    start_contact_import: NamedDependency[StartContactImport],
    contact_import_scheduler: NamedDependency[ContactImportScheduler],
) -> Template | Redirect:
    form = await read_form(request)
    upload = form.file("file")
    job = await start_contact_import.execute(
        principal,
        data=await upload.read(),
        owner=contact_import_scheduler.owner,
        filename=upload.filename,
        tag_separator=form.text("tag_separator", max_length=3),
        default_region=form.text("default_region", max_length=3),
        content_type=upload.content_type,  # with the name and the bytes: CSV or workbook, as on the API
    )
    contact_import_scheduler.start(job)
    context = {"job": job, "import_percent": import_percent}
    return fragment_or_back(request, "admin/_import.html", context, "/contacts")


@get("/contacts/imports/{import_id:uuid}", guards=[requires(Role.ADMIN)], media_type=MediaType.HTML)
async def import_card(
    import_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    contact_import_jobs: NamedDependency[ContactImportJobs],
) -> Template:
    job = await contact_import_jobs.get(principal, import_id)
    return Template("admin/_import.html", context={"job": job, "import_percent": import_percent})


async def _audiences(principal: Principal, audiences: ManageAudiences, **extra: Any) -> Template:
    page = await audiences.page(principal, limit=100)
    return Template("admin/_audiences.html", context={"audiences": page.items, **extra})


@post("/contacts/audiences", status_code=200, media_type=MediaType.HTML)
async def create_audience(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_audiences: NamedDependency[ManageAudiences],
) -> Template | Redirect:
    form = await read_form(request)
    tags = form.listed("tags", max_length=1000)
    created = await manage_audiences.create(
        principal,
        name=form.required("name", max_length=200),
        tags=tags or None,
        contact_ids=None if tags else form.uuids("contact_ids"),
    )
    if not is_htmx(request):
        return Redirect(path="/contacts", status_code=303)
    return await _audiences(principal, manage_audiences, created=created.audience.id)


@post("/contacts/audiences/{audience_id:uuid}/delete", status_code=200, media_type=MediaType.HTML)
async def delete_audience(
    request: Request[Any, Any, Any],
    audience_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_audiences: NamedDependency[ManageAudiences],
) -> Template | Redirect:
    await manage_audiences.delete(principal, audience_id)
    if not is_htmx(request):
        return Redirect(path="/contacts", status_code=303)
    return await _audiences(principal, manage_audiences)


ROUTES = [
    Router(
        path="/",
        route_handlers=[
            contacts_page,
            create_contact,
            contact_row,
            edit_contact_form,
            update_contact,
            delete_contact,
            start_import,
            import_card,
            create_audience,
            delete_audience,
        ],
        dependencies={
            "manage_contacts": from_container("manage_contacts"),
            "manage_audiences": from_container("manage_audiences"),
            "contact_import_jobs": from_container("contact_import_jobs"),
            "start_contact_import": from_container("start_contact_import"),
            "contact_import_scheduler": from_container("contact_import_scheduler"),
        },
        exception_handlers=PAGE_ERRORS,
        include_in_schema=False,
        guards=[requires(Role.AGENT)],
    )
]
