"""What a chat bubble shows, from a stored message: text, media preview, location, contact cards, template,
flow, commerce and location-request cards (a flow's completion with its answers, an order with its items),
quoted message, reactions, delivery ticks and the failure reason. Pure functions over the inbox's read
models, so the templates stay free of Meta's payload shapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from pywhatsapp.application.inbox.read_models import ConversationSummary, ThreadMessage
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.messaging.conversation import window_is_open
from pywhatsapp.domain.messaging.message import Direction, Message
from pywhatsapp.domain.messaging.order import order_content

MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})
TICKS = {"pending": "🕓", "sent": "✓", "delivered": "✓✓", "read": "✓✓", "played": "✓✓", "failed": "⚠"}
MAX_FIELDS = 20
"""A card lists at most this many answers, products or order lines; the rest are counted."""
MAX_KEY = 40
MAX_VALUE = 200
MAX_LABEL = 80
MAX_RESPONSE_JSON = 64 * 1024
"""A flow's answers longer than this (as Meta's string) are not parsed for the bubble."""


@dataclass(frozen=True)
class OrderLine:
    product_retailer_id: str
    quantity: int
    item_price: str
    currency: str


@dataclass(frozen=True)
class Card:
    """A flow, commerce or location-request message as a labelled card: a flow's completion with its
    answers, an order with its lines and total, or what we sent (flow, product(s), catalog, location ask)."""

    kind: str
    """flow_reply, order, flow, product, product_list, catalog or location_request."""
    label: str
    preview: str
    """The line for the conversation list and quotes: "[flow reply]", "[order] 3 items"..."""
    detail: str | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    lines: list[OrderLine] = field(default_factory=list)
    total: str | None = None
    more: int = 0
    """Answers, products or lines left out (beyond MAX_FIELDS)."""


@dataclass(frozen=True)
class Media:
    kind: str
    url: str | None
    """Where the browser gets the file (a stored file, in or out; else the link it was sent by), or None."""
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
    card: Card | None = None
    reply_text: str = ""
    """What the composer says a reply to it answers: its text, else its card's label, else its preview."""


@dataclass(frozen=True)
class ConversationRow:
    id: UUID
    name: str
    wa_id: str
    preview: str
    last_at: datetime | None
    unread: int
    window_open: bool
    has_inbound: bool = False
    """Whether the customer ever wrote (a message to show the typing indicator on)."""


def own_object(message: Message) -> dict[str, Any]:
    """The type's object: outbound messages keep Meta's `{type: {...}}`, inbound ones store it flat."""
    nested = message.content.get(message.type)
    return nested if isinstance(nested, dict) else message.content


