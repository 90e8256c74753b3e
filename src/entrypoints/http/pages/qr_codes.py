"""The /qr-codes page: the tenant's message QR codes (Meta's `message_qrdls`) with their images, deep links
and how many inbound messages came through each. The same use case as `/api/v1/qr-codes`: creating,
changing and deleting a code is for administrators; agents look."""

from __future__ import annotations

import re
from typing import Any

from litestar import MediaType, Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from pywhatsapp.application.common.list_records import ListRecords
from pywhatsapp.application.qr_codes.manage_qr_codes import ManageQrCodes
from pywhatsapp.domain.errors import InvalidInput, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.qr_codes.qr_code import IMAGE_CONTENT_TYPES, MAX_PREFILLED_MESSAGE
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.page_context import page_context
from pywhatsapp.entrypoints.http.pages.flows import web_link
from pywhatsapp.entrypoints.http.pages.forms import (
    PAGE_ERRORS,
    Form,
    fragment_or_back,
    is_admin,
    is_htmx,
    read_form,
)
from pywhatsapp.entrypoints.http.security import requires

LISTED = 200
NO_MESSAGE = f"Write the message the customer's chat opens with (at most {MAX_PREFILLED_MESSAGE} characters)."
ADMIN = [requires(Role.ADMIN)]
CODE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def _message(form: Form) -> str:
    message = form.text("prefilled_message", max_length=MAX_PREFILLED_MESSAGE * 2)
    if message is None:
        raise InvalidInput(NO_MESSAGE)
    return message


def _code(code: str) -> str:
    if not CODE.match(code):
        raise NotFound(f"No QR code {code[:100]!r} in this tenant")
    return code


async def _channels(principal: Principal, channels: ListRecords[Any]) -> list[Any]:
    page = await channels.execute(principal, limit=LISTED)
    return [channel for channel in page.items if channel.is_active]


async def _list(
    principal: Principal, qr_codes: ManageQrCodes, channels: ListRecords[Any], **extra: Any
) -> dict[str, Any]:
    page = await qr_codes.list(principal, limit=LISTED, offset=0)
    active = await _channels(principal, channels)
    return {
        "qr_codes": page.items,
        "total": page.total,
        "is_admin": is_admin(principal),
        "channel_names": {c.id: c.display_phone_number or c.name for c in active} if len(active) > 1 else {},
        "web_link": web_link,
        **extra,
    }


@get("/qr-codes", media_type=MediaType.HTML)
async def qr_codes_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
    list_channels: NamedDependency[ListRecords[Any]],
) -> Template:
    listing = await _list(principal, manage_qr_codes, list_channels)
    if is_htmx(request):
        return Template("admin/_qr_code_list.html", context=listing)
    context = await page_context(
        request,
        principal,
        nav="qr-codes",
        channels=await _channels(principal, list_channels),
        formats=list(IMAGE_CONTENT_TYPES),
        max_message=MAX_PREFILLED_MESSAGE,
        **listing,
    )
    return Template("admin/qr_codes.html", context=context)


@post("/qr-codes", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def create_qr_code(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
    list_channels: NamedDependency[ListRecords[Any]],
) -> Template | Redirect:
    form = await read_form(request)
    made = await manage_qr_codes.create(
        principal,
        message=_message(form),
        fmt=form.text("image_format", max_length=10) or "PNG",
        channel_id=form.uuid("channel_id"),
    )
    notice = f"QR code {made.code} created at Meta: print it or share its link."
    listing = await _list(principal, manage_qr_codes, list_channels, notice=notice)
    return fragment_or_back(request, "admin/_qr_code_list.html", listing, "/qr-codes")


@post("/qr-codes/sync", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def sync_qr_codes(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
    list_channels: NamedDependency[ListRecords[Any]],
) -> Template | Redirect:
    report = await manage_qr_codes.sync(principal)
    notice = f"Synced with Meta: {report.created} new · {report.updated} changed · {report.removed} removed."
    listing = await _list(principal, manage_qr_codes, list_channels, notice=notice)
    return fragment_or_back(request, "admin/_qr_code_list.html", listing, "/qr-codes")


@post("/qr-codes/{code:str}", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def update_qr_code(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
    list_channels: NamedDependency[ListRecords[Any]],
) -> Template | Redirect:
    form = await read_form(request)
    changed = await manage_qr_codes.update(
        principal,
        _code(code),
        message=_message(form),
    )
    notice = f"QR code {changed.code} now opens the chat with “{changed.prefilled_message}”."
    listing = await _list(principal, manage_qr_codes, list_channels, notice=notice)
    return fragment_or_back(request, "admin/_qr_code_list.html", listing, "/qr-codes")


@post("/qr-codes/{code:str}/delete", status_code=200, guards=ADMIN, media_type=MediaType.HTML)
async def delete_qr_code(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
    list_channels: NamedDependency[ListRecords[Any]],
) -> Template | Redirect:
    gone = await manage_qr_codes.delete(principal, _code(code))
    notice = f"QR code {gone.code} deleted at Meta and here: printed copies no longer open a chat."
    listing = await _list(principal, manage_qr_codes, list_channels, notice=notice)
    return fragment_or_back(request, "admin/_qr_code_list.html", listing, "/qr-codes")


ROUTES = [
    Router(
        path="/",
        route_handlers=[qr_codes_page, create_qr_code, sync_qr_codes, update_qr_code, delete_qr_code],
        dependencies={
            "manage_qr_codes": from_container("manage_qr_codes"),
            "list_channels": from_container("list_channels"),
        },
        exception_handlers=PAGE_ERRORS,
        include_in_schema=False,
        guards=[requires(Role.AGENT)],
    )
]
