"""/chat: the conversation list, a thread, and the composer (text, media, templates, flows, product,
products, catalog and location-request messages, reactions, replies).

The page is rendered whole in one request; htmx then fetches partials (`/chat/list`, `/chat/{id}/thread`)
when the socket announces a change. Writes are form posts under /chat with the CSRF token, calling the
same use cases as the JSON API (which takes the session cookie for GET only); the interactive messages go
through the JSON API's own body → SendRequest conversion.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Template

from pywhatsapp.application.flows.manage_flows import ManageFlows
from pywhatsapp.application.flows.ports import FlowFilter
from pywhatsapp.application.inbox.mark_conversation_read import MarkConversationRead
from pywhatsapp.application.inbox.read_models import ConversationSummary, InboxReader
from pywhatsapp.application.messaging.send_message import SendMessage, SendRequest
from pywhatsapp.application.messaging.upload_media import UploadMedia
from pywhatsapp.application.templates.manage_templates import ManageTemplates
from pywhatsapp.application.templates.ports import TemplateFilter
from pywhatsapp.domain.errors import DomainError, InvalidInput, NotFound
from pywhatsapp.domain.flows.flow import PUBLISHED, Flow
from pywhatsapp.domain.flows.rules import MAX_CTA, flow_message, flow_token_for
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.interactive import MAX_BODY, MAX_HEADER, MAX_PRODUCTS, MAX_SECTION_TITLE
from pywhatsapp.domain.messaging.media import MAX_MEDIA_BYTES
from pywhatsapp.domain.templates.parameters import component_of, uses_named_parameters, variables
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.page_context import page_context
from pywhatsapp.entrypoints.http.pages.chat_view import bubbles, conversation_row, mentions_flows
from pywhatsapp.entrypoints.http.pages.forms import json_object
from pywhatsapp.entrypoints.http.routes.messages import SendMessageBody
from pywhatsapp.entrypoints.http.routes.messages import send_request as api_send_request

LIST_SIZE = 50
THREAD_SIZE = 60
REACTIONS = ("👍", "❤️", "😂", "😮", "🙏")
TEMPLATES = {"manage_templates": from_container("manage_templates")}
SERVICES = {**TEMPLATES, "manage_flows": from_container("manage_flows")}
INTERACTIVE_MODES = ("flow", "product", "products", "catalog", "location")
MAX_FOOTER = 60
MAX_RETAILER_ID = 100
MAX_FLOW_DATA = 20_000


PHONE_LIKE = re.compile(r"\+?[\d\s().-]+")


def search_term(q: str | None) -> str | None:
    """What the list is searched for: a number as people write it ("+1 555-0100", as the page shows it
    with its "+") by its digits, which is how numbers are stored; anything else as typed."""
    text = (q or "").strip()
    if not text:
        return None
    if PHONE_LIKE.fullmatch(text) and any(ch.isdigit() for ch in text):
        return re.sub(r"\D", "", text)
    return text


async def _rows(reader: InboxReader, principal: Principal, q: str | None) -> list[Any]:
    page = await reader.conversations(principal.tenant_id, limit=LIST_SIZE, after=None, search=search_term(q))
    return [conversation_row(s) for s in page.items]


async def _conversation(
    reader: InboxReader, principal: Principal, conversation_id: UUID
) -> ConversationSummary:
    summary = await reader.conversation(principal.tenant_id, conversation_id)
    if summary is None:
        raise NotFound(f"No conversation {conversation_id} in this tenant")
    return summary


async def _flow_names(manage_flows: ManageFlows, principal: Principal) -> dict[str, str]:
    """The tenant's flows by our id and by Meta's, to name them in flow messages and completions."""
    page = await manage_flows.list(principal, FlowFilter(), limit=200)
    names = {str(flow.id): flow.name for flow in page.items}
    names.update({flow.meta_flow_id: flow.name for flow in page.items if flow.meta_flow_id})
    return names


async def _thread_context(
    reader: InboxReader, principal: Principal, summary: ConversationSummary, manage_flows: ManageFlows
) -> dict[str, Any]:
    page = await reader.thread(principal.tenant_id, summary.id, limit=THREAD_SIZE, before=None)
    names = await _flow_names(manage_flows, principal) if mentions_flows(page.items) else {}
    return {
        "conversation": conversation_row(summary),
        "bubbles": bubbles(page.items, names),
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


def first_screen(flow: Flow) -> str | None:
    """The screen a flow message opens on when the agent names none: the flow JSON's first screen, for a
    flow without a data endpoint (one with an endpoint is asked for its first screen by Meta instead)."""
    spec = flow.flow_json if isinstance(flow.flow_json, dict) else {}
    if flow.endpoint_uri or flow.data_api_version or spec.get("data_api_version"):
        return None
    screens = spec.get("screens")
    first = screens[0] if isinstance(screens, list) and screens else None
    screen_id = first.get("id") if isinstance(first, dict) else None
    return screen_id if isinstance(screen_id, str) and screen_id else None


def flow_options(flows: list[Flow]) -> list[dict[str, str]]:
    """Each published flow for the composer's Flow mode: our id, its name, the screen it opens on."""
    return [
        {"value": str(flow.id), "label": flow.name, "screen": first_screen(flow) or ""}
        for flow in flows
        if flow.status == PUBLISHED and flow.meta_flow_id
    ]


