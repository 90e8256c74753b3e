"""The Groups API of the simulator, shaped as Meta documents it, with the group webhooks Meta sends.

Graph API (bearer token required):

- POST   /{version}/{phone_id}/groups          create -> request_id; `group_lifecycle_update` follows
- GET    /{version}/{phone_id}/groups          the active groups (paged: limit, after)
- GET    /{version}/{group_id}                 the group (`fields`), its participants
- POST   /{version}/{group_id}                 settings (multipart: subject, description); webhook follows
- DELETE /{version}/{group_id}                 delete; `group_lifecycle_update` follows
- GET    /{version}/{group_id}/invite_link     the invite link; POST resets it
- GET    /{version}/{group_id}/join_requests   open join requests; POST approves, DELETE rejects
- DELETE /{version}/{group_id}/participants    remove participants; `group_participants_update` follows
- POST   /{version}/{phone_id}/messages        with `recipient_type: group`: statuses per participant

Control API: POST /_simulator/groups/{group_id}/join (someone uses the invite link),
POST /_simulator/groups/{group_id}/messages (a participant writes in the group),
POST /_simulator/groups/{group_id}/suspend (WhatsApp suspends it, or `{"cleared": true}`),
GET /_simulator/groups (what the simulator holds, with every Graph request it received).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import weakref
from dataclasses import asdict, dataclass, field
from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath

from pywhatsapp.adapters.whatsapp.simulator import payloads
from pywhatsapp.adapters.whatsapp.simulator.errors import graph_error, invalid_parameter
from pywhatsapp.adapters.whatsapp.simulator.graph_calls import check_graph_call, json_object
from pywhatsapp.adapters.whatsapp.simulator.state import SentMessage, SimulatorState
from pywhatsapp.adapters.whatsapp.simulator.webhooks import WebhookSender

AnyRequest = Request[Any, Any, Any]

APPROVAL_MODES = ("auto_approve", "approval_required")
MAX_SUBJECT = 128
MAX_DESCRIPTION = 2048
MAX_PARTICIPANTS = 8
ALL_FIELDS = frozenset(
    {
        "subject",
        "description",
        "creation_timestamp",
        "suspended",
        "total_participant_count",
        "participants",
        "join_approval_mode",
    }
)
LIFECYCLE_DELAY = 0.05
"""Seconds before the webhook that confirms a create or delete (Meta answers these asynchronously)."""


@dataclass
class SimGroup:
    id: str
    phone_number_id: str
    subject: str
    description: str | None
    join_approval_mode: str
    invite_link: str
    created_at: int
    request_id: str
    suspended: bool = False
    participants: dict[str, str] = field(default_factory=dict)
    """wa_id -> business-scoped user id."""
    join_requests: dict[str, str] = field(default_factory=dict)
    """join request id -> wa_id."""
    join_requested_at: dict[str, int] = field(default_factory=dict)

    def info(self, fields: set[str] | frozenset[str] | None = None) -> dict[str, Any]:
        full: dict[str, Any] = {
            "id": self.id,
            "subject": self.subject,
            "description": self.description or "",
            "creation_timestamp": self.created_at,
            "suspended": self.suspended,
            "total_participant_count": len(self.participants),
            "participants": [{"wa_id": w, "user_id": u} for w, u in self.participants.items()],
            "join_approval_mode": self.join_approval_mode,
        }
        if not fields:
            return {"id": self.id, "subject": self.subject, "creation_timestamp": self.created_at}
        return {key: value for key, value in full.items() if key in fields or key == "id"}


@dataclass
class GroupRequest:
    """A Graph API call about groups, as the simulator received it (for tests to look at)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float


@dataclass
class SimGroups:
    groups: dict[str, SimGroup] = field(default_factory=dict)
    requests: list[GroupRequest] = field(default_factory=list)


_STATES: weakref.WeakKeyDictionary[SimulatorState, SimGroups] = weakref.WeakKeyDictionary()


def groups_of(sim: SimulatorState) -> SimGroups:
    state = _STATES.get(sim)
    if state is None:
        state = _STATES[sim] = SimGroups()
    return state


