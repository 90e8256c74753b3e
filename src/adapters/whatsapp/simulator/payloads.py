"""Meta-shaped ids and webhook bodies: wamids, BSUIDs, statuses, customer messages, template reviews."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any

import phonenumbers

WEBHOOK_OBJECT = "whatsapp_business_account"
SERVICE = "service"


def now() -> int:
    return int(time.time())


def digits_of(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def new_wamid(wa_id: str) -> str:
    """A unique id shaped like Meta's (`wamid.HBgL...` base64 of the chat and a message key)."""
    raw = (
        b"\x1c\x18\x0b" + wa_id.encode() + b"\x15\x02\x00\x11\x18\x12" + secrets.token_hex(9).upper().encode()
    )
    return "wamid." + base64.b64encode(raw).decode("ascii")


def new_numeric_id() -> str:
    """A 16-digit object id, like Meta's media and template ids."""
    return str(10**15 + secrets.randbelow(9 * 10**15))


def bsuid_for(wa_id: str) -> str:
    """A stable business-scoped user id for a phone number: `<ISO country>.<digits>`."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + wa_id)) or "US"
    except phonenumbers.NumberParseException:
        region = "US"
    if not region.isalpha():
        region = "US"
    number = int.from_bytes(hashlib.sha256(b"bsuid:" + wa_id.encode()).digest()[:8], "big")
    return f"{region}.{number}"


def conversation_id_for(phone_number_id: str, wa_id: str) -> str:
    return hashlib.md5(f"{phone_number_id}:{wa_id}".encode(), usedforsecurity=False).hexdigest()


def envelope(waba_id: str, field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": WEBHOOK_OBJECT,
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": field}]}],
    }


def metadata(display_phone_number: str, phone_number_id: str) -> dict[str, str]:
    return {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id}


def pricing(category: str) -> dict[str, Any]:
    """Per-message pricing: service messages in the customer service window are free."""
    free = category == SERVICE
    return {
        "billable": not free,
        "pricing_model": "PMP",
        "category": category,
        "type": "free_customer_service" if free else "regular",
    }


def status_value(
    *,
    phone_number_id: str,
    display_phone_number: str,
    wamid: str,
    status: str,
    recipient_wa_id: str,
    recipient_user_id: str,
    timestamp: int,
    category: str = SERVICE,
    biz_opaque_callback_data: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The `value` of a `messages` change carrying one status of a message the business sent."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient_wa_id,
        "recipient_user_id": recipient_user_id,
    }
    if biz_opaque_callback_data is not None:
        item["biz_opaque_callback_data"] = biz_opaque_callback_data
    if errors:
        item["errors"] = errors
    elif status in ("sent", "delivered", "read"):
        conversation: dict[str, Any] = {
            "id": conversation_id_for(phone_number_id, recipient_wa_id),
            "origin": {"type": category},
        }
        if status == "sent":
            conversation["expiration_timestamp"] = str(timestamp + 24 * 3600)
        item["conversation"] = conversation
        item["pricing"] = pricing(category)
    return {
        "messaging_product": "whatsapp",
        "metadata": metadata(display_phone_number, phone_number_id),
        "contacts": [{"wa_id": recipient_wa_id, "user_id": recipient_user_id}],
        "statuses": [item],
    }


def inbound_message_value(
    *,
    phone_number_id: str,
    display_phone_number: str,
    wa_id: str,
    user_id: str,
    name: str,
    message: dict[str, Any],
) -> dict[str, Any]:
    """The `value` of a `messages` change carrying one message a customer sent."""
    return {
        "messaging_product": "whatsapp",
        "metadata": metadata(display_phone_number, phone_number_id),
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id, "user_id": user_id}],
        "messages": [message],
    }


def template_status_value(template: dict[str, Any], event: str, reason: str | None = None) -> dict[str, Any]:
    """The `value` of a `message_template_status_update` change."""
    value: dict[str, Any] = {
        "event": event,
        "message_template_id": int(template["id"]),
        "message_template_name": template["name"],
        "message_template_language": template["language"],
        "reason": reason,
    }
    if template.get("category"):
        value["message_template_category"] = template["category"]
    return value