async def _published_flows(manage_flows: ManageFlows, principal: Principal) -> list[Flow]:
    page = await manage_flows.list(principal, FlowFilter(status=PUBLISHED), limit=200)
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
    return Template("chat/_list.html", context={"rows": rows, "active_id": active, "q": (q or "").strip()})


@get("/chat/{conversation_id:uuid}", include_in_schema=False, dependencies=SERVICES)
async def conversation_page(
    request: Request[Any, Any, Any],
    conversation_id: UUID,
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    manage_templates: NamedDependency[ManageTemplates],
    manage_flows: NamedDependency[ManageFlows],
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
        flows=flow_options(await _published_flows(manage_flows, principal)),
        max_media_bytes=MAX_MEDIA_BYTES,
        **await _thread_context(inbox_reader, principal, summary, manage_flows),
    )
    return Template("chat.html", context=context)


@get("/chat/{conversation_id:uuid}/thread", include_in_schema=False, dependencies=SERVICES)
async def conversation_thread(
    conversation_id: UUID,
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    manage_flows: NamedDependency[ManageFlows],
) -> Template:
    summary = await _conversation(inbox_reader, principal, conversation_id)
    context = await _thread_context(inbox_reader, principal, summary, manage_flows)
    return Template("chat/_thread.html", context=context)


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


def api_request(wa_id: str, kind: str, payload: dict[str, Any], reply_to: str | None) -> SendRequest:
    """The SendRequest `POST /api/v1/messages` makes of the same JSON body, by the API's own conversion."""
    body: dict[str, Any] = {"to": wa_id, "type": kind, kind: payload}
    if reply_to:
        body["context"] = {"message_id": reply_to}
    try:
        parsed = msgspec.convert(body, SendMessageBody)
    except msgspec.ValidationError as error:
        raise InvalidInput(f"The message is not valid: {error}") from error
    return api_send_request(parsed)


async def _flow_interactive(
    form: dict[str, Any], principal: Principal, manage_flows: ManageFlows
) -> dict[str, Any]:
    chosen = _text(form, "flow", 100)
    try:
        flow_id = UUID(chosen)
    except ValueError:
        raise InvalidInput("Choose a published flow") from None
    flow = await manage_flows.get(principal, flow_id)
    if flow.status != PUBLISHED or not flow.meta_flow_id:
        raise InvalidInput(f"The flow “{flow.name}” is not published: only published flows can be sent")
    cta = _text(form, "flow_cta", MAX_CTA)
    body = _text(form, "flow_body", MAX_BODY)
    if not cta or not body:
        raise InvalidInput("Write the flow's button text and the message text")
    screen = _text(form, "flow_screen", 200) or first_screen(flow)
    data = json_object(_text(form, "flow_data", MAX_FLOW_DATA), "The first screen's data")
    if data and not screen:
        raise InvalidInput("Name the first screen the data is for")
    return flow_message(
        meta_flow_id=flow.meta_flow_id,
        body=body,
        cta=cta,
        token=_text(form, "flow_token", 200) or flow_token_for(flow.id),
        screen=screen,
        data=data,
    )


def _product_ids(raw: str) -> list[str]:
    """Retailer ids, one a line or separated by commas, each once, in the order given."""
    ids: list[str] = []
    for part in re.split(r"[\n,]", raw):
        product = part.strip()
        if len(product) > MAX_RETAILER_ID:
            raise InvalidInput(f"A product retailer id holds at most {MAX_RETAILER_ID} characters")
        if product and product not in ids:
            ids.append(product)
    return ids