def _clip(value: object, limit: int) -> str:
    text = str(value).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(value: object) -> str:
    """One answer of a flow as text: scalars as they are, a list of them joined, anything else as JSON."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return _clip(value, MAX_VALUE)
    if isinstance(value, list) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        return _clip(", ".join(str(v) for v in value), MAX_VALUE)
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        text = "…"
    return _clip(text, MAX_VALUE)


def _money(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return "?"
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return _clip(value, 20)
    return f"{amount:.2f}" if amount.is_finite() and amount.adjusted() < 15 else "?"


def _dict(obj: object, key: str) -> dict[str, Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}


def _str(obj: object, key: str, limit: int = MAX_LABEL) -> str | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    return _clip(value, limit) if isinstance(value, str) and value.strip() else None


def flow_answers(obj: dict[str, Any]) -> dict[str, Any] | None:
    """A flow completion's answers, from Meta's `nfm_reply.response_json` string (in the flow's order:
    the `flow_response` parsed when the webhook was taken comes back from JSONB with its keys sorted),
    else that parse; None when they are missing or not a JSON object."""
    raw = _dict(obj, "nfm_reply").get("response_json")
    parsed: object = raw if isinstance(raw, dict) else None
    if isinstance(raw, str) and len(raw) <= MAX_RESPONSE_JSON:
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):
            parsed = None
    if not isinstance(parsed, dict):
        parsed = obj.get("flow_response")
    return parsed if isinstance(parsed, dict) else None


def flow_of_token(token: object) -> str | None:
    """The flow id (ours) a token minted as `<flow id>.<random>` names, as a string; else None."""
    if not isinstance(token, str):
        return None
    try:
        return str(UUID(token.split(".", 1)[0]))
    except ValueError:
        return None


def _flow_reply_card(obj: dict[str, Any], flow_names: Mapping[str, str]) -> Card:
    reply = _dict(obj, "nfm_reply")
    answers = flow_answers(obj)
    token = obj.get("flow_token") or (answers or {}).get("flow_token")
    flow_key = flow_of_token(token)
    name = flow_names.get(flow_key) if flow_key else None
    reply_name = _str(reply, "name")
    if name is None and reply_name and reply_name != "flow":  # Meta names every completion "flow"
        name = reply_name
    detail = " · ".join(part for part in (name, _str(reply, "body")) if part) or None
    fields = [
        (_clip(key, MAX_KEY), _shown(value)) for key, value in (answers or {}).items() if key != "flow_token"
    ]
    if answers is None and reply.get("response_json") is not None:
        fields = [("answers", "could not be read")]
    return Card(
        kind="flow_reply",
        label="Flow reply",
        preview=f"[flow reply] {name}" if name else "[flow reply]",
        detail=detail,
        fields=fields[:MAX_FIELDS],
        more=max(0, len(fields) - MAX_FIELDS),
    )


def _order_card(obj: dict[str, Any]) -> Card:
    content = order_content(obj)
    items = content["product_items"]
    lines = [
        OrderLine(
            product_retailer_id=_str(item, "product_retailer_id") or "?",
            quantity=item["quantity"],
            item_price=_money(item.get("item_price")),
            currency=_str(item, "currency", 8) or "",
        )
        for item in items[:MAX_FIELDS]
    ]
    totals = content["totals"]
    total = " + ".join(f"{amount} {_clip(currency, 8)}" for currency, amount in totals.items()) or None
    catalog = _str(obj, "catalog_id")
    count = content["item_count"]
    counted = f"{count} item{'' if count == 1 else 's'}"
    return Card(
        kind="order",
        label="Order",
        preview=f"[order] {counted}" + (f" · {total}" if total else ""),
        detail=f"catalog {catalog}" if catalog else None,
        lines=lines,
        total=total,
        more=max(0, len(items) - MAX_FIELDS),
    )


def _sent_card(obj: dict[str, Any], flow_names: Mapping[str, str]) -> Card | None:
    """What we sent as a flow, product, product list, catalog or location request message."""
    kind = obj.get("type")
    action = _dict(obj, "action")
    if kind == "flow":
        parameters = _dict(action, "parameters")
        flow_id = _str(parameters, "flow_id", 200)
        name = (flow_names.get(flow_id) if flow_id else None) or _str(parameters, "flow_name")
        cta = _str(parameters, "flow_cta") or "open"
        return Card(kind="flow", label=f"Flow: {cta}", preview=f"[flow] {cta}", detail=name)
    if kind == "product":
        catalog = _str(action, "catalog_id")
        product = _str(action, "product_retailer_id") or "?"
        footer = _str(_dict(obj, "footer"), "text", MAX_VALUE)
        return Card(
            kind="product",
            label=f"Product {product}",
            preview=f"[product] {product}",
            detail=f"catalog {catalog}" if catalog else None,
            fields=[("footer", footer)] if footer else [],
        )
    if kind == "product_list":
        catalog = _str(action, "catalog_id")
        listed = action.get("sections")
        fields = []
        for section in listed if isinstance(listed, list) else []:
            items = section.get("product_items") if isinstance(section, dict) else None
            ids = [_str(item, "product_retailer_id") for item in items] if isinstance(items, list) else []
            products = _clip(", ".join(i for i in ids if i), MAX_VALUE)
            fields.append((_str(section, "title", MAX_KEY) or "Products", products))
        header = _str(_dict(obj, "header"), "text")
        return Card(
            kind="product_list",
            label=f"Products: {header}" if header else "Products",
            preview=f"[products] {header}" if header else "[products]",
            detail=f"catalog {catalog}" if catalog else None,
            fields=fields[:MAX_FIELDS],
            more=max(0, len(fields) - MAX_FIELDS),
        )
    if kind == "catalog_message":
        thumbnail = _str(_dict(action, "parameters"), "thumbnail_product_retailer_id")
        return Card(
            kind="catalog",
            label="Catalog",
            preview="[catalog]",
            detail=f"thumbnail {thumbnail}" if thumbnail else None,
        )
    if kind == "location_request_message":
        return Card(kind="location_request", label="Asked for location", preview="[asked for location]")
    return None


def card_of(message: Message, flow_names: Mapping[str, str] | None = None) -> Card | None:
    """The card a flow, commerce or location-request message shows as; None for any other message."""
    names = flow_names or {}
    obj = own_object(message)
    if message.type == "order":
        return _order_card(obj)
    if message.type != "interactive":
        return None
    if message.direction is Direction.INCOMING:
        return _flow_reply_card(obj, names) if obj.get("type") == "nfm_reply" else None
    return _sent_card(obj, names)


def preview(message: Message | None) -> str:
    if message is None:
        return ""
    obj = own_object(message)
    card = card_of(message)
    if card is not None:
        return card.preview
    if is_our_reaction(message):
        emoji = obj.get("emoji")
        return f"You reacted {emoji}" if isinstance(emoji, str) and emoji else "You removed a reaction"
    if message.type in MEDIA_KINDS:  # a file says so, with its caption
        caption = message.text or obj.get("caption")
        return f"[{message.type}] {caption}" if caption else f"[{message.type}]"
    if message.type == "location":  # message.text holds the place's name
        return f"[location] {obj.get('name') or message.text or ''}".strip()
    if message.type == "contacts":  # and the first card's name
        return f"[contact card] {message.text or ''}".strip()
    if message.text:
        return message.text
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
        has_inbound=summary.last_inbound_at is not None,
    )


def _media(message: Message, obj: dict[str, Any]) -> Media:
    # Inbound files once downloaded, and files the business uploaded and sent by media id; media sent by
    # link is shown as its link.
    stored = message.media_state == "stored"
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


def failure_text(code: int | None, title: str | None) -> str:
    """Why Meta did not deliver a message, with its error code once: "Message Undeliverable (131026)".
    A refused send's title is Meta's error message, which may carry the code already ("(#131026) ...")."""
    reason = _clip(title, MAX_VALUE) if isinstance(title, str) else ""
    if code is not None:
        reason = re.sub(rf"^\(#?{code}\)\s*", "", reason)
    reason = reason.rstrip(". ")
    if code is None:
        return reason or "no reason given"
    return f"{reason} ({code})" if reason else f"error {code}"


def bubble(
    item: ThreadMessage, by_wamid: dict[str, Message], flow_names: Mapping[str, str] | None = None
) -> Bubble:
    message = item.message
    obj = own_object(message)
    card = card_of(message, flow_names)
    text = _caption(message, obj)
    if card is not None and card.kind == "flow_reply":
        text = None  # Meta's body ("Sent") is in the card's detail
    elif card is not None and card.kind == "order":
        text = _str(obj, "text", 4096)  # the customer's note; message.text holds our summary
    elif message.type in ("location", "contacts"):
        text = None  # message.text holds the place's or the first card's name, which they show
    quoted = by_wamid.get(message.context_wamid) if message.context_wamid else None
    failed = message.status.value == "failed"
    return Bubble(
        id=message.id,
        wamid=message.wamid,
        incoming=message.direction is Direction.INCOMING,
        type=message.type,
        status=message.status.value,
        ticks=TICKS.get(message.status.value, ""),
        text=text,
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
        failure=failure_text(message.error_code, message.error_title) if failed else None,
        card=card,
        reply_text=_clip(text or (card.label if card else None) or preview(message), MAX_LABEL),
    )


def is_our_reaction(message: Message) -> bool:
    """A reaction the agent sent: stored as a message of its own, shown on the message it reacts to."""
    return message.type == "reaction" and message.direction is Direction.OUTGOING


def our_reactions(items: list[ThreadMessage]) -> dict[str, str | None]:
    """Our current reaction to each message, by its wamid: the newest one we sent wins (an empty emoji
    took it back, as at Meta); one Meta refused never showed."""
    current: dict[str, str | None] = {}
    for item in items:  # newest first
        message = item.message
        if not is_our_reaction(message) or message.status.value == "failed":
            continue
        target = own_object(message).get("message_id")
        if isinstance(target, str) and target not in current:
            emoji = own_object(message).get("emoji")
            current[target] = emoji if isinstance(emoji, str) and emoji else None
    return current


def bubbles(items: list[ThreadMessage], flow_names: Mapping[str, str] | None = None) -> list[Bubble]:
    """Oldest first, as a chat reads, newest first as the reader gives them. `flow_names`: the tenant's
    flows by our id and Meta's, to name the flow a completion answers or a flow message opens. The agent's
    reactions show on the messages they react to, not as bubbles of their own."""
    by_wamid = {i.message.wamid: i.message for i in items if i.message.wamid}
    ours = our_reactions(items)
    shown = []
    for item in reversed(items):
        if is_our_reaction(item.message):
            continue
        one = bubble(item, by_wamid, flow_names)
        emoji = ours.get(one.wamid) if one.wamid else None
        shown.append(replace(one, reactions=[*one.reactions, emoji]) if emoji else one)
    return shown


def mentions_flows(items: list[ThreadMessage]) -> bool:
    """Whether any of these messages is a flow message or a flow's completion (worth naming the flows)."""
    for item in items:
        message = item.message
        if message.type == "interactive" and own_object(message).get("type") in ("flow", "nfm_reply"):
            return True
    return False
