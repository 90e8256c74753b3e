"""`/api/v1/qr-codes`: message QR codes of the tenant's phone numbers (Meta's `message_qrdls`), their
images, and how many inbound messages came through each."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from pywhatsapp.application.common.list_records import MAX_OFFSET, MAX_PAGE_SIZE
from pywhatsapp.application.qr_codes.manage_qr_codes import ManageQrCodes
from pywhatsapp.domain.errors import NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.qr_codes.qr_code import MAX_PREFILLED_MESSAGE, QrCode
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.envelope import Envelope, ListPage, ok
from pywhatsapp.entrypoints.http.schemas import NO_NUL
from pywhatsapp.entrypoints.http.security import requires

TAGS = ["qr_codes"]
ADMIN = [requires(Role.ADMIN)]
AGENT = [requires(Role.AGENT)]
DEPENDENCIES = {"manage_qr_codes": from_container("manage_qr_codes")}
CODE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")

PrefilledMessage = Annotated[
    str, msgspec.Meta(min_length=1, max_length=MAX_PREFILLED_MESSAGE * 2, pattern=NO_NUL)
]


class QrCodeCreate(msgspec.Struct, forbid_unknown_fields=True):
    prefilled_message: PrefilledMessage
    """At most 140 characters (trimmed): what the customer's chat opens with."""
    image_format: Literal["PNG", "SVG"] = "PNG"
    channel_id: UUID | None = None
    """The phone number's channel; the tenant's sending channel if not given."""


class QrCodeUpdate(msgspec.Struct, forbid_unknown_fields=True):
    prefilled_message: PrefilledMessage


class QrCodeRead(msgspec.Struct):
    id: UUID
    code: str
    channel_id: UUID
    prefilled_message: str
    deep_link_url: str
    image_format: str
    image_url: str
    """This API's URL of the image (PNG or SVG)."""
    image_stored: bool
    messages: int
    """Inbound messages that came from this code."""
    last_message_at: datetime | None
    created_at: datetime
    updated_at: datetime


class QrSyncRead(msgspec.Struct):
    created: int
    updated: int
    removed: int


def _read(qr_code: QrCode) -> QrCodeRead:
    return QrCodeRead(
        id=qr_code.id,
        code=qr_code.code,
        channel_id=qr_code.channel_id,
        prefilled_message=qr_code.prefilled_message,
        deep_link_url=qr_code.deep_link_url,
        image_format=qr_code.image_format,
        image_url=f"/api/v1/qr-codes/{qr_code.code}/image",
        image_stored=qr_code.image is not None,
        messages=qr_code.message_count,
        last_message_at=qr_code.last_message_at,
        created_at=qr_code.created_at,
        updated_at=qr_code.updated_at,
    )


def _code(code: str) -> str:
    if not CODE.match(code):
        raise NotFound(f"No QR code {code[:100]!r} in this tenant")
    return code


@post(
    "/api/v1/qr-codes",
    tags=TAGS,
    summary="Create a message QR code at Meta (PNG or SVG image, kept here; admin role)",
    guards=ADMIN,
    dependencies=DEPENDENCIES,
    status_code=HTTP_201_CREATED,
)
async def create_qr_code(
    data: JSONBody[QrCodeCreate],
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
) -> Envelope[QrCodeRead]:
    qr_code = await manage_qr_codes.create(
        principal, message=data.prefilled_message, fmt=data.image_format, channel_id=data.channel_id
    )
    return ok(_read(qr_code), message="Created")


@get(
    "/api/v1/qr-codes",
    tags=TAGS,
    summary="The tenant's QR codes with their message counts, newest first (`sync=true` asks Meta first)",
    guards=AGENT,
    dependencies=DEPENDENCIES,
)
async def list_qr_codes(
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
    sync: Annotated[
        bool, QueryParameter(description="Take Meta's list of the phone number's codes first (admin)")
    ] = False,
) -> Envelope[ListPage[QrCodeRead]]:
    if sync:
        principal.require(Role.ADMIN)
        await manage_qr_codes.sync(principal)
    page = await manage_qr_codes.list(principal, limit=limit, offset=offset)
    return ok(ListPage(items=[_read(q) for q in page.items], total=page.total, limit=limit, offset=offset))


@post(
    "/api/v1/qr-codes/sync",
    tags=TAGS,
    summary="Take Meta's list of the phone number's QR codes as the truth (admin role)",
    guards=ADMIN,
    dependencies=DEPENDENCIES,
    status_code=200,
)
async def sync_qr_codes(
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
    channel_id: Annotated[UUID | None, QueryParameter(description="The phone number's channel")] = None,
) -> Envelope[QrSyncRead]:
    report = await manage_qr_codes.sync(principal, channel_id=channel_id)
    return ok(QrSyncRead(created=report.created, updated=report.updated, removed=report.removed))


@get(
    "/api/v1/qr-codes/{code:str}",
    tags=TAGS,
    summary="One QR code (`refresh=true` reads it from Meta first)",
    guards=AGENT,
    dependencies=DEPENDENCIES,
)
async def get_qr_code(
    code: FromPath[str],
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
    refresh: Annotated[bool, QueryParameter(description="Read it from Meta first")] = False,
) -> Envelope[QrCodeRead]:
    return ok(_read(await manage_qr_codes.get(principal, _code(code), refresh=refresh)))


@patch(
    "/api/v1/qr-codes/{code:str}",
    tags=TAGS,
    summary="Change a QR code's prefilled message at Meta (admin role)",
    guards=ADMIN,
    dependencies=DEPENDENCIES,
)
async def update_qr_code(
    code: FromPath[str],
    data: JSONBody[QrCodeUpdate],
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
) -> Envelope[QrCodeRead]:
    qr_code = await manage_qr_codes.update(principal, _code(code), message=data.prefilled_message)
    return ok(_read(qr_code), message="Updated")


@delete(
    "/api/v1/qr-codes/{code:str}",
    tags=TAGS,
    summary="Delete a QR code at Meta and here (admin role)",
    guards=ADMIN,
    dependencies=DEPENDENCIES,
    status_code=200,
)
async def delete_qr_code(
    code: FromPath[str],
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
) -> Envelope[QrCodeRead]:
    return ok(_read(await manage_qr_codes.delete(principal, _code(code))), message="Deleted")


@get(
    "/api/v1/qr-codes/{code:str}/image",
    tags=TAGS,
    summary="The QR code's image, image/png or image/svg+xml (downloaded from Meta if not kept yet)",
    guards=AGENT,
    dependencies=DEPENDENCIES,
    media_type="image/png",
)
async def qr_code_image(
    code: FromPath[str],
    principal: NamedDependency[Principal],
    manage_qr_codes: NamedDependency[ManageQrCodes],
) -> Response[bytes]:
    image, content_type = await manage_qr_codes.image(principal, _code(code))
    safe = code.replace('"', "")
    extension = "svg" if content_type == "image/svg+xml" else "png"
    return Response(
        content=image,
        media_type=content_type,
        headers={
            "Content-Disposition": f'inline; filename="qr-{safe}.{extension}"',
            # An SVG is a document: never let it run script on this origin.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
        },
    )


ROUTES = [
    create_qr_code,
    list_qr_codes,
    sync_qr_codes,
    get_qr_code,
    update_qr_code,
    delete_qr_code,
    qr_code_image,
]
