"""/chat: the conversation list, a thread, and the composer (text, media, templates, reactions, replies).

The page is rendered whole in one request; htmx then fetches partials (`/chat/list`, `/chat/{id}/thread`)
when the socket announces a change. Writes are form posts under /chat with the CSRF token, calling the
same use cases as the JSON API (which takes the session cookie for GET only).
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Template

from pywhatsapp.application.inbox.mark_conversation_read import MarkConversationRead
from pywhatsapp.application.inbox.read_models import ConversationSummary, InboxReader
from pywhatsapp.application.messaging.send_message import SendMessage, SendRequest
from pywhatsapp.application.messaging.upload_media import UploadMedia
from pywhatsapp.application.templates.manage_templates import ManageTemplates
from pywhatsapp.application.templates.ports import TemplateFilter
from pywhatsapp.domain.errors import DomainError, InvalidInput, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.media import MAX_MEDIA_BYTES
from pywhatsapp.domain.templates.parameters import component_of, uses_named_parameters, variables
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.page_context import page_context
from pywhatsapp.entrypoints.http.pages.chat_view import bubbles, conversation_row

LIST_SIZE = 50
THREAD_SIZE = 60
REACTIONS = ("👍", "❤️", "😂", "😮", "🙏")
TEMPLATES = {"manage_templates": from_container("manage_templates")}


async def _rows(reader: InboxReader, principal: Principal, q: str | None) -> list[Any]:
    page = await reader.conversations(principal.tenant_id, limit=LIST_SIZE, after=None, search=q or None)
    return [conversation_row(s) for s in page.items]


async def _conversation(
    reader: InboxReader, principal: Principal, conversation_id: UUID
) -> ConversationSummary:
    summary = await reader.conversation(principal.tenant_id, conversation_id)
    if summary is None:
        raise NotFound(f"No conversation {conversation_id} in this tenant")
    return summary


async def _thread_context(
    reader: InboxReader, principal: Principal, summary: ConversationSummary
) -> dict[str, Any]:
    page = await reader.thread(principal.tenant_id, summary.id, limit=THREAD_SIZE, before=None)
    return {
        "conversation": conversation_row(summary),
        "bubbles": bubbles(page.items),
        "more": page.next_cursor is not None,
        "reactions": REACTIONS,
    }


def template_options(templates: list[MessageTemplate]) -> list[dict[str, Any]]:
    """Each approved template with the values its header and body ask for, for the composer's form."""
    options = []
    for template in templates:
        header = component_of(template.components, "HEADER") or {}
        header_text = header.get("text") if str(header.get("format", "")).upper() == "TEXT" else None
        body_text = (component_of(template.components, "BODY") or {}).get("text")
        options.append(
            {
                "value": f"{template.name}|{template.language}",
                "label": f"{template.name} ({template.language})",
                "body": body_text or "",
                "params": json.dumps(
                    {
                        "header": variables(header_text if isinstance(header_text, str) else None),
                        "body": variables(body_text if isinstance(body_text, str) else None),
                    }
                ),
            }
        )
    return options


async def _approved_templates(
    manage_templates: ManageTemplates, principal: Principal
) -> list[MessageTemplate]:
    page = await manage_templates.list(principal, TemplateFilter(status="APPROVED"), limit=200)
    return page.items


@get("/chat", include_in_schema=False, dependencies=TEMPLATES)
async def chat_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    q: FromQuery[str | None] = None,
) -> Template:
    context = await page_context(
        request, principal, nav="chat", rows=await _rows(inbox_reader, principal, q), q=q or ""
    )
    return Template("chat.html", context={**context, "conversation": None})


@get("/chat/list", include_in_schema=False)
async def chat_list(
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    q: FromQuery[str | None] = None,
    active: FromQuery[UUID | None] = None,
) -> Template:
    rows = await _rows(inbox_reader, principal, q)
    return Template("chat/_list.html", context={"rows": rows, "active_id": active})


@get("/chat/{conversation_id:uuid}", include_in_schema=False, dependencies=TEMPLATES)
async def conversation_page(
    request: Request[Any, Any, Any],
    conversation_id: UUID,
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    manage_templates: NamedDependency[ManageTemplates],
    q: FromQuery[str | None] = None,
) -> Template:
    summary = await _conversation(inbox_reader, principal, conversation_id)
    context = await page_context(
        request,
        principal,
        nav="chat",
        rows=await _rows(inbox_reader, principal, q),
        q=q or "",
        templates=template_options(await _approved_templates(manage_templates, principal)),
        max_media_bytes=MAX_MEDIA_BYTES,
        **await _thread_context(inbox_reader, principal, summary),
    )
    return Template("chat.html", context=context)


@get("/chat/{conversation_id:uuid}/thread", include_in_schema=False)
async def conversation_thread(
    conversation_id: UUID, principal: NamedDependency[Principal], inbox_reader: NamedDependency[InboxReader]
) -> Template:
    summary = await _conversation(inbox_reader, principal, conversation_id)
    return Template("chat/_thread.html", context=await _thread_context(inbox_reader, principal, summary))


