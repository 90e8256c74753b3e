"""The chat's bubbles for the everyday messages: a location, contact cards, an image (its thumbnail only once
the file is stored here), a message Meta could not deliver (the reason with its code, once), reactions (the
customer's and the agent's own, which is a message of its own but shows on the one it reacts to) and a
reply quoting an earlier message. Built from Meta's sample webhooks as the app parses them, then shown by
`bubble`/`bubbles`/`preview` and the thread's template."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from jinja2 import Environment, FileSystemLoader

from pywhatsapp.application.inbox.read_models import ThreadMessage
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from pywhatsapp.domain.messaging.reaction import Reaction
from pywhatsapp.domain.webhooks.meta_payload import parse_webhook_body
from pywhatsapp.domain.webhooks.updates import InboundMessage
from pywhatsapp.entrypoints.http.pages import chat_view
from pywhatsapp.entrypoints.http.pages.chat_view import bubble, bubbles, failure_text, preview

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "meta-webhooks"
TEMPLATES = Path(chat_view.__file__).resolve().parents[1] / "templates"
TENANT = uuid4()
CUSTOMER = "972987654321"


def sample_message(relative: str, **changes: Any) -> dict[str, Any]:
    body = json.loads((SAMPLES / relative).read_text())
    message: dict[str, Any] = body["entry"][0]["changes"][0]["value"]["messages"][0]
    return {**message, "id": f"wamid.in-{uuid4().hex}", **changes}


def inbound(message: dict[str, Any], **changes: Any) -> Message:
    """A customer's message as the app stores it from a webhook carrying `message`."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": "Ann"}, "wa_id": CUSTOMER}],
        "messages": [message],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1234567890987654321", "changes": [{"field": "messages", "value": value}]}],
    }
    (update,) = parse_webhook_body(body)
    assert isinstance(update, InboundMessage)
    stored = Message(
        tenant_id=TENANT,
        direction=Direction.INCOMING,
        type=update.type,
        wa_id=update.wa_id,
        wamid=update.wamid,
        status=MessageStatus.DELIVERED,
        text=update.text,
        content=update.content,
        context_wamid=update.context_wamid,
        timestamp=update.timestamp,
    )
    return replace(stored, **changes)


def outbound(kind: str, payload: dict[str, Any], text: str | None = None, **changes: Any) -> Message:
    """What SendMessage stores for a message an agent sent: Meta's `{type: {...}}`."""
    fields: dict[str, Any] = {
        "wamid": f"wamid.out-{uuid4().hex}",
        "status": MessageStatus.SENT,
        "text": text,
        "content": {kind: payload},
        **changes,
    }
    return Message(tenant_id=TENANT, direction=Direction.OUTGOING, type=kind, wa_id=CUSTOMER, **fields)


def shown(message: Message, *reactions: Reaction) -> chat_view.Bubble:
    return bubble(ThreadMessage(message=message, reactions=list(reactions)), {})


def thread(*messages: Message) -> list[ThreadMessage]:
    """The reader's page: newest first (the messages are given oldest first, a second apart)."""
    start = utc_now() - timedelta(minutes=5)
    timed = [replace(m, timestamp=start + timedelta(seconds=n)) for n, m in enumerate(messages)]
    return [ThreadMessage(message=m) for m in reversed(timed)]


def render(items: list[ThreadMessage]) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    conversation = type("Row", (), {"id": uuid4(), "window_open": True, "has_inbound": True})()
    return environment.get_template("chat/_thread.html").render(
        conversation=conversation, bubbles=bubbles(items), more=False, reactions=("👍", "❤️")
    )


# --- location ---------------------------------------------------------------------------------------------


