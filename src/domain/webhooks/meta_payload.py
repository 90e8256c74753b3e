"""Meta's WhatsApp Cloud API webhook body, read item by item into `Update`s.

Pure: no I/O, no framework, standard library only. The only thing that raises is a body that is not a
WhatsApp Business Account webhook at all (`MalformedWebhook`); inside a real body every shape Meta may
send, today or in a later Graph API version, is read defensively and kept: what is not understood becomes
an `OtherUpdate`, or an `InboundMessage` of type "unknown" for a message whose type is missing or new.

Shape (https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components):

    {"object": "whatsapp_business_account",
     "entry": [{"id": <WABA id>, "changes": [{"field": "messages", "value": {
         "metadata": {"phone_number_id": ...}, "contacts": [...], "messages": [...], "statuses": [...]}}]}]}
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.messaging.order import order_content, order_summary
from pywhatsapp.domain.webhooks.updates import (
    InboundMessage,
    MalformedWebhook,
    MessageDeleted,
    MessageEdited,
    OtherUpdate,
    ReactionUpdate,
    StatusUpdate,
    TemplateUpdate,
    Update,
)

KNOWN_MESSAGE_TYPES = frozenset(
    {
        "text",
        "image",
        "video",
        "audio",
        "voice",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "order",
        "request_welcome",
        "nfm_reply",
        "unsupported",
        "unknown",
    }
)
"""Message types read as an `InboundMessage` under their own name. Reaction, edit and revoke have their
own updates; "system" (the customer changed number or identity) is a notice about the contact, not a
message from them, so it is an `OtherUpdate` and opens no service window; any other type, or none, is an
`InboundMessage` of type "unknown"."""

_CAPTIONED_TYPES = frozenset({"image", "video", "document", "audio", "sticker"})
_MESSAGE_EXTRAS = ("referral", "errors", "identity")
"""Keys of a message, beside its type's own object, that `content` carries along."""

_TEMPLATE_KINDS = {
    "message_template_status_update": "status",
    "template_category_update": "category",
    "message_template_quality_update": "quality",
    "message_template_components_update": "components",
}


def parse_webhook_body(body: object) -> list[Update]:
    """Every update in a decoded webhook body, in the order Meta sent them.

    Raises `MalformedWebhook` only when `body` is not an object with an `entry` list.
    """
    if not isinstance(body, dict):
        raise MalformedWebhook(f"body is a {type(body).__name__}, not an object")
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise MalformedWebhook("body has no 'entry' list")
    updates: list[Update] = []
    for entry in entries:
        if isinstance(entry, dict):
            updates.extend(_parse_entry(entry))
    return updates


# --- entries and changes ---------------------------------------------------------------------------------


def _parse_entry(entry: dict[str, Any]) -> list[Update]:
    waba_id = _as_str(entry.get("id"))
    changes = entry.get("changes")
    if not isinstance(changes, list):
        # An entry without changes is not a shape Meta documents for WhatsApp: keep it to be looked at.
        return [OtherUpdate(field_name="unknown", waba_id=waba_id, phone_number_id=None, raw=entry)]
    updates: list[Update] = []
    for change in changes:
        if isinstance(change, dict):
            updates.extend(_parse_change(change, waba_id))
    return updates


def _parse_change(change: dict[str, Any], waba_id: str | None) -> list[Update]:
    field_name = _as_str(change.get("field")) or "unknown"
    value = change.get("value")
    if field_name == "messages" and isinstance(value, dict):
        updates = _parse_messages_value(value, waba_id)
        if updates:
            return updates
    elif field_name in _TEMPLATE_KINDS and isinstance(value, dict):
        return [_parse_template_update(_TEMPLATE_KINDS[field_name], value, waba_id or "")]
    elif field_name.startswith("group_") and isinstance(value, dict):
        # Imported here: the group reader uses this module's small readers.
        from pywhatsapp.domain.webhooks.group_payload import GROUP_FIELDS, parse_group_value

        group_updates = parse_group_value(field_name, value) if field_name in GROUP_FIELDS else []
        if group_updates:
            return [*group_updates]
    return [
        OtherUpdate(
            field_name=field_name,
            waba_id=waba_id,
            phone_number_id=_phone_number_id(value),
            raw=value if isinstance(value, dict) else {"value": value},
        )
    ]


def _phone_number_id(value: object) -> str | None:
    if not isinstance(value, dict):
        return None
    metadata = value.get("metadata")
    return _as_str(metadata.get("phone_number_id")) if isinstance(metadata, dict) else None


# --- field "messages": messages and statuses --------------------------------------------------------------


def _parse_messages_value(value: dict[str, Any], waba_id: str | None) -> list[Update]:
    """Every message and status of one "messages" change; [] when it holds neither."""
    phone_number_id = _phone_number_id(value) or ""
    names = _profile_names(value.get("contacts"))
    value_errors = value.get("errors")
    updates: list[Update] = []
    for message in _dicts(value.get("messages")):
        updates.append(_parse_message(message, phone_number_id, waba_id, names, value_errors))
    for status in _dicts(value.get("statuses")):
        updates.append(_parse_status(status, phone_number_id))
    return updates


