"""Message QR codes in the simulator (Meta's `message_qrdls` edge), and the commerce message checks.

Graph API (bearer token required), as Meta documents it (WhatsApp Business Management API, QR codes):

- POST   /{version}/{phone_id}/message_qrdls           `{"prefilled_message", "generate_qr_image": PNG|SVG}`
                                                       -> code, prefilled_message, deep_link_url,
                                                       qr_image_url; with `"code"` it updates that code
- GET    /{version}/{phone_id}/message_qrdls           `{"data": [...], "paging": ...}` (`fields` may ask
                                                       for `qr_image_url.format(SVG)`)
- GET    /{version}/{phone_id}/message_qrdls/{code}    `{"data": [the code]}` (`{"data": []}` if unknown)
- DELETE /{version}/{phone_id}/message_qrdls/{code}    `{"success": true}`
- GET    /qr_images/{code}.png | .svg                  the image (a real, scannable QR code of the link)

Control API: GET /_simulator/qr_codes (the codes and every Graph request about them),
POST /_simulator/qr_codes/{code}/scan `{"wa_id", "name"?}` (a customer scans the code and sends its
prefilled message, as a signed webhook).
"""

from __future__ import annotations

import io
import json
import re
import secrets
import string
import time
import weakref
from dataclasses import asdict, dataclass, field
from typing import Any

import segno
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath

from pywhatsapp.adapters.whatsapp.simulator import payloads
from pywhatsapp.adapters.whatsapp.simulator.errors import graph_error, invalid_parameter
from pywhatsapp.adapters.whatsapp.simulator.graph_calls import check_graph_call, json_object
from pywhatsapp.adapters.whatsapp.simulator.state import SimulatorState
from pywhatsapp.adapters.whatsapp.simulator.webhooks import WebhookSender

AnyRequest = Request[Any, Any, Any]

MAX_PREFILLED_MESSAGE = 140
MAX_CODES_PER_NUMBER = 2000
IMAGE_FORMATS = {"PNG": ("png", "image/png"), "SVG": ("svg", "image/svg+xml")}
DEFAULT_FIELDS = ("code", "prefilled_message", "deep_link_url")
FORMAT_FIELD = re.compile(r"^qr_image_url(?:\.format\((PNG|SVG)\))?$")
CODE_ALPHABET = string.ascii_uppercase + string.digits
IMAGES_PATH = "/qr_images"


@dataclass
class SimQrCode:
    code: str
    phone_number_id: str
    prefilled_message: str
    image_format: str
    created_at: float

    @property
    def deep_link_url(self) -> str:
        return f"https://wa.me/message/{self.code}"