def _commerce_interactive(form: dict[str, Any], mode: str) -> dict[str, Any]:
    """A product, products (product_list), catalog or location request message's interactive object."""
    if mode == "product":
        catalog = _text(form, "product_catalog", MAX_RETAILER_ID)
        product = _text(form, "product_id", MAX_RETAILER_ID)
        if not catalog or not product:
            raise InvalidInput("Give the catalog id and the product's retailer id")
        payload: dict[str, Any] = {
            "type": "product",
            "action": {"catalog_id": catalog, "product_retailer_id": product},
        }
        if body := _text(form, "product_body", MAX_BODY):
            payload["body"] = {"text": body}
        if footer := _text(form, "product_footer", MAX_FOOTER):
            payload["footer"] = {"text": footer}
        return payload
    if mode == "products":
        catalog = _text(form, "products_catalog", MAX_RETAILER_ID)
        header = _text(form, "products_header", MAX_HEADER)
        body = _text(form, "products_body", MAX_BODY)
        title = _text(form, "products_section", MAX_SECTION_TITLE)
        ids = _product_ids(_text(form, "products_ids", MAX_PRODUCTS * (MAX_RETAILER_ID + 2)))
        if not (catalog and header and body and title):
            raise InvalidInput("Give the catalog id, the header, the message text and the section's title")
        if not ids:
            raise InvalidInput("List the products' retailer ids, one a line")
        if len(ids) > MAX_PRODUCTS:
            raise InvalidInput(f"A products message holds at most {MAX_PRODUCTS} products")
        section = {"title": title, "product_items": [{"product_retailer_id": i} for i in ids]}
        return {
            "type": "product_list",
            "header": {"type": "text", "text": header},
            "body": {"text": body},
            "action": {"catalog_id": catalog, "sections": [section]},
        }
    if mode == "catalog":
        body = _text(form, "catalog_body", MAX_BODY)
        if not body:
            raise InvalidInput("Write the catalog message's text")
        action: dict[str, Any] = {"name": "catalog_message"}
        if thumbnail := _text(form, "catalog_thumbnail", MAX_RETAILER_ID):
            action["parameters"] = {"thumbnail_product_retailer_id": thumbnail}
        return {"type": "catalog_message", "body": {"text": body}, "action": action}
    body = _text(form, "location_body", MAX_BODY)
    if not body:
        raise InvalidInput("Write what the location is for, such as “Where should we deliver?”")
    return {"type": "location_request_message", "body": {"text": body}, "action": {"name": "send_location"}}


async def _send_request(
    form: dict[str, Any],
    summary: ConversationSummary,
    principal: Principal,
    upload_media: UploadMedia,
    manage_templates: ManageTemplates,
    manage_flows: ManageFlows,
) -> SendRequest:
    wa_id = summary.contact.wa_id
    mode = _text(form, "mode", 20) or "text"
    reply_to = _text(form, "reply_to", 200) or None
    if mode == "template":
        templates = await _approved_templates(manage_templates, principal)
        named = {t.name: uses_named_parameters(t.components, t.parameter_format) for t in templates}
        return _template_request(form, wa_id, named)
    if mode == "flow":
        return api_request(
            wa_id, "interactive", await _flow_interactive(form, principal, manage_flows), reply_to
        )
    if mode in INTERACTIVE_MODES:
        return api_request(wa_id, "interactive", _commerce_interactive(form, mode), reply_to)
    if mode != "text":
        raise InvalidInput("Choose what kind of message to send")
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
    dependencies=SERVICES,
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
    manage_flows: NamedDependency[ManageFlows],
) -> Template | Response[str]:
    summary = await _conversation(inbox_reader, principal, conversation_id)
    try:
        request = await _send_request(data, summary, principal, upload_media, manage_templates, manage_flows)
        await send_message.execute(principal, request)
    except DomainError as error:
        return _composer_error(error.message)
    context = await _thread_context(inbox_reader, principal, summary, manage_flows)
    return Template("chat/_thread.html", context=context)


@post("/chat/{conversation_id:uuid}/react", include_in_schema=False, dependencies=SERVICES)
async def react(
    conversation_id: UUID,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    principal: NamedDependency[Principal],
    inbox_reader: NamedDependency[InboxReader],
    send_message: NamedDependency[SendMessage],
    manage_flows: NamedDependency[ManageFlows],
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
    context = await _thread_context(inbox_reader, principal, summary, manage_flows)
    return Template("chat/_thread.html", context=context)


ROUTES = [
    chat_page,
    chat_list,
    conversation_page,
    conversation_thread,
    read_conversation,
    send_from_composer,
    react,
]
