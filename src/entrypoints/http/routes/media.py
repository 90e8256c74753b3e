"""`GET /api/v1/messages/{id}/media`: a message's stored file (an inbound file once downloaded, or a file the
business uploaded and sent by its media id), whole, by byte range, or as a thumbnail; 404 (saying the download
state) until it is stored, and for media sent by link."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.openapi import ResponseSpec
from litestar.params import Parameter, QueryParameter

from pywhatsapp.application.media.read_message_media import MediaContent, ReadMessageMedia
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.media.inbound import RangeNotSatisfiable
from pywhatsapp.entrypoints.http.envelope import ErrorEnvelope, error_body

# Shown in the page (img, audio, video); anything else is downloaded, never rendered on our origin.
INLINE_PREFIXES = ("image/", "audio/", "video/")
RANGE_NOT_SATISFIABLE = 416


def _disposition(content: MediaContent) -> str:
    inline = content.content_type.lower().startswith(INLINE_PREFIXES)
    disposition = "inline" if inline else "attachment"
    if content.filename:
        ascii_name = "".join(ch for ch in content.filename if 32 <= ord(ch) < 127 and ch not in '"\\;')
        disposition += f"; filename=\"{ascii_name or 'file'}\"; filename*=UTF-8''{quote(content.filename)}"
    return disposition


@get(
    "/api/v1/messages/{message_id:uuid}/media",
    tags=["messages"],
    summary="A message's stored file, inbound or sent (Range requests answer 206; ?thumbnail=1 for images)",
    media_type="application/octet-stream",
    responses={
        206: ResponseSpec(
            data_container=bytes,
            media_type="application/octet-stream",
            description="A byte range of it",
            generate_examples=False,
        ),
        416: ResponseSpec(
            data_container=ErrorEnvelope, description="The range is outside the file", generate_examples=False
        ),
    },
)
async def message_media(
    message_id: UUID,
    principal: NamedDependency[Principal],
    read_message_media: NamedDependency[ReadMessageMedia],
    thumbnail: Annotated[
        bool, QueryParameter(description="A JPEG of at most 320 pixels a side (images and stickers)")
    ] = False,
    range_header: Annotated[
        str | None, Parameter(header="Range", max_length=200, description="bytes=first-last")
    ] = None,
) -> Response[Any]:
    try:
        content = await read_message_media.execute(
            principal, message_id, range_header=range_header, thumbnail=thumbnail
        )
    except RangeNotSatisfiable as error:
        return Response(
            content=error_body(str(error)),
            status_code=RANGE_NOT_SATISFIABLE,
            media_type=MediaType.JSON,
            headers={"Content-Range": f"bytes */{error.size}"},
        )
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": _disposition(content),
        "Cache-Control": "private, max-age=3600",
        # A customer's file is never run as a page of this origin, whatever its type says.
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }
    if content.sha256:
        headers["ETag"] = f'"{content.sha256}"'
    status = 200
    if content.range is not None:
        first, last = content.range
        headers["Content-Range"] = f"bytes {first}-{last}/{content.size}"
        status = 206
    return Response(
        content=content.data, status_code=status, media_type=content.content_type, headers=headers
    )
