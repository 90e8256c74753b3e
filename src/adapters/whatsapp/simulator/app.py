"""The Cloud API simulator: a real HTTP server speaking the Graph API endpoints PyWA uses, like Meta does.

Graph API (any version prefix, `/v20.0`, `/v22.0`...; bearer token required):

- POST   /{version}/{phone_id}/messages            send -> wamid; mark as read / typing -> success
- POST   /{version}/{phone_id}/media               multipart upload -> media id
- GET    /{version}/{media_id}                     media URL and facts (or a template, phone number, WABA)
- GET    /{version}/{waba_id}/phone_numbers        the phone numbers
- DELETE /{version}/{media_id}                     delete the media
- GET    /whatsapp_business/attachments/?mid=...   the media bytes (the URL above points here)
- GET    /{version}/{waba_id}/message_templates    list (paged with limit/after/before)
- POST   /{version}/{waba_id}/message_templates    create (PENDING, APPROVED later with a webhook)
- DELETE /{version}/{waba_id}/message_templates    delete by name (and hsm_id)
- POST   /{version}/{template_id}                  edit a template
- POST   /{version}/{waba_id}/migrate_message_templates   copy another WABA's approved templates here

Every send is followed, in the background, by signed `sent`, `delivered`, `read` status webhooks.

Control API, for tests and people (no token):

- POST /_simulator/customers/{wa_id}/messages   a customer sends any message type (signed webhook); a media
                                                object with `data_base64` carries real bytes, served later
- POST /_simulator/statuses                     push any status (failed, out of order...) for a wamid
- POST /_simulator/faults                       the next n Graph API calls get a fault
- POST /_simulator/templates                    templates that already exist at Meta (no webhooks)
- POST /_simulator/templates/{id}/status        approve, reject, pause... a template (with its webhook)
- POST /_simulator/verify                       Meta's GET hub.challenge handshake against the webhook URL
- GET  /_simulator/sent | read_receipts | webhooks | inbound | media | faults | config
- POST /_simulator/config                       change webhook_url, app_secret, auto_read, status_delays
- POST /_simulator/reset                        forget everything but the settings

Message QR codes (`/{phone_id}/message_qrdls`, their images, a customer scanning one) and the checks of
catalog, product and location request messages live in `qr_codes.py`.

The Groups API (`/{phone_id}/groups`, `/{group_id}`, invite links, join requests, participants, group
sends) and its control routes live in `groups.py`; the Flows API (`/{waba_id}/flows`, `/{flow_id}/assets`,
publish, deprecate, the business public key) in `flows.py`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import hashlib
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import phonenumbers
import uvicorn
from litestar import Litestar, Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import MediaType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath

from pywhatsapp.adapters.whatsapp.simulator import flows, groups, payloads, qr_codes, template_analytics
from pywhatsapp.adapters.whatsapp.simulator.errors import (
    GraphError,
    graph_error,
    invalid_parameter,
    invalid_token,
    status_errors,
)
from pywhatsapp.adapters.whatsapp.simulator.faults import FaultInjection
from pywhatsapp.adapters.whatsapp.simulator.graph_calls import json_object
from pywhatsapp.adapters.whatsapp.simulator.settings import SimulatorSettings
from pywhatsapp.adapters.whatsapp.simulator.state import (
    FAULT_KINDS,
    Fault,
    FaultKind,
    ReadReceipt,
    SentMessage,
    SimulatorState,
    StoredMedia,
)
from pywhatsapp.adapters.whatsapp.simulator.webhooks import WebhookSender

AnyRequest = Request[Any, Any, Any]

VERSION = re.compile(r"^v\d+(\.\d+)?$")
SEND_TYPES = (
    "audio",
    "contacts",
    "document",
    "image",
    "interactive",
    "location",
    "reaction",
    "sticker",
    "template",
    "text",
    "video",
)
MEDIA_TYPES = frozenset({"audio", "document", "image", "sticker", "video"})
INBOUND_TYPES = (
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
    "system",
    "unsupported",
)
TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
TEMPLATE_STATUSES = frozenset(
    {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "PENDING_DELETION", "ARCHIVED"}
)
MESSAGE_TEMPLATE_LIMIT = 250
ATTACHMENTS_PATH = "/whatsapp_business/attachments/"


def _json(content: Any, status_code: int = 200) -> Response[Any]:
    return Response(content=content, status_code=status_code, media_type=MediaType.JSON)


def _handle_graph_error(_request: AnyRequest, exc: GraphError) -> Response[Any]:
    return _json(exc.body, exc.status_code)


def _check_version(version: str) -> None:
    if not VERSION.match(version):
        raise graph_error(2500, f"Unknown path components: /{version}", http_status=400)


def _authorize(request: AnyRequest, settings: SimulatorSettings) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    token = token or request.query_params.get("access_token", "")
    if not token:
        raise invalid_token(missing=True)
    if settings.valid_tokens is not None and token not in settings.valid_tokens:
        raise invalid_token(missing=False)


def _graph_call(request: AnyRequest, version: str, settings: SimulatorSettings) -> None:
    _check_version(version)
    _authorize(request, settings)


async def _graph_body(request: AnyRequest) -> dict[str, Any]:
    return await json_object(request, invalid_parameter)


async def _control_body(request: AnyRequest) -> dict[str, Any]:
    return await json_object(request, ClientException)


def _public_base(request: AnyRequest, settings: SimulatorSettings) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/")


def _unsupported(method: str, node_id: str) -> GraphError:
    return graph_error(
        100,
        f"Unsupported {method} request. Object with ID '{node_id}' does not exist, cannot be loaded due to"
        " missing permissions, or does not support this operation. Please read the Graph API documentation"
        " at https://developers.facebook.com/docs/graph-api",
        subcode=33,
    )


# --- sends -----------------------------------------------------------------------------------------------


def _validate_content(typ: str, content: Any) -> None:
    if typ == "contacts":
        if not isinstance(content, list) or not content:
            raise invalid_parameter("The parameter contacts is required.")
        return
    if not isinstance(content, dict):
        raise invalid_parameter(f"The parameter {typ} is required.")
    if typ == "text" and not (isinstance(content.get("body"), str) and content["body"]):
        raise invalid_parameter("The parameter text['body'] is required.")
    if typ in MEDIA_TYPES and not (content.get("id") or content.get("link")):
        raise invalid_parameter(f"The parameter {typ}['id'] or {typ}['link'] is required.")
    if typ == "location" and ("latitude" not in content or "longitude" not in content):
        raise invalid_parameter("The parameters location['latitude'] and location['longitude'] are required.")
    if typ == "reaction" and not content.get("message_id"):
        raise invalid_parameter("The parameter reaction['message_id'] is required.")
    if typ == "template":
        language = content.get("language")
        if not content.get("name"):
            raise invalid_parameter("The parameter template['name'] is required.")
        if not (isinstance(language, dict) and language.get("code")):
            raise invalid_parameter("The parameter template['language']['code'] is required.")
    if typ == "interactive" and not content.get("type"):
        raise invalid_parameter("The parameter interactive['type'] is required.")
    if typ == "interactive":
        qr_codes.check_interactive(content)  # catalog, product and location request messages


def _pricing_category(sim: SimulatorState, typ: str, content: Any) -> str:
    if typ != "template" or not isinstance(content, dict):
        return payloads.SERVICE
    language = (content.get("language") or {}).get("code")
    for template in sim.templates:
        if template["name"] == content.get("name") and template["language"] == language:
            return str(template.get("category", "MARKETING")).lower()
    return "marketing"


@post("/{version:str}/{node_id:str}/messages", status_code=200)
async def send_message(
    request: AnyRequest,
    version: FromPath[str],
    node_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> Response[Any]:
    _graph_call(request, version, sim.settings)
    body = await _graph_body(request)
    if body.get("status") == "read":
        message_id = body.get("message_id")
        if not message_id:
            raise invalid_parameter("The parameter message_id is required.")
        sim.read_receipts.append(
            ReadReceipt(
                phone_number_id=node_id,
                message_id=str(message_id),
                typing_indicator="typing_indicator" in body,
                at=time.time(),
            )
        )
        return _json({"success": True})
    product = body.get("messaging_product")
    if product is None:
        raise invalid_parameter("The parameter messaging_product is required.")
    if product != "whatsapp":
        raise invalid_parameter(f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".')
    to, recipient = body.get("to"), body.get("recipient")
    if not to and not recipient:
        raise invalid_parameter("The parameter to is required.")
    typ = body.get("type", "text")
    if typ not in SEND_TYPES:
        allowed = ", ".join(t.upper() for t in SEND_TYPES)
        raise invalid_parameter(f'Param type must be one of {{{allowed}}} - got "{typ}".')
    content = body.get(typ)
    _validate_content(typ, content)
    if body.get("recipient_type") == "group":
        category = _pricing_category(sim, typ, content)
        return await groups.send_to_group(node_id, body, typ, category, sim, webhooks)
    wa_id = payloads.digits_of(str(to)) if to else ""
    if to and not wa_id:
        raise graph_error(131009, details="Recipient phone number is not valid.")
    user_id = payloads.bsuid_for(wa_id) if wa_id else str(recipient)
    tracker = body.get("biz_opaque_callback_data")
    message = SentMessage(
        wamid=payloads.new_wamid(wa_id or user_id),
        phone_number_id=node_id,
        to=str(to or recipient),
        wa_id=wa_id,
        user_id=user_id,
        type=typ,
        body=body,
        category=_pricing_category(sim, typ, content),
        biz_opaque_callback_data=str(tracker) if tracker is not None else None,
        received_at=time.time(),
    )
    if sim.settings.response_latency:
        await asyncio.sleep(sim.settings.response_latency)
    sim.record_sent(message)
    sim.spawn(webhooks.status_timeline(message))
    contact = {"input": str(to), "wa_id": wa_id} if to else {"input": str(recipient), "user_id": user_id}
    sent: dict[str, Any] = {"id": message.wamid}
    if typ == "template":
        sent["message_status"] = "accepted"
    return _json({"messaging_product": "whatsapp", "contacts": [contact], "messages": [sent]})


# --- the business ----------------------------------------------------------------------------------------


def _formatted(number: str) -> str:
    try:
        parsed = phonenumbers.parse("+" + number)
    except phonenumbers.NumberParseException:
        return "+" + number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _phone_number_info(settings: SimulatorSettings, phone_number_id: str) -> dict[str, Any]:
    return {
        "id": phone_number_id,
        "verified_name": settings.verified_name,
        "display_phone_number": _formatted(settings.display_number_for(phone_number_id)),
        "code_verification_status": "VERIFIED",
        "quality_rating": "GREEN",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "STANDARD"},
        "status": "CONNECTED",
        "name_status": "APPROVED",
    }


def _waba_info(settings: SimulatorSettings) -> dict[str, Any]:
    return {
        "id": settings.waba_id,
        "name": settings.verified_name,
        "timezone_id": "1",
        "currency": "USD",
        "message_template_namespace": hashlib.md5(
            settings.waba_id.encode(), usedforsecurity=False
        ).hexdigest(),
    }


# --- media -----------------------------------------------------------------------------------------------


@post("/{version:str}/{node_id:str}/media", status_code=200)
async def upload_media(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    _graph_call(request, version, sim.settings)
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise invalid_parameter("The parameter file is required.")
    if form.get("messaging_product") != "whatsapp":
        raise invalid_parameter("The parameter messaging_product is required.")
    data = await upload.read()
    declared = form.get("type")
    mime_type = (declared if isinstance(declared, str) and declared else None) or upload.content_type
    media = StoredMedia(
        id=payloads.new_numeric_id(),
        phone_number_id=node_id,
        data=data,
        mime_type=mime_type or "application/octet-stream",
        filename=upload.filename or None,
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_at=time.time(),
    )
    sim.media[media.id] = media
    return _json({"id": media.id})


def _media_url(request: AnyRequest, sim: SimulatorState, media: StoredMedia) -> str:
    query = urlencode({"mid": media.id, "ext": str(payloads.now()), "hash": secrets.token_urlsafe(12)})
    return f"{_public_base(request, sim.settings)}{ATTACHMENTS_PATH}?{query}"


@get("/{version:str}/{node_id:str}")
async def get_node(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    _graph_call(request, version, sim.settings)
    if (group := groups.find_group(sim, node_id)) is not None:
        return await groups.get_group(request, group, sim)
    if (flow := flows.find_flow(sim, node_id)) is not None:
        return await flows.get_flow(request, flow, sim)
    media = sim.media.get(node_id)
    if media is not None:
        phone_filter = request.query_params.get("phone_number_id")
        if phone_filter and phone_filter != media.phone_number_id:
            raise _unsupported("get", node_id)
        return _json(
            {
                "messaging_product": "whatsapp",
                "url": _media_url(request, sim, media),
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": len(media.data),
                "id": media.id,
            }
        )
    template = sim.template(node_id)
    if template is not None:
        return _json(template)
    if node_id in sim.settings.known_phone_ids:
        return _json(_phone_number_info(sim.settings, node_id))
    if node_id == sim.settings.waba_id:
        return _json(_waba_info(sim.settings))
    raise _unsupported("get", node_id)


@get("/{version:str}/{node_id:str}/phone_numbers")
async def list_phone_numbers(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    _graph_call(request, version, sim.settings)
    if node_id != sim.settings.waba_id:
        raise _unsupported("get", f"{node_id}/phone_numbers")
    return _json({"data": [_phone_number_info(sim.settings, p) for p in sim.settings.known_phone_ids]})


@delete("/{version:str}/{node_id:str}", status_code=200)
async def delete_node(
    request: AnyRequest,
    version: FromPath[str],
    node_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> Response[Any]:
    _graph_call(request, version, sim.settings)
    if (group := groups.find_group(sim, node_id)) is not None:
        return await groups.delete_group(request, group, sim, webhooks)
    if (flow := flows.find_flow(sim, node_id)) is not None:
        return await flows.delete_flow(request, flow, sim)
    media = sim.media.get(node_id)
    phone_filter = request.query_params.get("phone_number_id")
    if media is None or (phone_filter and phone_filter != media.phone_number_id):
        raise _unsupported("delete", node_id)
    del sim.media[node_id]
    return _json({"success": True})


@get(ATTACHMENTS_PATH)
async def download_media(request: AnyRequest, sim: NamedDependency[SimulatorState]) -> Response[bytes]:
    _authorize(request, sim.settings)
    media = sim.media.get(request.query_params.get("mid", ""))
    if media is None:
        return Response(content=b"", status_code=404, media_type="text/plain")
    safe_name = "".join(ch for ch in media.filename or "" if ch.isprintable() and ch not in '"\\')
    headers = {"Content-Disposition": f'attachment; filename="{safe_name}"'} if safe_name else {}
    return Response(content=media.data, media_type=media.mime_type, headers=headers)


# --- templates -------------------------------------------------------------------------------------------


def _cursor(template: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(str(template["id"]).encode()).decode()


def _cursor_position(items: list[dict[str, Any]], cursor: str) -> int:
    try:
        template_id = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_parameter("Invalid cursor.") from None
    for index, template in enumerate(items):
        if template["id"] == template_id:
            return index
    raise invalid_parameter("Invalid cursor.")


def _matches(template: dict[str, Any], params: dict[str, str]) -> bool:
    def one_of(key: str) -> bool:
        wanted = params.get(key)
        if not wanted:
            return True
        return str(template.get(key, "")).upper() in {w.strip().upper() for w in wanted.split(",")}

    name = params.get("name")
    if name and name.lower() not in template["name"].lower():
        return False
    language = params.get("language")
    if language and template["language"] not in {w.strip() for w in language.split(",")}:
        return False
    return one_of("status") and one_of("category")


@get("/{version:str}/{node_id:str}/message_templates")
async def list_templates(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    _graph_call(request, version, sim.settings)
    params = {key: value for key, value in request.query_params.items()}
    try:
        limit = min(max(int(params.get("limit", "25")), 1), 1000)
    except ValueError:
        raise invalid_parameter("Param limit must be an integer.") from None
    items = [t for t in sim.templates_of(node_id) if _matches(t, params)]
    if params.get("before"):
        end = _cursor_position(items, params["before"])
        start = max(0, end - limit)
    else:
        start = _cursor_position(items, params["after"]) + 1 if params.get("after") else 0
        end = start + limit
    page = items[start:end]
    result: dict[str, Any] = {"data": page}
    if page:
        paging: dict[str, Any] = {"cursors": {"before": _cursor(page[0]), "after": _cursor(page[-1])}}
        base = f"{_public_base(request, sim.settings)}{request.url.path}"
        kept = {k: v for k, v in params.items() if k not in ("after", "before", "access_token")}
        if start + len(page) < len(items):
            paging["next"] = f"{base}?{urlencode({**kept, 'after': _cursor(page[-1])})}"
        if start > 0:
            paging["previous"] = f"{base}?{urlencode({**kept, 'before': _cursor(page[0])})}"
        result["paging"] = paging
    if "summary" in params:
        result["summary"] = {
            "total_count": len(items),
            "message_template_count": len(sim.templates),
            "message_template_limit": MESSAGE_TEMPLATE_LIMIT,
            "are_translations_complete": True,
        }
    return _json(result)


@post("/{version:str}/{node_id:str}/message_templates", status_code=200)
async def create_template(
    request: AnyRequest,
    version: FromPath[str],
    node_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> Response[Any]:
    _graph_call(request, version, sim.settings)
    body = await _graph_body(request)
    for key in ("name", "language", "category", "components"):
        if not body.get(key):
            raise invalid_parameter(f"The parameter {key} is required.")
    name, language = str(body["name"]), str(body["language"])
    if not TEMPLATE_NAME.match(name):
        raise invalid_parameter(
            "Invalid parameter",
            subcode=2388042,
            user_title="Template name is invalid",
            user_msg="Template names can only contain lowercase letters, numbers and underscores.",
        )
    if any(t["name"] == name and t["language"] == language for t in sim.templates_of(node_id)):
        raise invalid_parameter(
            "Invalid parameter",
            subcode=2388024,
            user_title="Content in this language already exists",
            user_msg=f"The template {name} already has content in {language}.",
        )
    template: dict[str, Any] = {
        **{k: v for k, v in body.items() if k != "allow_category_change"},
        "id": payloads.new_numeric_id(),
        "name": name,
        "language": language,
        "category": str(body["category"]).upper(),
        "status": "PENDING",
        "parameter_format": str(body.get("parameter_format") or "POSITIONAL").upper(),
    }
    sim.add_template(node_id, template)
    delay = sim.settings.template_review_delay
    if delay is not None:
        sim.spawn(webhooks.review_template(template, delay))
    return _json({"id": template["id"], "status": "PENDING", "category": template["category"]})


@delete("/{version:str}/{node_id:str}/message_templates", status_code=200)
async def delete_template(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    _graph_call(request, version, sim.settings)
    name = request.query_params.get("name")
    if not name:
        raise invalid_parameter("The parameter name is required.")
    hsm_id = request.query_params.get("hsm_id")
    doomed = [t for t in sim.templates_of(node_id) if t["name"] == name and (not hsm_id or t["id"] == hsm_id)]
    if not doomed:
        raise invalid_parameter(
            "Invalid parameter",
            subcode=2593002,
            user_title="Message template not found",
            user_msg=f"There is no message template named {name}.",
        )
    sim.templates[:] = [t for t in sim.templates if t not in doomed]
    return _json({"success": True})


MIGRATION_PAGE = 500


@post("/{version:str}/{node_id:str}/migrate_message_templates", status_code=200)
async def migrate_templates(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    """Recreate another WABA's templates here, as Meta does: only APPROVED ones of GREEN or UNKNOWN
    quality, 500 per `page_number`; one already here by name and language fails with a reason."""
    _graph_call(request, version, sim.settings)
    params = {**dict(request.query_params), **(await _graph_body(request) if await request.body() else {})}
    source = str(params.get("source_waba_id") or "")
    if not source:
        raise invalid_parameter("The parameter source_waba_id is required.")
    if source == node_id:
        raise invalid_parameter("The source and destination WhatsApp Business Accounts must differ.")
    try:
        page_number = int(params.get("page_number") or 0)
    except ValueError:
        raise invalid_parameter("Param page_number must be an integer.") from None
    page = sim.templates_of(source)[page_number * MIGRATION_PAGE : (page_number + 1) * MIGRATION_PAGE]
    here = {(t["name"], t["language"]) for t in sim.templates_of(node_id)}
    migrated: list[str] = []
    failed: dict[str, str] = {}
    for original in page:
        quality = original.get("quality_score")
        score = quality.get("score") if isinstance(quality, dict) else quality
        if original.get("status") != "APPROVED" or (score or "UNKNOWN") not in ("GREEN", "UNKNOWN"):
            failed[original["id"]] = "Only APPROVED templates of GREEN or UNKNOWN quality can be migrated."
        elif (original["name"], original["language"]) in here:
            failed[original["id"]] = "Template already exists in destination WABA."
        else:
            copy = {**original, "id": payloads.new_numeric_id()}
            sim.add_template(node_id, copy)
            migrated.append(copy["id"])
    return _json({"migrated_templates": migrated, "failed_templates": failed})


@post("/{version:str}/{node_id:str}", status_code=200)
async def update_node(
    request: AnyRequest,
    version: FromPath[str],
    node_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> Response[Any]:
    _graph_call(request, version, sim.settings)
    if (group := groups.find_group(sim, node_id)) is not None:
        return await groups.update_group(request, group, sim, webhooks)
    if (flow := flows.find_flow(sim, node_id)) is not None:
        return await flows.update_flow(request, flow, sim)
    template = sim.template(node_id)
    if template is None:
        raise _unsupported("post", node_id)
    body = await _graph_body(request)
    for key in ("category", "components", "message_send_ttl_seconds", "parameter_format"):
        if key in body and body[key] is not None:
            template[key] = body[key]
    return _json({"success": True})


# --- control API -----------------------------------------------------------------------------------------


def _settings_view(settings: SimulatorSettings) -> dict[str, Any]:
    view = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    view["app_secret"] = bool(settings.app_secret)
    view["verify_token"] = bool(settings.verify_token)
    view["valid_tokens"] = None if settings.valid_tokens is None else len(settings.valid_tokens)
    view["phone_numbers"] = dict(settings.phone_numbers)
    return view


@get("/_simulator/health")
async def health(sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    """`pending_deliveries` counts status timelines and reviews still running (0: all webhooks are out)."""
    return {"status": "ok", "pending_deliveries": sim.pending_tasks}


@get("/_simulator/config")
async def get_config(sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    return _settings_view(sim.settings)


@post("/_simulator/config", status_code=200)
async def update_config(request: AnyRequest, sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    body = await _control_body(request)
    changes: dict[str, Any] = {}
    for key in ("webhook_url", "app_secret", "verify_token", "public_url"):
        if key in body:
            changes[key] = None if body[key] is None else str(body[key])
    if "auto_read" in body:
        changes["auto_read"] = bool(body["auto_read"])
    if "response_latency" in body:
        changes["response_latency"] = max(0.0, float(body["response_latency"]))
    if "template_review_delay" in body:
        value = body["template_review_delay"]
        changes["template_review_delay"] = None if value is None else float(value)
    if "status_delays" in body:
        delays = body["status_delays"]
        if not (isinstance(delays, list) and len(delays) == 3):
            raise ClientException("status_delays must be three numbers: sent, delivered, read")
        changes["status_delays"] = tuple(float(d) for d in delays)
    unknown = set(body) - set(changes)
    if unknown:
        raise ClientException(f"cannot change {sorted(unknown)}")
    sim.settings = dataclasses.replace(sim.settings, **changes)
    return _settings_view(sim.settings)


@post("/_simulator/reset", status_code=200)
async def reset(sim: NamedDependency[SimulatorState]) -> dict[str, bool]:
    sim.reset()
    groups.reset_groups(sim)
    flows.reset_flows(sim)
    template_analytics.reset_analytics(sim)
    qr_codes.reset_qr_codes(sim)
    return {"reset": True}


@get("/_simulator/sent")
async def list_sent(sim: NamedDependency[SimulatorState]) -> list[dict[str, Any]]:
    return [message.as_dict() for message in sim.sent]


@get("/_simulator/read_receipts")
async def list_read_receipts(sim: NamedDependency[SimulatorState]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(receipt) for receipt in sim.read_receipts]


@get("/_simulator/webhooks")
async def list_webhooks(sim: NamedDependency[SimulatorState]) -> list[dict[str, Any]]:
    return [attempt.as_dict() for attempt in sim.webhooks]


@get("/_simulator/inbound")
async def list_inbound(sim: NamedDependency[SimulatorState]) -> list[dict[str, Any]]:
    return list(sim.inbound)


@get("/_simulator/media")
async def list_media(sim: NamedDependency[SimulatorState]) -> list[dict[str, Any]]:
    return [media.info() for media in sim.media.values()]


def _customer_media(sim: SimulatorState, phone_number_id: str, media: dict[str, Any]) -> dict[str, Any]:
    """A customer's file given as `data_base64`: kept like an upload (served by the media node and the
    attachments URL), and announced as Meta does, by id, mime type and base64 sha256. A `sha256` given
    with it is announced instead (to play a file that does not match)."""
    announced = dict(media)
    try:
        data = base64.b64decode(str(announced.pop("data_base64")), validate=True)
    except (binascii.Error, ValueError):
        raise ClientException("data_base64 must be the file's bytes in base64") from None
    stored = StoredMedia(
        id=payloads.new_numeric_id(),
        phone_number_id=phone_number_id,
        data=data,
        mime_type=str(announced.get("mime_type") or "application/octet-stream"),
        filename=str(announced["filename"]) if announced.get("filename") else None,
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_at=time.time(),
    )
    sim.media[stored.id] = stored
    announced.setdefault("sha256", base64.b64encode(hashlib.sha256(data).digest()).decode())
    return {**announced, "id": stored.id, "mime_type": stored.mime_type}


def _inbound_type(body: dict[str, Any]) -> str:
    declared = body.get("type")
    if isinstance(declared, str) and declared:
        return declared
    return next((t for t in INBOUND_TYPES if t in body), "text")


@post("/_simulator/customers/{wa_id:str}/messages", status_code=200)
async def customer_message(
    request: AnyRequest,
    wa_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> dict[str, Any]:
    """A customer sends a message: any Meta message object passes through as given."""
    body = await _control_body(request)
    customer = payloads.digits_of(wa_id)
    if not customer:
        raise ClientException("wa_id must be the customer's phone number, in digits")
    settings = sim.settings
    phone_number_id = str(body.pop("phone_number_id", None) or settings.phone_number_id)
    display = settings.display_number_for(phone_number_id)
    name = str(body.pop("name", None) or f"Customer {customer[-4:]}")
    typ = _inbound_type(body)
    if typ == "text" and isinstance(body.get("text"), str):
        body["text"] = {"body": body["text"]}
    if typ in MEDIA_TYPES and isinstance(body.get(typ), dict) and "data_base64" in body[typ]:
        body[typ] = _customer_media(sim, phone_number_id, body[typ])
    context = body.get("context")
    if isinstance(context, dict) and context.get("id") and "from" not in context:
        body["context"] = {"from": display, **context}
    user_id = payloads.bsuid_for(customer)
    wamid = str(body.pop("id", None) or payloads.new_wamid(customer))
    timestamp = str(body.pop("timestamp", None) or payloads.now())
    body.pop("type", None)
    message = {
        "from": customer,
        "from_user_id": user_id,
        "id": wamid,
        "timestamp": timestamp,
        "type": typ,
        **body,
    }
    value = payloads.inbound_message_value(
        phone_number_id=phone_number_id,
        display_phone_number=display,
        wa_id=customer,
        user_id=user_id,
        name=name,
        message=message,
    )
    payload = payloads.envelope(settings.waba_id, "messages", value)
    sim.inbound.append(payload)
    delivery = await webhooks.deliver(payload, kind="message", body_type=f"messages.{typ}", wamid=wamid)
    return {
        "wamid": wamid,
        "delivered": delivery.delivered,
        "status_code": delivery.status_code,
        "attempts": delivery.attempts,
        "payload": payload,
    }


@post("/_simulator/statuses", status_code=200)
async def push_status(
    request: AnyRequest, sim: NamedDependency[SimulatorState], webhooks: NamedDependency[WebhookSender]
) -> dict[str, Any]:
    """Any status for a wamid, now: `failed` with an error code, a `read` before `delivered`..."""
    body = await _control_body(request)
    wamid, status = body.get("wamid"), body.get("status")
    if not (isinstance(wamid, str) and wamid and isinstance(status, str) and status):
        raise ClientException("wamid and status are required")
    message = sim.by_wamid.get(wamid)
    if message is None:
        recipient = payloads.digits_of(str(body.get("recipient_id") or ""))
        if not recipient:
            raise ClientException("unknown wamid: give recipient_id to push a status for it anyway")
        message = SentMessage(
            wamid=wamid,
            phone_number_id=str(body.get("phone_number_id") or sim.settings.phone_number_id),
            to=recipient,
            wa_id=recipient,
            user_id=payloads.bsuid_for(recipient),
            type="text",
            body={},
            category=payloads.SERVICE,
            biz_opaque_callback_data=None,
            received_at=time.time(),
        )
    error_code = body.get("error_code")
    errors = None
    if error_code is not None:
        errors = status_errors(int(error_code), body.get("details"))
    elif status == "failed":
        errors = status_errors(131000, body.get("details"))
    delivery = await webhooks.send_status(message, status, errors=errors)
    return {
        "wamid": wamid,
        "status": status,
        "delivered": delivery.delivered,
        "status_code": delivery.status_code,
        "attempts": delivery.attempts,
    }


def _faults_view(sim: SimulatorState) -> dict[str, Any]:
    return {"pending": [dataclasses.asdict(fault) for fault in sim.faults]}


@post("/_simulator/faults", status_code=200)
async def add_fault(request: AnyRequest, sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    body = await _control_body(request)
    kind = body.get("kind")
    if kind not in FAULT_KINDS:
        raise ClientException(f"kind must be one of {list(FAULT_KINDS)}")
    fault_kind: FaultKind = kind
    try:
        count = int(body.get("count", 1))
        seconds = float(body.get("seconds", 1.0 if kind == "latency" else 0.0))
        code = int(body["code"]) if body.get("code") is not None else None
        http_status = int(body["http_status"]) if body.get("http_status") is not None else None
    except (TypeError, ValueError):
        raise ClientException("count, seconds, code and http_status must be numbers") from None
    if count < 1:
        raise ClientException("count must be at least 1")
    if kind == "error" and code is None:
        raise ClientException("an error fault needs a code (e.g. 131047)")
    match = body.get("match")
    sim.faults.append(
        Fault(
            kind=fault_kind,
            remaining=count,
            seconds=seconds,
            code=code,
            http_status=http_status,
            match=str(match) if match else None,
        )
    )
    return _faults_view(sim)


@get("/_simulator/faults")
async def list_faults(sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    return _faults_view(sim)


@delete("/_simulator/faults", status_code=200)
async def clear_faults(sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    sim.faults.clear()
    return _faults_view(sim)


@post("/_simulator/templates", status_code=200)
async def seed_templates(request: AnyRequest, sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    """Templates that already exist at "Meta" (APPROVED unless told), without review webhooks:
    `{"waba_id"?, "templates": [{"name", "language", "category", "components", "status"?...}]}`."""
    body = await _control_body(request)
    waba_id = str(body.get("waba_id") or sim.settings.waba_id)
    templates = body.get("templates")
    if not isinstance(templates, list) or not all(isinstance(t, dict) for t in templates):
        raise ClientException("templates must be a list of objects")
    created = []
    for given in templates:
        if not given.get("name") or not given.get("language"):
            raise ClientException("every template needs its name and language")
        template = {
            "category": "MARKETING",
            "components": [],
            "parameter_format": "POSITIONAL",
            **given,
            "id": payloads.new_numeric_id(),
            "status": str(given.get("status") or "APPROVED"),
        }
        sim.add_template(waba_id, template)
        created.append(template)
    return {"templates": created}


@post("/_simulator/templates/{template_id:str}/status", status_code=200)
async def set_template_status(
    request: AnyRequest,
    template_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> dict[str, Any]:
    body = await _control_body(request)
    template = sim.template(template_id)
    if template is None:
        raise NotFoundException(f"no template {template_id}")
    status = str(body.get("status", "")).upper()
    if status not in TEMPLATE_STATUSES:
        raise ClientException(f"status must be one of {sorted(TEMPLATE_STATUSES)}")
    reason = body.get("reason")
    template["status"] = status
    if reason and status == "REJECTED":
        template["rejected_reason"] = str(reason)
    delivery = await webhooks.send_template_status(template, status, str(reason) if reason else None)
    return {"template": template, "delivered": delivery.delivered, "status_code": delivery.status_code}


@post("/_simulator/verify", status_code=200)
async def verify_webhook(sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    """Meta's subscription handshake: GET the webhook URL with hub.* and expect the challenge back."""
    settings = sim.settings
    if not settings.webhook_url:
        raise ClientException("no webhook_url is configured")
    challenge = str(secrets.randbelow(10**9))
    params = {
        "hub.mode": "subscribe",
        "hub.challenge": challenge,
        "hub.verify_token": settings.verify_token or "",
    }
    try:
        async with httpx.AsyncClient(timeout=settings.webhook_timeout) as http:
            response = await http.get(settings.webhook_url, params=params)
    except httpx.HTTPError as exc:
        return {"verified": False, "status_code": None, "error": f"{type(exc).__name__}: {exc}"}
    return {
        "verified": response.status_code == 200 and response.text.strip() == challenge,
        "status_code": response.status_code,
        "error": None,
    }