def test_a_chosen_location_shows_its_name_and_address_with_a_map_link() -> None:
    message = inbound(sample_message("message/chosen_location.json"))
    place = shown(message).location
    assert place is not None and place["name"] == "Facebook HQ"
    assert (place["latitude"], place["longitude"]) == (37.4611978, -122.2164385)
    assert preview(message) == "[location] Facebook HQ"

    html = render(thread(message))
    assert "https://www.openstreetmap.org/?mlat=37.4611978&amp;mlon=-122.2164385" in html
    assert "📍 Facebook HQ<br><small>1 Hacker Way, Menlo Park, CA 94025</small>" in html
    assert shown(message).text is None and '<p class="text' not in html  # the name once, in the link
    assert 'data-reply-text="[location] Facebook HQ"' in html


def test_a_current_location_without_a_name_is_a_location_and_a_sent_one_shows_too() -> None:
    current = inbound(sample_message("message/current_location.json"))
    assert preview(current) == "[location]"
    assert "📍 Location</a>" in render(thread(current))

    sent = outbound(
        "location", {"latitude": 32.0853, "longitude": 34.7818, "name": "Our shop"}, text="Our shop"
    )
    place = shown(sent).location
    assert place == {"latitude": 32.0853, "longitude": 34.7818, "name": "Our shop"}
    assert "mlat=32.0853&amp;mlon=34.7818" in render(thread(sent))


def test_a_location_with_markup_in_its_name_is_escaped() -> None:
    message = inbound(
        sample_message(
            "message/chosen_location.json",
            location={"latitude": 1, "longitude": 2, "name": "<b>Home</b>", "address": "<i>x</i>"},
        )
    )
    html = render(thread(message))
    assert "<b>Home" not in html and "&lt;b&gt;Home&lt;/b&gt;" in html and "&lt;i&gt;x&lt;/i&gt;" in html


# --- contact cards ----------------------------------------------------------------------------------------


def test_contact_cards_show_each_name_with_its_numbers() -> None:
    message = inbound(sample_message("message/contacts.json"))
    assert shown(message).contacts == [
        {"name": "Chandler Bing", "phones": "+1 555-555-5555"},
        {"name": "Monica", "phones": "+1 666-666-6666"},
        {"name": "Rachel Green", "phones": "+1 777-777-7777"},
    ]
    assert preview(message) == "[contact card] Chandler Bing"
    html = render(thread(message))
    assert html.count('class="contact-card"') == 3
    assert "👤 <strong>Chandler Bing</strong><br><small>+1 555-555-5555</small>" in html
    assert shown(message).text is None and '<p class="text' not in html  # each name once, on its card
    assert 'data-reply-text="[contact card] Chandler Bing"' in html


@pytest.mark.parametrize(
    ("contacts", "expected"),
    [
        ([{"name": {"first_name": "Joey"}, "phones": [{"wa_id": "15550001"}]}], [("Joey", "15550001")]),
        ([{"phones": [{"phone": "+1 2"}, {"phone": "+1 3"}]}], [("Contact", "+1 2, +1 3")]),
        ([{"name": "Ross", "phones": "none"}, "not a card", None], [("Contact", "")]),
        ("not a list", []),
    ],
)
def test_odd_contact_cards_show_what_they_hold_without_an_error(
    contacts: Any, expected: list[tuple[str, str]]
) -> None:
    message = Message(
        tenant_id=TENANT,
        direction=Direction.INCOMING,
        type="contacts",
        wa_id=CUSTOMER,
        wamid="wamid.odd",
        content={"contacts": contacts},
    )
    assert [(card["name"], card["phones"]) for card in shown(message).contacts] == expected


# --- images -----------------------------------------------------------------------------------------------