def _profile_names(contacts: object) -> dict[str, str]:
    """Profile name by sender id: by `wa_id`, and by `user_id` (the business-scoped id) when present."""
    names: dict[str, str] = {}
    for contact in _dicts(contacts):
        profile = contact.get("profile")
        name = _as_text(profile.get("name")) if isinstance(profile, dict) else None
        if name is None:
            continue
        for key in ("wa_id", "user_id"):
            sender = _as_str(contact.get(key))
            if sender is not None:
                names.setdefault(sender, name)
    return names


def _parse_message(
    message: dict[str, Any],
    phone_number_id: str,
    waba_id: str | None,
    names: dict[str, str],
    value_errors: object,
) -> Update:
    wamid = _as_str(message.get("id")) or ""
    # `from` is the sender's phone number; newer versions may send only the business-scoped user id.
    wa_id = _as_str(message.get("from")) or _as_str(message.get("from_user_id")) or ""
    timestamp = parse_timestamp(message.get("timestamp"))
    meta_type = _as_str(message.get("type"))

    if meta_type == "reaction":
        reaction = message.get("reaction")
        target = _as_str(reaction.get("message_id")) if isinstance(reaction, dict) else None
        if target is not None and isinstance(reaction, dict):
            return ReactionUpdate(
                phone_number_id=phone_number_id,
                wamid=wamid,
                wa_id=wa_id,
                target_wamid=target,
                emoji=_as_text(reaction.get("emoji")),  # "" or missing: the reaction was removed
                timestamp=timestamp,
                raw=message,
            )
    elif meta_type == "edit":
        edit = message.get("edit")
        original = _as_str(edit.get("original_message_id")) if isinstance(edit, dict) else None
        if original is not None and isinstance(edit, dict):
            new_message = edit.get("message")
            new_message = new_message if isinstance(new_message, dict) else {}
            new_type = _message_type(new_message)
            return MessageEdited(
                phone_number_id=phone_number_id,
                wamid=wamid,
                wa_id=wa_id,
                original_wamid=original,
                new_type=new_type,
                new_text=_message_text(new_type, new_message),
                new_content=_message_content(new_message, _as_str(new_message.get("type"))),
                timestamp=timestamp,
                raw=message,
            )
    elif meta_type == "revoke":
        revoke = message.get("revoke")
        original = _as_str(revoke.get("original_message_id")) if isinstance(revoke, dict) else None
        if original is not None:
            return MessageDeleted(
                phone_number_id=phone_number_id,
                wamid=wamid,
                wa_id=wa_id,
                original_wamid=original,
                timestamp=timestamp,
                raw=message,
            )

    elif meta_type == "system":
        return OtherUpdate(
            field_name="messages", waba_id=waba_id, phone_number_id=phone_number_id, raw=message
        )

    # Everything else, and a reaction/edit/revoke too broken to say what it is about: a message, kept.
    message_type = _message_type(message)
    content = _message_content(message, meta_type)
    if message_type == "order":
        # The cart with its quantities, prices and totals read as numbers (Meta's may come as strings).
        content.update(order_content(message.get("order")))
    if "errors" not in content and isinstance(value_errors, list) and value_errors:
        # Meta sometimes reports what it could not read about a message beside it, not inside it.
        content["errors"] = value_errors
    context = message.get("context")
    context = context if isinstance(context, dict) else {}
    return InboundMessage(
        phone_number_id=phone_number_id,
        wamid=wamid,
        wa_id=wa_id,
        type=message_type,
        timestamp=timestamp,
        profile_name=names.get(wa_id),
        text=_message_text(message_type, message),
        content=content,
        context_wamid=_as_str(context.get("id")),
        forwarded=context.get("forwarded") is True,
        frequently_forwarded=context.get("frequently_forwarded") is True,
        group_id=_as_str(message.get("group_id")),
        raw=message,
    )


def _message_type(message: dict[str, Any]) -> str:
    meta_type = _as_str(message.get("type"))
    return meta_type if meta_type in KNOWN_MESSAGE_TYPES else "unknown"


def _message_content(message: dict[str, Any], meta_type: str | None) -> dict[str, Any]:
    """The type's own object (a list, as for contacts, is kept under its type's name), plus the extras."""
    own = message.get(meta_type) if meta_type else None
    content: dict[str, Any]
    if isinstance(own, dict):
        content = dict(own)
    elif own is not None and meta_type is not None:
        content = {meta_type: own}
    else:
        content = {}
    for key in _MESSAGE_EXTRAS:
        if key in message:
            content[key] = message[key]
    if meta_type == "interactive" and content.get("type") == "nfm_reply":
        content.update(_flow_completion(content.get("nfm_reply")))
    return content