def reset_groups(sim: SimulatorState) -> None:
    _STATES.pop(sim, None)


def find_group(sim: SimulatorState, node_id: str) -> SimGroup | None:
    return groups_of(sim).groups.get(node_id)


def _json(content: Any, status_code: int = 200) -> Response[Any]:
    return Response(content=content, status_code=status_code, media_type=MediaType.JSON)


async def _record(request: AnyRequest, sim: SimulatorState) -> dict[str, Any]:
    """The request's body (JSON or multipart form, {} when empty), recorded with its method and path."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        body = {key: value if isinstance(value, str) else "<file>" for key, value in form.items()}
    else:
        body = await json_object(request, invalid_parameter)
    groups_of(sim).requests.append(
        GroupRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            body=body,
            at=time.time(),
        )
    )
    return body


def _group_or_error(sim: SimulatorState, group_id: str, method: str) -> SimGroup:
    group = find_group(sim, group_id)
    if group is None:
        raise graph_error(
            100,
            f"Unsupported {method} request. Object with ID '{group_id}' does not exist, cannot be loaded"
            " due to missing permissions, or does not support this operation.",
            subcode=33,
        )
    return group


def _whatsapp(body: dict[str, Any]) -> None:
    product = body.get("messaging_product")
    if product != "whatsapp":
        raise invalid_parameter("The parameter messaging_product is required and must be whatsapp.")


def _new_group_id(phone_number_id: str) -> str:
    serial = 120363 * 10**12 + secrets.randbelow(10**12)
    raw = f"capi_group:{payloads.digits_of(phone_number_id) or '1'}:{serial}"
    return base64.b64encode(raw.encode()).decode().rstrip("=")


def _new_invite_link() -> str:
    return "https://chat.whatsapp.com/" + secrets.token_urlsafe(16)[:22]


def _group_value(sim: SimulatorState, phone_number_id: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": payloads.metadata(sim.settings.display_number_for(phone_number_id), phone_number_id),
        "groups": [{"timestamp": str(payloads.now()), **item}],
    }


async def _announce(
    sim: SimulatorState, webhooks: WebhookSender, field_name: str, phone_number_id: str, item: dict[str, Any]
) -> bool:
    """Deliver one group webhook; whether the receiver took it."""
    payload = payloads.envelope(sim.settings.waba_id, field_name, _group_value(sim, phone_number_id, item))
    delivery = await webhooks.deliver(payload, kind="group", body_type=f"{field_name}.{item.get('type')}")
    return delivery.delivered


async def _announce_later(
    sim: SimulatorState, webhooks: WebhookSender, field_name: str, phone_number_id: str, item: dict[str, Any]
) -> None:
    await asyncio.sleep(LIFECYCLE_DELAY)
    await _announce(sim, webhooks, field_name, phone_number_id, item)


def _checked_subject(value: Any) -> str:
    subject = value.strip() if isinstance(value, str) else ""
    if not subject:
        raise invalid_parameter("The parameter subject is required.")
    if len(subject) > MAX_SUBJECT:
        raise invalid_parameter(f"Param subject must be at most {MAX_SUBJECT} characters long.")
    return subject


def _checked_description(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise invalid_parameter(
            f"Param description must be a string of at most {MAX_DESCRIPTION} characters."
        )
    return value


# --- Graph API: the phone number's groups ------------------------------------------------------------------


@post("/{version:str}/{node_id:str}/groups", status_code=200)
async def create_group(
    request: AnyRequest,
    version: FromPath[str],
    node_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    body = await _record(request, sim)
    _whatsapp(body)
    subject = _checked_subject(body.get("subject"))
    description = _checked_description(body.get("description"))
    mode = body.get("join_approval_mode") or "auto_approve"
    if mode not in APPROVAL_MODES:
        raise invalid_parameter(f"Param join_approval_mode must be one of {{{', '.join(APPROVAL_MODES)}}}.")
    group = SimGroup(
        id=_new_group_id(node_id),
        phone_number_id=node_id,
        subject=subject,
        description=description,
        join_approval_mode=str(mode),
        invite_link=_new_invite_link(),
        created_at=payloads.now(),
        request_id=payloads.new_numeric_id(),
    )
    groups_of(sim).groups[group.id] = group
    item = {
        "group_id": group.id,
        "type": "group_create",
        "request_id": group.request_id,
        "subject": group.subject,
        "description": group.description or "",
        "invite_link": group.invite_link,
        "join_approval_mode": group.join_approval_mode,
    }
    sim.spawn(_announce_later(sim, webhooks, "group_lifecycle_update", node_id, item))
    return _json({"messaging_product": "whatsapp", "request_id": group.request_id})


@get("/{version:str}/{node_id:str}/groups")
async def list_groups(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    await _record(request, sim)
    fields = _fields(request)
    mine = [g for g in groups_of(sim).groups.values() if g.phone_number_id == node_id]
    try:
        limit = max(1, min(1024, int(request.query_params.get("limit", "25"))))
    except ValueError:
        raise invalid_parameter("Param limit must be a number.") from None
    after = request.query_params.get("after")
    start = next((i + 1 for i, g in enumerate(mine) if _cursor(g) == after), 0) if after else 0
    page = mine[start : start + limit]
    paging: dict[str, Any] = {}
    if page:
        paging["cursors"] = {"before": _cursor(page[0]), "after": _cursor(page[-1])}
        if start + limit < len(mine):
            paging["next"] = f"{request.url.path}?limit={limit}&after={_cursor(page[-1])}"
    return _json({"data": {"groups": [g.info(fields) for g in page]}, "paging": paging})


def _cursor(group: SimGroup) -> str:
    return base64.urlsafe_b64encode(group.id.encode()).decode()


def _fields(request: AnyRequest) -> set[str]:
    return {f.strip() for f in request.query_params.get("fields", "").split(",") if f.strip()}


# --- Graph API: one group (dispatched from the node routes of app.py) --------------------------------------


async def get_group(request: AnyRequest, group: SimGroup, sim: SimulatorState) -> Response[Any]:
    await _record(request, sim)
    return _json({"messaging_product": "whatsapp", **group.info(_fields(request) or ALL_FIELDS)})


async def update_group(
    request: AnyRequest, group: SimGroup, sim: SimulatorState, webhooks: WebhookSender
) -> Response[Any]:
    body = await _record(request, sim)
    _whatsapp(body)
    if "subject" not in body and "description" not in body and "profile_picture_file" not in body:
        raise invalid_parameter("Give subject, description or profile_picture_file to update.")
    item: dict[str, Any] = {"group_id": group.id, "type": "group_settings_update"}
    if "subject" in body:
        group.subject = _checked_subject(body["subject"])
        item["group_subject"] = {"text": group.subject, "update_successful": True}
        item["subject"] = group.subject
    if "description" in body:
        group.description = _checked_description(body["description"])
        item["description"] = group.description or ""
    request_id = payloads.new_numeric_id()
    item["request_id"] = request_id
    sim.spawn(_announce_later(sim, webhooks, "group_settings_update", group.phone_number_id, item))
    return _json({"messaging_product": "whatsapp", "request_id": request_id})


async def delete_group(
    request: AnyRequest, group: SimGroup, sim: SimulatorState, webhooks: WebhookSender
) -> Response[Any]:
    await _record(request, sim)
    del groups_of(sim).groups[group.id]
    request_id = payloads.new_numeric_id()
    item = {"group_id": group.id, "type": "group_delete", "request_id": request_id}
    sim.spawn(_announce_later(sim, webhooks, "group_lifecycle_update", group.phone_number_id, item))
    return _json({"messaging_product": "whatsapp", "request_id": request_id})


@get("/{version:str}/{node_id:str}/invite_link")
async def get_invite_link(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    group = _group_or_error(sim, node_id, "get")
    await _record(request, sim)
    return _json({"messaging_product": "whatsapp", "invite_link": group.invite_link})


@post("/{version:str}/{node_id:str}/invite_link", status_code=200)
async def reset_invite_link(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    group = _group_or_error(sim, node_id, "post")
    _whatsapp(await _record(request, sim))
    group.invite_link = _new_invite_link()
    return _json({"messaging_product": "whatsapp", "invite_link": group.invite_link})


@get("/{version:str}/{node_id:str}/join_requests")
async def list_join_requests(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    group = _group_or_error(sim, node_id, "get")
    await _record(request, sim)
    data = [
        {"join_request_id": rid, "wa_id": wa_id, "creation_timestamp": group.join_requested_at.get(rid, 0)}
        for rid, wa_id in group.join_requests.items()
    ]
    return _json({"data": data, "paging": {"cursors": {"before": "", "after": ""}}})


def _join_request_ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("join_requests")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise invalid_parameter("The parameter join_requests is required (a list of join request ids).")
    return ids


def _failed(request_id: str) -> dict[str, Any]:
    return {
        "join_request_id": request_id,
        "errors": [
            {"code": 131009, "message": "Join request not found", "title": "Parameter value is not valid"}
        ],
    }


@post("/{version:str}/{node_id:str}/join_requests", status_code=200)
async def approve_join_requests(
    request: AnyRequest,
    version: FromPath[str],
    node_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    group = _group_or_error(sim, node_id, "post")
    body = await _record(request, sim)
    _whatsapp(body)
    approved, failed = [], []
    for request_id in _join_request_ids(body):
        wa_id = group.join_requests.pop(request_id, None)
        if wa_id is None:
            failed.append(_failed(request_id))
            continue
        approved.append(request_id)
        group.participants[wa_id] = payloads.bsuid_for(wa_id)
        item = {
            "group_id": group.id,
            "type": "group_participants_add",
            "reason": "join_request_approved",
            "added_participants": [{"wa_id": wa_id}],
        }
        sim.spawn(_announce_later(sim, webhooks, "group_participants_update", group.phone_number_id, item))
    return _json(
        {"messaging_product": "whatsapp", "approved_join_requests": approved, "failed_join_requests": failed}
    )


@delete("/{version:str}/{node_id:str}/join_requests", status_code=200)
async def reject_join_requests(
    request: AnyRequest, version: FromPath[str], node_id: FromPath[str], sim: NamedDependency[SimulatorState]
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    group = _group_or_error(sim, node_id, "delete")
    body = await _record(request, sim)
    _whatsapp(body)
    rejected, failed = [], []
    for request_id in _join_request_ids(body):
        if group.join_requests.pop(request_id, None) is None:
            failed.append(_failed(request_id))
        else:
            rejected.append(request_id)
    return _json(
        {"messaging_product": "whatsapp", "rejected_join_requests": rejected, "failed_join_requests": failed}
    )


@delete("/{version:str}/{node_id:str}/participants", status_code=200)
async def remove_participants(
    request: AnyRequest,
    version: FromPath[str],
    node_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> Response[Any]:
    check_graph_call(request, version, sim.settings)
    group = _group_or_error(sim, node_id, "delete")
    body = await _record(request, sim)
    _whatsapp(body)
    participants = body.get("participants")
    if not isinstance(participants, list) or not participants or len(participants) > MAX_PARTICIPANTS:
        raise invalid_parameter(f"The parameter participants is required (1 to {MAX_PARTICIPANTS}).")
    removed, failed = [], []
    for participant in participants:
        user = participant.get("user") if isinstance(participant, dict) else None
        wa_id = payloads.digits_of(str(user or ""))
        if wa_id in group.participants:
            del group.participants[wa_id]
            removed.append({"wa_id": wa_id})
        else:
            failed.append(
                {"wa_id": wa_id or str(user), "errors": [{"code": 131009, "title": "Not a participant"}]}
            )
    request_id = payloads.new_numeric_id()
    item: dict[str, Any] = {
        "group_id": group.id,
        "type": "group_participants_remove",
        "request_id": request_id,
        "removed_participants": removed,
        "initiated_by": "business",
    }
    if failed:
        item["failed_participants"] = failed
    sim.spawn(_announce_later(sim, webhooks, "group_participants_update", group.phone_number_id, item))
    return _json({"messaging_product": "whatsapp", "request_id": request_id})


# --- group messages ----------------------------------------------------------------------------------------


async def send_to_group(
    node_id: str,
    body: dict[str, Any],
    typ: str,
    category: str,
    sim: SimulatorState,
    webhooks: WebhookSender,
) -> Response[Any]:
    """`POST /{phone_id}/messages` with `recipient_type: group`: `to` must be one of the number's groups."""
    group_id = str(body.get("to") or "")
    group = find_group(sim, group_id)
    if group is None or group.phone_number_id != node_id:
        raise graph_error(131009, details="The group id is not valid for this phone number.")
    if group.suspended:
        raise graph_error(131031, details="The group is suspended.")
    tracker = body.get("biz_opaque_callback_data")
    message = SentMessage(
        wamid=payloads.new_wamid(payloads.digits_of(group.id)[:15] or "1"),
        phone_number_id=node_id,
        to=group.id,
        wa_id="",
        user_id="",
        type=typ,
        body=body,
        category=category,
        biz_opaque_callback_data=str(tracker) if tracker is not None else None,
        received_at=time.time(),
    )
    sim.record_sent(message)
    sim.spawn(_group_status_timeline(sim, webhooks, message, group))
    return _json(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": group.id, "wa_id": group.id}],
            "messages": [{"id": message.wamid}],
        }
    )