@dataclass
class QrRequest:
    """A Graph API call about QR codes as the simulator received it (for tests to look at)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float


@dataclass
class SimQrCodes:
    codes: dict[str, SimQrCode] = field(default_factory=dict)
    requests: list[QrRequest] = field(default_factory=list)


_STATES: weakref.WeakKeyDictionary[SimulatorState, SimQrCodes] = weakref.WeakKeyDictionary()


def qr_codes_of(sim: SimulatorState) -> SimQrCodes:
    state = _STATES.get(sim)
    if state is None:
        state = _STATES[sim] = SimQrCodes()
    return state


def reset_qr_codes(sim: SimulatorState) -> None:
    _STATES.pop(sim, None)


def _json(content: Any, status_code: int = 200) -> Response[Any]:
    return Response(content=content, status_code=status_code, media_type=MediaType.JSON)


async def _record(request: AnyRequest, sim: SimulatorState) -> dict[str, Any]:
    body = await json_object(request, invalid_parameter)
    qr_codes_of(sim).requests.append(
        QrRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            body=body,
            at=time.time(),
        )
    )
    return body


def _checked_message(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid_parameter("The parameter prefilled_message is required.")
    if len(value) > MAX_PREFILLED_MESSAGE:
        raise invalid_parameter(
            f"Param prefilled_message must be at most {MAX_PREFILLED_MESSAGE} characters long."
        )
    return value


def _image_url(request: AnyRequest, sim: SimulatorState, qr: SimQrCode, image_format: str) -> str:
    base = (sim.settings.public_url or str(request.base_url)).rstrip("/")
    extension = IMAGE_FORMATS[image_format][0]
    return f"{base}{IMAGES_PATH}/{qr.code}.{extension}?token={secrets.token_urlsafe(8)}"


def _view(qr: SimQrCode, fields: tuple[str, ...], image_url: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name in fields:
        if name == "code":
            item["code"] = qr.code
        elif name == "prefilled_message":
            item["prefilled_message"] = qr.prefilled_message
        elif name == "deep_link_url":
            item["deep_link_url"] = qr.deep_link_url
    if image_url is not None:
        item["qr_image_url"] = image_url
    return item


def _asked(request: AnyRequest) -> tuple[tuple[str, ...], str | None]:
    """The fields asked for (`fields=code,prefilled_message,qr_image_url.format(SVG)`) and the image
    format, if the image URL is one of them."""
    wanted = request.query_params.get("fields")
    if not wanted:
        return DEFAULT_FIELDS, None
    names: list[str] = []
    image: str | None = None
    for name in (part.strip() for part in wanted.split(",")):
        match = FORMAT_FIELD.match(name)
        if match:
            image = match.group(1) or "PNG"
        elif name in DEFAULT_FIELDS:
            names.append(name)
        elif name:
            raise invalid_parameter(f"Tried accessing nonexisting field ({name}) on node type (MessageQrdl)")
    return tuple(names), image


@post("/{version:str}/{node_id:str}/message_qrdls", status_code=200)
async def create_or_update_qr_code(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    body = await _record(request, sim)
    state = qr_codes_of(sim)
    message = _checked_message(body.get("prefilled_message"))
    code = body.get("code")
    if code is not None:
        qr = state.codes.get(str(code))
        if qr is None or qr.phone_number_id != node_id:
            raise invalid_parameter(f"The QR code {code} does not exist.")
        qr.prefilled_message = message
        return _json(_view(qr, DEFAULT_FIELDS))
    image_format = str(body.get("generate_qr_image") or "").upper()
    if image_format not in IMAGE_FORMATS:
        raise invalid_parameter(
            f'Param generate_qr_image must be one of {{PNG, SVG}} - got "{image_format}".'
        )
    if sum(1 for qr in state.codes.values() if qr.phone_number_id == node_id) >= MAX_CODES_PER_NUMBER:
        raise invalid_parameter(f"A phone number can have at most {MAX_CODES_PER_NUMBER} QR codes.")
    new_code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(14))
    qr = SimQrCode(
        code=new_code,
        phone_number_id=node_id,
        prefilled_message=message,
        image_format=image_format,
        created_at=time.time(),
    )
    state.codes[new_code] = qr
    return _json(_view(qr, DEFAULT_FIELDS, _image_url(request, sim, qr, image_format)))


@get("/{version:str}/{node_id:str}/message_qrdls")
async def list_qr_codes(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    await _record(request, sim)
    fields, image = _asked(request)
    codes = [qr for qr in qr_codes_of(sim).codes.values() if qr.phone_number_id == node_id]
    data = [_view(qr, fields, _image_url(request, sim, qr, image) if image else None) for qr in codes]
    result: dict[str, Any] = {"data": data}
    if codes:
        result["paging"] = {"cursors": {"before": codes[0].code, "after": codes[-1].code}}
    return _json(result)


@get("/{version:str}/{node_id:str}/message_qrdls/{code:str}")
async def get_qr_code(
    request: AnyRequest,
    version: FromPath[str],
    node_id: FromPath[str],
    code: FromPath[str],
    sim: NamedDependency[SimulatorState],
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    await _record(request, sim)
    fields, image = _asked(request)
    qr = qr_codes_of(sim).codes.get(code)
    if qr is None or qr.phone_number_id != node_id:
        return _json({"data": []})
    return _json({"data": [_view(qr, fields, _image_url(request, sim, qr, image) if image else None)]})


@delete("/{version:str}/{node_id:str}/message_qrdls/{code:str}", status_code=200)
async def delete_qr_code(
    request: AnyRequest,
    version: FromPath[str],
    node_id: FromPath[str],
    code: FromPath[str],
    sim: NamedDependency[SimulatorState],
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    await _record(request, sim)
    codes = qr_codes_of(sim).codes
    qr = codes.get(code)
    if qr is None or qr.phone_number_id != node_id:
        raise invalid_parameter(f"The QR code {code} does not exist.")
    del codes[code]
    return _json({"success": True})


@get(f"{IMAGES_PATH}/{{name:str}}")
async def qr_image(name: FromPath[str], sim: NamedDependency[SimulatorState]) -> Response[bytes]:
    """The image behind `qr_image_url`: like Meta's CDN, no token needed."""
    code, _, extension = name.partition(".")
    qr = qr_codes_of(sim).codes.get(code)
    image_format = next((f for f, (ext, _) in IMAGE_FORMATS.items() if ext == extension), None)
    if qr is None or image_format is None:
        return Response(content=b"", status_code=404, media_type="text/plain")
    buffer = io.BytesIO()
    segno.make(qr.deep_link_url, error="m").save(buffer, kind=extension, scale=8, border=2)
    return Response(content=buffer.getvalue(), media_type=IMAGE_FORMATS[image_format][1])