def _flow_completion(reply: object) -> dict[str, Any]:
    """A flow's completion (`nfm_reply`): Meta sends the answers as a JSON string; `flow_response` holds
    them parsed (the string stays as Meta sent it), `flow_token` the token the flow was sent with."""
    raw = reply.get("response_json") if isinstance(reply, dict) else None
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {"flow_response": None}
    if not isinstance(parsed, dict):
        return {"flow_response": None}
    token = parsed.get("flow_token")
    return {"flow_response": parsed, "flow_token": str(token) if token is not None else None}


def _message_text(message_type: str, message: dict[str, Any]) -> str | None:
    """The readable text of a message: what a person would see in the chat for it."""
    own = message.get(message_type)
    if message_type == "text":
        return _field_text(own, "body")
    if message_type in _CAPTIONED_TYPES:
        return _field_text(own, "caption")
    if message_type == "button":
        return _field_text(own, "text")
    if message_type == "interactive" and isinstance(own, dict):
        for reply in ("button_reply", "list_reply"):
            title = _field_text(own.get(reply), "title")
            if title is not None:
                return title
        return _field_text(own.get("nfm_reply"), "body")
    if message_type == "nfm_reply":
        return _field_text(own, "body")
    if message_type == "location":
        return _field_text(own, "name") or _field_text(own, "address")
    if message_type == "contacts" and isinstance(own, list):
        for card in _dicts(own):
            name = _field_text(card.get("name"), "formatted_name")
            if name is not None:
                return name
        return None
    if message_type == "order":
        return order_summary(order_content(own))
    return None


def _parse_status(status: dict[str, Any], phone_number_id: str) -> StatusUpdate:
    error_code: int | None = None
    error_title: str | None = None
    error_details: str | None = None
    errors = status.get("errors")
    first_error = errors[0] if isinstance(errors, list) and errors else None
    if isinstance(first_error, dict):
        error_code = _as_int(first_error.get("code"))
        error_title = _as_text(first_error.get("title")) or _as_text(first_error.get("message"))
        error_details = _field_text(first_error.get("error_data"), "details")
    status_name = _as_str(status.get("status"))
    return StatusUpdate(
        phone_number_id=phone_number_id,
        wamid=_as_str(status.get("id")) or "",
        status=status_name.lower() if status_name else "unknown",
        timestamp=parse_timestamp(status.get("timestamp")),
        recipient_id=_as_str(status.get("recipient_id")) or _as_str(status.get("recipient_user_id")) or "",
        error_code=error_code,
        error_title=error_title,
        error_details=error_details,
        biz_opaque_callback_data=_as_str(status.get("biz_opaque_callback_data")),
        recipient_type=_as_str(status.get("recipient_type")),
        raw=status,
    )


# --- template fields --------------------------------------------------------------------------------------


def _parse_template_update(kind: str, value: dict[str, Any], waba_id: str) -> TemplateUpdate:
    status: str | None = None
    category: str | None = None
    previous_category: str | None = None
    quality_score: str | None = None
    reason: str | None = None
    if kind == "status":
        status = _as_text(value.get("event"))
        category = _as_text(value.get("message_template_category"))
        reason = _as_text(value.get("reason"))
        if reason is not None and reason.upper() == "NONE":  # Meta's way of saying there is no reason
            reason = None
    elif kind == "category":
        category = _as_text(value.get("new_category"))
        previous_category = _as_text(value.get("previous_category"))
    elif kind == "quality":
        quality_score = _as_text(value.get("new_quality_score"))
    return TemplateUpdate(
        waba_id=waba_id,
        kind=kind,
        template_id=_as_str(value.get("message_template_id")),
        name=_as_text(value.get("message_template_name")),
        language=_as_text(value.get("message_template_language")),
        status=status,
        category=category,
        previous_category=previous_category,
        quality_score=quality_score,
        reason=reason,
        raw=value,
    )


# --- small readers ----------------------------------------------------------------------------------------


def parse_timestamp(value: object) -> datetime:
    """Meta's unix seconds (a string of digits, or a number) as an aware UTC datetime; now if unusable."""
    seconds: float
    if isinstance(value, bool):
        return utc_now()
    if isinstance(value, int | float):
        seconds = value
    elif isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            return utc_now()
    else:
        return utc_now()
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        return utc_now()


def _dicts(items: object) -> list[dict[str, Any]]:
    """The objects of a list; anything else in it (and anything that is not a list) is skipped."""
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, dict)]


def _as_str(value: object) -> str | None:
    """An id as a string: Meta sends most ids as strings, some (template ids, WABA ids) as numbers."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # more digits than Python will print: not an id
            return None
    return None


def _as_text(value: object) -> str | None:
    """A non-empty string, or None."""
    return value if isinstance(value, str) and value else None


def _field_text(obj: object, key: str) -> str | None:
    return _as_text(obj.get(key)) if isinstance(obj, dict) else None


def _as_int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None