@post("/chat/{conversation_id:uuid}/read", include_in_schema=False, status_code=204)
async def read_conversation(
    conversation_id: UUID,
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    mark_conversation_read: NamedDependency[MarkConversationRead],
) -> None:
    await _conversation(inbox_reader, principal, conversation_id)
    await mark_conversation_read.execute(principal, conversation_id)


def _text(form: dict[str, Any], name: str, limit: int = 4096) -> str:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return ""
    text = str(value[-1] if isinstance(value, list) else value).strip()
    if len(text) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters")
    return text


def _template_request(form: dict[str, Any], wa_id: str, named: dict[str, bool]) -> SendRequest:
    name, _, language = _text(form, "template", 600).partition("|")
    if not name or not language:
        raise InvalidInput("Choose a template")
    components = []
    for part in ("header", "body"):
        names = json.loads(_text(form, f"{part}_names", 4000) or "[]")
        values = [_text(form, f"{part}_{index}", 1024) for index in range(len(names))]
        if any(not value for value in values):
            raise InvalidInput(f"Fill in every {part} parameter of the template")
        if values:
            parameters = [
                {"type": "text", "text": value, **({"parameter_name": str(n)} if named.get(name) else {})}
                for n, value in zip(names, values, strict=True)
            ]
            components.append({"type": part, "parameters": parameters})
    payload: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components:
        payload["components"] = components
    return SendRequest(to=wa_id, type="template", payload=payload)


async def _send_request(
    form: dict[str, Any],
    summary: ConversationSummary,
    principal: Principal,
    upload_media: UploadMedia,
    manage_templates: ManageTemplates,
) -> SendRequest:
    wa_id = summary.contact.wa_id
    mode = _text(form, "mode", 20) or "text"
    reply_to = _text(form, "reply_to", 200) or None
    if mode == "template":
        templates = await _approved_templates(manage_templates, principal)
        named = {t.name: uses_named_parameters(t.components, t.parameter_format) for t in templates}
        return _template_request(form, wa_id, named)
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        uploaded = await upload_media.execute(
            principal, data=data, mime_type=upload.content_type or "", filename=upload.filename, kind=None
        )
        media: dict[str, Any] = {"id": uploaded.id}
        caption = _text(form, "body", 1024)
        if caption and uploaded.kind in ("image", "video", "document"):
            media["caption"] = caption
        if uploaded.kind == "document":
            media["filename"] = upload.filename
        return SendRequest(to=wa_id, type=uploaded.kind, payload=media, context_wamid=reply_to)
    body = _text(form, "body")
    if not body:
        raise InvalidInput("Write a message, attach a file or choose a template")
    return SendRequest(to=wa_id, type="text", payload={"body": body}, context_wamid=reply_to)


def _composer_error(message: str) -> Response[str]:
    """htmx puts this into the composer's error line instead of the thread."""
    return Response(
        content=message,
        media_type="text/plain",
        status_code=200,
        headers={"HX-Retarget": "#composer-error", "HX-Reswap": "textContent"},
    )


@post(
    "/chat/{conversation_id:uuid}/send",
    include_in_schema=False,
    dependencies=TEMPLATES,
    request_max_body_size=MAX_MEDIA_BYTES + 1024 * 1024,
)
async def send_from_composer(
    conversation_id: UUID,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    send_message: NamedDependency[SendMessage],
    upload_media: NamedDependency[UploadMedia],
    manage_templates: NamedDependency[ManageTemplates],
) -> Template | Response[str]:
    summary = await _conversation(inbox_reader, principal, conversation_id)
    try:
        request = await _send_request(data, summary, principal, upload_media, manage_templates)
        await send_message.execute(principal, request)
    except DomainError as error:
        return _composer_error(error.message)
    return Template("chat/_thread.html", context=await _thread_context(inbox_reader, principal, summary))


@post("/chat/{conversation_id:uuid}/react", include_in_schema=False)
async def react(
    conversation_id: UUID,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    send_message: NamedDependency[SendMessage],
) -> Template | Response[str]:
    summary = await _conversation(inbox_reader, principal, conversation_id)
    wamid, emoji = _text(data, "message_id", 200), _text(data, "emoji", 16)
    if not wamid:
        return _composer_error("Choose a message to react to")
    request = SendRequest(
        to=summary.contact.wa_id, type="reaction", payload={"message_id": wamid, "emoji": emoji}
    )
    try:
        await send_message.execute(principal, request)
    except DomainError as error:
        return _composer_error(error.message)
    return Template("chat/_thread.html", context=await _thread_context(inbox_reader, principal, summary))


ROUTES = [
    chat_page,
    chat_list,
    conversation_page,
    conversation_thread,
    read_conversation,
    send_from_composer,
    react,
]