def test_an_image_has_a_thumbnail_only_once_its_file_is_stored() -> None:
    pending = inbound(sample_message("message/image.json"), media_state="pending")
    media = shown(pending).media
    assert media is not None and media.kind == "image"
    assert media.url is None and media.thumbnail_url is None and media.note == "downloading…"
    assert preview(pending) == "[image]"
    html = render(thread(pending))
    assert "<img" not in html and "📎 image · downloading…" in html

    stored = replace(pending, media_state="stored")
    media = shown(stored).media
    assert media is not None and media.note is None
    assert media.url == f"/api/v1/messages/{stored.id}/media"
    assert media.thumbnail_url == f"/api/v1/messages/{stored.id}/media?thumbnail=1"
    html = render(thread(stored))
    assert f'<img class="thumb" src="/api/v1/messages/{stored.id}/media?thumbnail=1"' in html
    assert f'<a href="/api/v1/messages/{stored.id}/media"' in html


@pytest.mark.parametrize(
    ("state", "error", "note"),
    [
        ("failed", None, "download failed"),
        ("refused", "larger than 5 MB", "file refused"),
        (None, None, None),
    ],
)
def test_an_image_not_stored_says_why_and_shows_no_picture(
    state: str | None, error: str | None, note: str | None
) -> None:
    message = inbound(sample_message("message/image.json"), media_state=state, media_error=error)
    media = shown(message).media
    assert media is not None and media.thumbnail_url is None and media.url is None
    assert media.note == note
    assert "<img" not in render(thread(message))


def test_an_image_with_a_caption_shows_it_and_the_list_says_it_is_an_image() -> None:
    message = inbound(
        sample_message("message/image.json", image={"id": "1", "mime_type": "image/jpeg", "caption": "Mine"}),
        media_state="stored",
    )
    assert shown(message).text == "Mine"
    assert preview(message) == "[image] Mine"
    sent = outbound("image", {"id": "998877", "caption": "The blue one"}, text="The blue one")
    media = shown(sent).media
    assert media is not None and media.thumbnail_url is None  # Meta's media id: no file here to show
    assert shown(sent).text == "The blue one" and preview(sent) == "[image] The blue one"


# --- a message Meta could not deliver ---------------------------------------------------------------------


def test_a_failed_message_says_why_under_its_bubble_with_the_code() -> None:
    failed = outbound(
        "text",
        {"body": "Here it is"},
        text="Here it is",
        status=MessageStatus.FAILED,
        error_code=131026,
        error_title="Message Undeliverable",
    )
    one = shown(failed)
    assert one.failure == "Message Undeliverable (131026)" and one.ticks == "⚠" and one.status == "failed"
    html = render(thread(failed))
    assert '<p class="failure" role="note">Not delivered: Message Undeliverable (131026)</p>' in html
    assert 'data-status="failed"' in html and 'title="failed"' in html


@pytest.mark.parametrize(
    ("code", "title", "text"),
    [
        (131026, "(#131026) Message Undeliverable.", "Message Undeliverable (131026)"),  # a refused send
        (131047, "(131047) Re-engagement message", "Re-engagement message (131047)"),
        (131026, None, "error 131026"),
        (131026, "  ", "error 131026"),
        (None, "Something broke", "Something broke"),
        (None, None, "no reason given"),
        (100, "(#131026) Not this code", "(#131026) Not this code (100)"),
    ],
)
def test_the_failure_reason_names_the_code_once(code: int | None, title: str | None, text: str) -> None:
    assert failure_text(code, title) == text


def test_a_delivered_message_has_no_failure_line() -> None:
    sent = outbound(
        "text", {"body": "Hi"}, text="Hi", status=MessageStatus.READ, error_code=1, error_title="x"
    )
    assert shown(sent).failure is None
    assert 'class="failure"' not in render(thread(sent))


# --- reactions --------------------------------------------------------------------------------------------


def reaction(target: Message, emoji: str | None) -> Reaction:
    assert target.wamid
    return Reaction(
        tenant_id=TENANT,
        target_wamid=target.wamid,
        wa_id=CUSTOMER,
        direction=Direction.INCOMING,
        emoji=emoji,
        message_id=target.id,
    )


def react(target: Message, emoji: str, **changes: Any) -> Message:
    """A reaction the agent sent: a message of its own, as SendMessage stores it."""
    return outbound("reaction", {"message_id": target.wamid, "emoji": emoji}, text=emoji or None, **changes)