def _group_status_value(
    sim: SimulatorState, message: SentMessage, group: SimGroup, status: str, participants: list[str]
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": message.wamid,
        "status": status,
        "timestamp": str(payloads.now()),
        "recipient_id": group.id,
        "recipient_type": "group",
    }
    if message.biz_opaque_callback_data is not None:
        base["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    # `sent` is one status for the group; delivered and read come aggregated, one item per participant.
    statuses = (
        [base]
        if status == "sent" or not participants
        else [
            {
                **base,
                "recipient_participant_id": wa_id,
                "recipient_participant_user_id": group.participants[wa_id],
            }
            for wa_id in participants
        ]
    )
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": payloads.metadata(
            sim.settings.display_number_for(message.phone_number_id), message.phone_number_id
        ),
        "statuses": statuses,
    }
    if status != "sent" and participants:
        value["contacts"] = [{"wa_id": w, "user_id": group.participants[w]} for w in participants]
    return value


async def _group_status_timeline(
    sim: SimulatorState, webhooks: WebhookSender, message: SentMessage, group: SimGroup
) -> None:
    settings = sim.settings
    statuses = ["sent", "delivered"] + (["read"] if settings.auto_read else [])
    for status, delay in zip(statuses, settings.status_delays, strict=False):
        await asyncio.sleep(max(0.0, message.received_at + delay - time.time()))
        participants = list(group.participants)
        if status != "sent" and not participants:
            return  # nobody to deliver to
        payload = payloads.envelope(
            settings.waba_id, "messages", _group_status_value(sim, message, group, status, participants)
        )
        await webhooks.deliver(payload, kind="status", body_type=f"statuses.{status}", wamid=message.wamid)


