"""What a chat bubble shows, from a stored message: text, media preview, location, contact cards, template,
quoted message, reactions, delivery ticks and the failure reason. Pure functions over the inbox's read
models, so the templates stay free of Meta's payload shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pywhatsapp.application.inbox.read_models import ConversationSummary, ThreadMessage
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.messaging.conversation import window_is_open
from pywhatsapp.domain.messaging.message import Direction, Message

MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})
TICKS = {"pending": "🕓", "sent": "✓", "delivered": "✓✓", "read": "✓✓", "played": "✓✓", "failed": "⚠"}


@dataclass(frozen=True)
class Media:
    kind: str
    url: str | None
    """Where the browser gets the file (inbound files once stored), else None."""
    thumbnail_url: str | None
    filename: str | None
    state: str | None
    note: str | None


@dataclass(frozen=True)
class Bubble:
    id: UUID
    wamid: str | None
    incoming: bool
    type: str
    status: str
    ticks: str
    text: str | None
    timestamp: datetime
    media: Media | None = None
    location: dict[str, Any] | None = None
    contacts: list[dict[str, str]] = field(default_factory=list)
    template: str | None = None
    quoted: str | None = None
    quoted_incoming: bool = False
    reactions: list[str] = field(default_factory=list)
    failure: str | None = None


@dataclass(frozen=True)
class ConversationRow:
    id: UUID
    name: str
    wa_id: str
    preview: str
    last_at: datetime | None
    unread: int
    window_open: bool


def own_object(message: Message) -> dict[str, Any]:
    """The type's object: outbound messages keep Meta's `{type: {...}}`, inbound ones store it flat."""
    nested = message.content.get(message.type)
    return nested if isinstance(nested, dict) else message.content


def preview(message: Message | None) -> str:
    if message is None:
        return ""
    obj = own_object(message)
    if message.text:
        return message.text
    if message.type in MEDIA_KINDS:
        caption = obj.get("caption")
        return f"[{message.type}] {caption}" if caption else f"[{message.type}]"
    if message.type == "location":
        return f"[location] {obj.get('name') or ''}".strip()
    if message.type == "contacts":
        return "[contact card]"
    if message.type == "template":
        return f"[template] {obj.get('name', '')}".strip()
    return f"[{message.type}]"


def conversation_row(summary: ConversationSummary) -> ConversationRow:
    contact = summary.contact
    return ConversationRow(
        id=summary.id,
        name=contact.name or f"+{contact.wa_id}",
        wa_id=contact.wa_id,
        preview=preview(summary.last_message),
        last_at=summary.last_message_at,
        unread=summary.unread_count,
        window_open=window_is_open(summary.last_inbound_at, utc_now()),
    )


def _media(message: Message, obj: dict[str, Any]) -> Media:
    stored = message.direction is Direction.INCOMING and message.media_state == "stored"
    base = f"/api/v1/messages/{message.id}/media"
    note = None
    if message.direction is Direction.INCOMING and not stored:
        note = {
            "pending": "downloading…",
            "refused": "file refused",
            "failed": "download failed",
        }.get(message.media_state or "")
    return Media(
        kind=message.type,
        url=base if stored else obj.get("link"),
        thumbnail_url=f"{base}?thumbnail=1" if stored and message.type in ("image", "sticker") else None,
        filename=obj.get("filename"),
        state=message.media_state,
        note=note or message.media_error,
    )


def _contacts(obj: dict[str, Any]) -> list[dict[str, str]]:
    cards = obj.get("contacts")
    result = []
    for card in cards if isinstance(cards, list) else []:
        if not isinstance(card, dict):
            continue
        raw_name = card.get("name")
        name: dict[str, Any] = raw_name if isinstance(raw_name, dict) else {}
        phones = [p.get("phone") or p.get("wa_id") for p in card.get("phones") or [] if isinstance(p, dict)]
        result.append(
            {
                "name": str(name.get("formatted_name") or name.get("first_name") or "Contact"),
                "phones": ", ".join(str(p) for p in phones if p),
            }
        )
    return result


def _caption(message: Message, obj: dict[str, Any]) -> str | None:
    if message.text:
        return message.text
    for key in ("caption", "body"):
        if isinstance(obj.get(key), str):
            return str(obj[key])
    if message.type == "interactive":
        for key in ("button_reply", "list_reply"):
            reply = obj.get(key)
            if isinstance(reply, dict) and reply.get("title"):
                return str(reply["title"])
    if message.type == "button" and obj.get("text"):
        return str(obj["text"])
    return None


def bubble(item: ThreadMessage, by_wamid: dict[str, Message]) -> Bubble:
    message = item.message
    obj = own_object(message)
    quoted = by_wamid.get(message.context_wamid) if message.context_wamid else None
    failure = None
    if message.status.value == "failed":
        code = f" ({message.error_code})" if message.error_code else ""
        failure = f"{message.error_title or 'Not delivered'}{code}"
    return Bubble(
        id=message.id,
        wamid=message.wamid,
        incoming=message.direction is Direction.INCOMING,
        type=message.type,
        status=message.status.value,
        ticks=TICKS.get(message.status.value, ""),
        text=_caption(message, obj),
        timestamp=message.timestamp,
        media=_media(message, obj) if message.type in MEDIA_KINDS else None,
        location=obj if message.type == "location" else None,
        contacts=_contacts(obj) if message.type == "contacts" else [],
        template=str(obj.get("name")) if message.type == "template" else None,
        quoted=(preview(quoted) or "a message")
        if quoted
        else ("an earlier message" if message.context_wamid else None),
        quoted_incoming=bool(quoted and quoted.direction is Direction.INCOMING),
        reactions=[r.emoji for r in item.reactions if r.emoji],
        failure=failure,
    )


def bubbles(items: list[ThreadMessage]) -> list[Bubble]:
    """Oldest first, as a chat reads."""
    by_wamid = {i.message.wamid: i.message for i in items if i.message.wamid}
    return [bubble(item, by_wamid) for item in reversed(items)]