def test_the_customers_reaction_shows_on_the_bubble_and_a_removed_one_does_not() -> None:
    ours = outbound("text", {"body": "It shipped"}, text="It shipped")
    assert shown(ours, reaction(ours, "👍")).reactions == ["👍"]
    assert shown(ours, reaction(ours, None)).reactions == []
    html = render([ThreadMessage(message=ours, reactions=[reaction(ours, "🎉")])])
    assert '<span class="reactions" aria-label="Reactions">🎉</span>' in html


def test_the_agents_reaction_shows_on_the_message_it_reacts_to_not_as_a_bubble() -> None:
    asked = inbound(sample_message("message/text.json"))
    items = thread(asked, react(asked, "❤️"))
    shown_bubbles = bubbles(items)
    (only,) = shown_bubbles
    assert only.wamid == asked.wamid and only.reactions == ["❤️"]
    html = render(items)
    assert html.count('class="bubble ') == 1 and "type-reaction" not in html
    assert '<span class="reactions" aria-label="Reactions">❤️</span>' in html


def test_the_agents_newest_reaction_wins_an_empty_one_takes_it_back_and_a_refused_one_never_shows() -> None:
    asked = inbound(sample_message("message/text.json"))
    customer = reaction(asked, "😂")
    changed = thread(asked, react(asked, "👍"), react(asked, "❤️"))
    changed[-1] = replace(changed[-1], reactions=[customer])  # the oldest item: the customer's message
    assert bubbles(changed)[0].reactions == ["😂", "❤️"]
    assert bubbles(thread(asked, react(asked, "👍"), react(asked, "")))[0].reactions == []
    refused = react(asked, "🙏", status=MessageStatus.FAILED, error_code=131026)
    assert bubbles(thread(asked, react(asked, "👍"), refused))[0].reactions == ["👍"]


def test_a_reaction_to_a_message_outside_the_page_shows_nowhere_and_the_list_says_what_we_did() -> None:
    elsewhere = inbound(sample_message("message/text.json"))
    sent = react(elsewhere, "👍")
    assert bubbles(thread(sent)) == []
    assert preview(sent) == "You reacted 👍"
    assert preview(react(elsewhere, "")) == "You removed a reaction"


# --- a reply quoting an earlier message -------------------------------------------------------------------


def test_a_reply_quotes_the_message_it_answers() -> None:
    question = outbound("text", {"body": "Which size do you need?"}, text="Which size do you need?")
    answer = inbound(
        sample_message("message/reply.json", context={"from": "15550001111", "id": question.wamid})
    )
    assert answer.context_wamid == question.wamid and answer.text == "replied text"
    items = thread(question, answer)
    first, reply = bubbles(items)
    assert first.quoted is None
    assert reply.quoted == "Which size do you need?" and not reply.quoted_incoming
    html = render(items)
    assert '<blockquote class="quoted">Which size do you need?</blockquote>' in html

    follow_up = outbound("text", {"body": "M it is"}, text="M it is", context_wamid=answer.wamid)
    *_, ours = bubbles(thread(question, answer, follow_up))
    assert ours.quoted == "replied text" and ours.quoted_incoming
    assert '<blockquote class="quoted in">replied text</blockquote>' in render(thread(answer, follow_up))


def test_a_reply_to_a_message_not_in_the_page_or_to_a_card_still_says_what_it_quotes() -> None:
    lost = inbound(sample_message("message/reply.json"))  # quotes a wamid this thread does not hold
    assert shown(lost).quoted == "an earlier message"
    photo = inbound(sample_message("message/image.json"), media_state="stored")
    about = outbound("text", {"body": "Nice"}, text="Nice", context_wamid=photo.wamid)
    assert bubbles(thread(photo, about))[1].quoted == "[image]"
    assert shown(outbound("text", {"body": "x"}, text="x")).quoted is None
