"""Sending: `POST /api/v1/messages` (any type, as Meta names it) and the seed's `POST /api/send/text`."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Response, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from pywhatsapp.application.messaging.send_message import SendMessage, SendOutcome, SendRequest
from pywhatsapp.application.messaging.upload_media import UploadMedia
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.media import MAX_MEDIA_BYTES
from pywhatsapp.entrypoints.http.envelope import Envelope, ok
from pywhatsapp.entrypoints.http.schemas import MessageRead, present

Phone = Annotated[str, msgspec.Meta(min_length=5, max_length=32)]
Payload = dict[str, Any]


class Context(msgspec.Struct):
    message_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class SendMessageBody(msgspec.Struct, forbid_unknown_fields=True):
    """`{"to", "type", "<type>": {...}}` with the type's object as Meta's Cloud API names it; `group_id`
    (a group of `/api/v1/groups`) instead of `to` sends to a WhatsApp group."""

    to: Phone | None = None
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=20)] = "text"
    text: Payload | Annotated[str, msgspec.Meta(max_length=4096)] | None = None
    image: Payload | None = None
    video: Payload | None = None
    audio: Payload | None = None
    document: Payload | None = None
    sticker: Payload | None = None
    location: Payload | None = None
    contacts: list[Payload] | None = None
    reaction: Payload | None = None
    interactive: Payload | None = None
    template: Payload | None = None
    context: Context | None = None
    preview_url: bool | None = None
    channel_id: UUID | None = None
    messaging_product: str | None = None
    recipient_type: str | None = None
    group_id: UUID | None = None


class SendTextBody(msgspec.Struct):
    to: Phone
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
    preview_url: bool = False


def send_request(body: SendMessageBody) -> SendRequest:
    payload: Any = getattr(body, body.type, None) if body.type in SendMessageBody.__struct_fields__ else None
    if body.type == "text" and isinstance(payload, str):
        payload = {"body": payload}
    if body.type == "text" and isinstance(payload, dict) and body.preview_url is not None:
        payload = {**payload, "preview_url": body.preview_url}
    if payload is None:
        raise InvalidInput(
            f"A {body.type} message needs a '{body.type}' object, as Meta's Cloud API names it"
        )
    if (body.to is None) == (body.group_id is None):
        raise InvalidInput("Give either 'to' (a phone number) or 'group_id' (a group), not both")
    return SendRequest(
        to=body.to or "",
        type=body.type,
        payload=payload,
        context_wamid=body.context.message_id if body.context else None,
        channel_id=body.channel_id,
        group_id=body.group_id,
    )


def _answer(outcome: SendOutcome) -> Response[Envelope[MessageRead]]:
    if outcome.delivered_to_meta:
        return Response(
            ok(present(outcome.message, MessageRead), message="Sent"), status_code=HTTP_201_CREATED
        )
    return Response(
        ok(
            present(outcome.message, MessageRead),
            message="Meta did not answer; the status will follow by webhook",
        ),
        status_code=HTTP_202_ACCEPTED,
    )


@post(
    "/api/v1/messages",
    tags=["messages"],
    summary="Send a message (text, media, location, contacts, "
    "reaction, interactive, template; replies with context)",
)
async def send_message(
    data: JSONBody[SendMessageBody],
    principal: NamedDependency[Principal],
    send_message: NamedDependency[SendMessage],
) -> Response[Envelope[MessageRead]]:
    return _answer(await send_message.execute(principal, send_request(data)))


@post("/api/send/text", tags=["messages"], summary="Send a text (the seed's endpoint)")
async def send_text(
    data: JSONBody[SendTextBody],
    principal: NamedDependency[Principal],
    send_message: NamedDependency[SendMessage],
) -> Response[Envelope[MessageRead]]:
    request = SendRequest(
        to=data.to, type="text", payload={"body": data.text, "preview_url": data.preview_url}
    )
    return _answer(await send_message.execute(principal, request))


class MediaUploaded(msgspec.Struct):
    id: str
    kind: str
    mime_type: str
    size: int


@post(
    "/api/v1/media",
    tags=["messages"],
    status_code=HTTP_201_CREATED,
    summary='Upload a file for sending; send it with {"type": kind, kind: {"id": id}}',
    request_max_body_size=MAX_MEDIA_BYTES + 1024 * 1024,
)
async def upload_media(
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    principal: NamedDependency[Principal],
    upload_media: NamedDependency[UploadMedia],
    kind: Annotated[str | None, QueryParameter(pattern="^(image|video|audio|document|sticker)$")] = None,
) -> Envelope[MediaUploaded]:
    upload = data.get("data")
    if not isinstance(upload, UploadFile):
        raise InvalidInput("Send the file as the multipart form field 'data'")
    uploaded = await upload_media.execute(
        principal,
        data=await upload.read(),
        mime_type=upload.content_type or "",
        filename=upload.filename or "file",
        kind=kind,
    )
    return ok(
        MediaUploaded(id=uploaded.id, kind=uploaded.kind, mime_type=uploaded.mime_type, size=uploaded.size),
        message="Uploaded",
    )