@get("/{version:str}/oauth/access_token")
async def app_access_token(version: FromPath[str], request: AnyRequest) -> Response[Any]:
    """An app access token (`client_credentials`), as PyWA asks for before subscribing webhooks."""
    _check_version(version)
    client_id = request.query_params.get("client_id")
    if not client_id or not request.query_params.get("client_secret"):
        raise GraphError(
            400, {"message": "Missing client_id or client_secret", "type": "OAuthException", "code": 101}
        )
    return _json({"access_token": f"{client_id}|simulated-app-token", "token_type": "bearer"})


@post("/{version:str}/{app_id:str}/subscriptions", status_code=200)
async def subscribe_app(
    version: FromPath[str], app_id: FromPath[str], request: AnyRequest, sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    """Meta's app webhook subscription: it verifies the callback (GET hub.challenge) before saying yes."""
    _check_version(version)
    params = request.query_params
    callback_url = params.get("callback_url")
    if not callback_url or not str(params.get("access_token", "")).startswith(f"{app_id}|"):
        raise GraphError(
            400,
            {"message": "Invalid callback_url or app access token", "type": "OAuthException", "code": 100},
        )
    challenge = str(secrets.randbelow(10**9))
    query = {
        "hub.mode": "subscribe",
        "hub.challenge": challenge,
        "hub.verify_token": params.get("verify_token", ""),
    }
    try:
        async with httpx.AsyncClient(timeout=sim.settings.webhook_timeout) as http:
            answer = await http.get(callback_url, params=query)
    except httpx.HTTPError as exc:
        raise GraphError(
            400, {"message": f"Callback verification failed: {exc}", "type": "OAuthException", "code": 2200}
        ) from exc
    if answer.status_code != 200 or answer.text.strip() != challenge:
        raise GraphError(
            400,
            {
                "message": "Callback verification failed with the following errors: HTTP Status "
                f"Code = {answer.status_code}",
                "type": "OAuthException",
                "code": 2200,
            },
        )
    sim.subscriptions[app_id] = {
        "callback_url": callback_url,
        "fields": str(params.get("fields", "")).split(","),
    }
    return _json({"success": True})


# --- the app ---------------------------------------------------------------------------------------------

ROUTES = [
    *groups.ROUTES,
    *flows.ROUTES,
    *template_analytics.ROUTES,
    *qr_codes.ROUTES,
    app_access_token,
    subscribe_app,
    send_message,
    upload_media,
    get_node,
    list_phone_numbers,
    delete_node,
    download_media,
    list_templates,
    create_template,
    delete_template,
    migrate_templates,
    update_node,
    health,
    get_config,
    update_config,
    reset,
    list_sent,
    list_read_receipts,
    list_webhooks,
    list_inbound,
    list_media,
    customer_message,
    push_status,
    add_fault,
    list_faults,
    clear_faults,
    seed_templates,
    set_template_status,
    verify_webhook,
]


def create_simulator_app(settings: SimulatorSettings) -> Litestar:
    """A Litestar app holding its own in-memory state (one process, one event loop)."""
    state = SimulatorState(settings)
    sender = WebhookSender(state)

    def provide_state() -> SimulatorState:
        return state

    def provide_sender() -> WebhookSender:
        return sender

    async def shut_down() -> None:
        state.cancel_tasks()
        await sender.aclose()

    app = Litestar(
        route_handlers=ROUTES,
        dependencies={
            "sim": Provide(provide_state, sync_to_thread=False),
            "webhooks": Provide(provide_sender, sync_to_thread=False),
        },
        middleware=[FaultInjection(state)],
        exception_handlers={GraphError: _handle_graph_error},
        on_shutdown=[shut_down],
        openapi_config=None,
        request_max_body_size=128 * 1024 * 1024,
        # Logging belongs to whoever hosts the simulator (the app configures it once for the process).
        logging_config=None,
    )
    app.state["simulator"] = state
    return app


async def run_simulator(host: str, port: int, settings: SimulatorSettings) -> None:
    """Serve the simulator with uvicorn until stopped (Ctrl+C)."""
    config = uvicorn.Config(
        create_simulator_app(settings), host=host, port=port, log_config=None, lifespan="on"
    )
    await uvicorn.Server(config).serve()