# --- control API -----------------------------------------------------------------------------------------


@get("/_simulator/qr_codes")
async def control_list_qr_codes(sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    state = qr_codes_of(sim)
    return {
        "codes": [{**asdict(qr), "deep_link_url": qr.deep_link_url} for qr in state.codes.values()],
        "requests": [asdict(r) for r in state.requests],
    }


@post("/_simulator/qr_codes/{code:str}/scan", status_code=200)
async def control_scan(
    request: AnyRequest,
    code: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> dict[str, Any]:
    """A customer scans the code: WhatsApp opens the chat with its prefilled message, which they send."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ClientException("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ClientException("The request body must be a JSON object")
    qr = qr_codes_of(sim).codes.get(code)
    if qr is None:
        raise NotFoundException(f"no QR code {code}")
    customer = payloads.digits_of(str(body.get("wa_id") or ""))
    if not customer:
        raise ClientException("wa_id must be the customer's phone number, in digits")
    settings = sim.settings
    user_id = payloads.bsuid_for(customer)
    wamid = payloads.new_wamid(customer)
    message = {
        "from": customer,
        "from_user_id": user_id,
        "id": wamid,
        "timestamp": str(payloads.now()),
        "type": "text",
        "text": {"body": qr.prefilled_message},
    }
    value = payloads.inbound_message_value(
        phone_number_id=qr.phone_number_id,
        display_phone_number=settings.display_number_for(qr.phone_number_id),
        wa_id=customer,
        user_id=user_id,
        name=str(body.get("name") or f"Customer {customer[-4:]}"),
        message=message,
    )
    payload = payloads.envelope(settings.waba_id, "messages", value)
    sim.inbound.append(payload)
    delivery = await webhooks.deliver(payload, kind="message", body_type="messages.text", wamid=wamid)
    return {"wamid": wamid, "delivered": delivery.delivered, "status_code": delivery.status_code}


# --- commerce and location request messages --------------------------------------------------------------


def check_interactive(content: dict[str, Any]) -> None:
    """Meta's required fields for product, product_list, catalog_message and location_request_message."""
    kind = content.get("type")
    action = content.get("action")
    action = action if isinstance(action, dict) else {}
    body = content.get("body")
    body_text = body.get("text") if isinstance(body, dict) else None
    if kind == "product":
        for key in ("catalog_id", "product_retailer_id"):
            if not action.get(key):
                raise invalid_parameter(f"The parameter interactive['action']['{key}'] is required.")
    elif kind == "product_list":
        header = content.get("header")
        if not (isinstance(header, dict) and header.get("type") == "text" and header.get("text")):
            raise invalid_parameter("The parameter interactive['header'] is required.")
        if not body_text:
            raise invalid_parameter("The parameter interactive['body']['text'] is required.")
        if not action.get("catalog_id"):
            raise invalid_parameter("The parameter interactive['action']['catalog_id'] is required.")
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            raise invalid_parameter("Param interactive['action']['sections'] must have 1 to 10 sections.")
        items = [
            item
            for section in sections
            if isinstance(section, dict) and isinstance(section.get("product_items"), list)
            for item in section["product_items"]
        ]
        if (
            not items
            or len(items) > 30
            or any(not (isinstance(i, dict) and i.get("product_retailer_id")) for i in items)
        ):
            raise graph_error(131009, details="A product list holds 1 to 30 products, each with its id.")
    elif kind == "catalog_message":
        if action.get("name") != "catalog_message" or not body_text:
            raise invalid_parameter(
                "A catalog message needs interactive['body']['text'] and action name catalog_message."
            )
    elif kind == "location_request_message" and (action.get("name") != "send_location" or not body_text):
        raise invalid_parameter(
            "A location request needs interactive['body']['text'] and action name send_location."
        )


ROUTES = [
    create_or_update_qr_code,
    list_qr_codes,
    get_qr_code,
    delete_qr_code,
    qr_image,
    control_list_qr_codes,
    control_scan,
]