# --- control API -------------------------------------------------------------------------------------------


async def _control_body(request: AnyRequest) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise ClientException("The body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ClientException("The body must be a JSON object")
    return data


def _control_group(sim: SimulatorState, group_id: str) -> SimGroup:
    group = find_group(sim, group_id)
    if group is None:
        raise NotFoundException(f"no group {group_id}")
    return group


@get("/_simulator/groups")
async def control_list_groups(sim: NamedDependency[SimulatorState]) -> dict[str, Any]:
    state = groups_of(sim)
    return {
        "groups": [asdict(g) for g in state.groups.values()],
        "requests": [asdict(r) for r in state.requests],
    }


@post("/_simulator/groups/{group_id:str}/join", status_code=200)
async def control_join(
    request: AnyRequest,
    group_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> dict[str, Any]:
    """Someone opens the invite link: joins (auto_approve) or asks to join (approval_required)."""
    group = _control_group(sim, group_id)
    body = await _control_body(request)
    wa_id = payloads.digits_of(str(body.get("wa_id") or ""))
    if not wa_id:
        raise ClientException("wa_id (the person's phone number) is required")
    if group.join_approval_mode == "approval_required":
        request_id = payloads.new_numeric_id()
        group.join_requests[request_id] = wa_id
        group.join_requested_at[request_id] = payloads.now()
        item: dict[str, Any] = {
            "group_id": group.id,
            "type": "group_join_request_created",
            "join_request_id": request_id,
            "wa_id": wa_id,
        }
        delivered = await _announce(sim, webhooks, "group_participants_update", group.phone_number_id, item)
        return {"joined": False, "join_request_id": request_id, "delivered": delivered}
    if len(group.participants) >= MAX_PARTICIPANTS:
        raise ClientException(f"the group is full ({MAX_PARTICIPANTS} participants)")
    group.participants[wa_id] = payloads.bsuid_for(wa_id)
    item = {
        "group_id": group.id,
        "type": "group_participants_add",
        "reason": "invite_link",
        "added_participants": [{"wa_id": wa_id}],
    }
    delivered = await _announce(sim, webhooks, "group_participants_update", group.phone_number_id, item)
    return {"joined": True, "delivered": delivered}


@post("/_simulator/groups/{group_id:str}/messages", status_code=200)
async def control_group_message(
    request: AnyRequest,
    group_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> dict[str, Any]:
    """A participant writes in the group: Meta's `messages` webhook with the message's `group_id`."""
    group = _control_group(sim, group_id)
    body = await _control_body(request)
    wa_id = payloads.digits_of(str(body.pop("wa_id", "") or ""))
    if wa_id not in group.participants:
        raise ClientException("wa_id must be a participant of the group (join first)")
    name = str(body.pop("name", None) or f"Member {wa_id[-4:]}")
    typ = str(body.pop("type", None) or "text")
    if typ == "text" and isinstance(body.get("text"), str):
        body["text"] = {"body": body["text"]}
    wamid = str(body.pop("id", None) or payloads.new_wamid(wa_id))
    message = {
        "from": wa_id,
        "from_user_id": group.participants[wa_id],
        "group_id": group.id,
        "id": wamid,
        "timestamp": str(payloads.now()),
        "type": typ,
        **body,
    }
    value = payloads.inbound_message_value(
        phone_number_id=group.phone_number_id,
        display_phone_number=sim.settings.display_number_for(group.phone_number_id),
        wa_id=wa_id,
        user_id=group.participants[wa_id],
        name=name,
        message=message,
    )
    payload = payloads.envelope(sim.settings.waba_id, "messages", value)
    sim.inbound.append(payload)
    delivery = await webhooks.deliver(payload, kind="message", body_type=f"messages.{typ}", wamid=wamid)
    return {
        "wamid": wamid,
        "delivered": delivery.delivered,
        "status_code": delivery.status_code,
        "payload": payload,
    }


@post("/_simulator/groups/{group_id:str}/suspend", status_code=200)
async def control_suspend(
    request: AnyRequest,
    group_id: FromPath[str],
    sim: NamedDependency[SimulatorState],
    webhooks: NamedDependency[WebhookSender],
) -> dict[str, Any]:
    group = _control_group(sim, group_id)
    cleared = bool((await _control_body(request)).get("cleared"))
    group.suspended = not cleared
    item = {"group_id": group.id, "type": "group_suspend_cleared" if cleared else "group_suspend"}
    await _announce(sim, webhooks, "group_status_update", group.phone_number_id, item)
    return {"suspended": group.suspended}


ROUTES = [
    create_group,
    list_groups,
    get_invite_link,
    reset_invite_link,
    list_join_requests,
    approve_join_requests,
    reject_join_requests,
    remove_participants,
    control_list_groups,
    control_join,
    control_group_message,
    control_suspend,
]
