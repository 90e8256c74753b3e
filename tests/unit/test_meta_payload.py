"""`parse_webhook_body`: every item of a Meta webhook body becomes an update; nothing is lost, nothing raises.

The sample bodies are a copy of the shared samples, kept in tests/fixtures/meta-webhooks.
"""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywhatsapp.domain.webhooks.meta_payload import parse_timestamp, parse_webhook_body
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

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "meta-webhooks"
assert SAMPLES_DIR.is_dir(), f"the Meta webhook samples belong in {SAMPLES_DIR}"

UPDATE_TYPES = (
    InboundMessage,
    StatusUpdate,
    ReactionUpdate,
    MessageEdited,
    MessageDeleted,
    TemplateUpdate,
    OtherUpdate,
)
PNID = "1122334455667"
WABA = "1234567890987654321"


# --- samples ----------------------------------------------------------------------------------------------


def _bodies_in(document: Any) -> dict[str, dict[str, Any]]:
    """The webhook bodies of one sample file: the file itself when it is a body, and every top-level value
    that is one (older-api-shapes/ files are objects of named bodies; one file is both)."""
    bodies: dict[str, dict[str, Any]] = {}
    if isinstance(document, dict):
        if "entry" in document:
            bodies[""] = document
        for key, value in document.items():
            if isinstance(value, dict) and "entry" in value:
                bodies[key] = value
    return bodies


def _load_samples() -> tuple[list[Path], dict[str, dict[str, Any]]]:
    files = sorted(SAMPLES_DIR.rglob("*.json"))
    bodies: dict[str, dict[str, Any]] = {}
    for path in files:
        relative = path.relative_to(SAMPLES_DIR).as_posix()
        for key, body in _bodies_in(json.loads(path.read_text(encoding="utf-8"))).items():
            bodies[f"{relative}#{key}" if key else relative] = body
    return files, bodies


SAMPLE_FILES, SAMPLE_BODIES = _load_samples()


def sample(name: str) -> dict[str, Any]:
    """A sample body by "folder/file.json" or "folder/file.json#key"; a fresh copy every time."""
    copied: dict[str, Any] = json.loads(json.dumps(SAMPLE_BODIES[name]))
    return copied


def parse_one(name: str) -> Update:
    updates = parse_webhook_body(sample(name))
    assert len(updates) == 1, updates
    return updates[0]


def expected_counts(body: dict[str, Any]) -> tuple[int, int]:
    """(messages + statuses of "messages" changes, other changes): what the body holds, read by hand."""
    items = others = 0
    for entry in body["entry"]:
        if not isinstance(entry, dict):
            continue
        changes = entry.get("changes")
        if not isinstance(changes, list):
            others += 1
            continue
        for change in changes:
            if not isinstance(change, dict):
                continue
            value = change.get("value")
            if change.get("field") == "messages" and isinstance(value, dict):
                count = sum(
                    1
                    for key in ("messages", "statuses")
                    if isinstance(value.get(key), list)
                    for item in value[key]
                    if isinstance(item, dict)
                )
                if count:
                    items += count
                    continue
            others += 1
    return items, others


# --- every sample -----------------------------------------------------------------------------------------


def test_all_samples_are_found() -> None:
    assert len(SAMPLE_FILES) >= 89
    for path in SAMPLE_FILES:
        assert _bodies_in(json.loads(path.read_text(encoding="utf-8"))), f"{path} holds no webhook body"


def test_every_sample_parses_and_nothing_is_lost() -> None:
    for name in sorted(SAMPLE_BODIES):
        body = sample(name)
        updates = parse_webhook_body(body)

        assert updates, name
        assert all(isinstance(update, UPDATE_TYPES) for update in updates), name
        items, others = expected_counts(body)
        assert len(updates) == items + others, name
        per_item = [u for u in updates if not isinstance(u, TemplateUpdate | OtherUpdate)]
        system_notices = [u for u in updates if isinstance(u, OtherUpdate) and u.raw.get("type") == "system"]
        assert len(per_item) + len(system_notices) == items, name
        for update in updates:
            timestamp = getattr(update, "timestamp", None)
            assert timestamp is None or timestamp.tzinfo is not None, name


# --- messages ---------------------------------------------------------------------------------------------


def test_text_message() -> None:
    message = parse_one("message/text.json")
    assert isinstance(message, InboundMessage)
    assert message.type == "text"
    assert message.text == "Body Text"
    assert message.content == {"body": "Body Text"}
    assert message.phone_number_id == PNID
    assert message.wamid == "wamid.xyzxyz"
    assert message.wa_id == "972987654321"
    assert message.profile_name == "Test Name"
    assert message.timestamp == datetime(2023, 10, 11, 16, 53, 43, tzinfo=UTC)
    assert message.context_wamid is None
    assert not message.forwarded and not message.frequently_forwarded
    assert message.group_id is None
    assert message.raw["id"] == "wamid.xyzxyz"


@pytest.mark.parametrize(
    ("name", "message_type", "text"),
    [
        ("message/image.json", "image", None),
        ("message/media_with_url.json", "image", None),
        ("message/video.json", "video", "caption"),
        ("message/document.json", "document", "caption"),
        ("message/audio.json", "audio", None),
        ("message/voice.json", "audio", None),
        ("message/static_sticker.json", "sticker", None),
        ("message/animated_sticker.json", "sticker", None),
    ],
)
def test_media_messages_keep_their_object_and_caption(name: str, message_type: str, text: str | None) -> None:
    message = parse_one(name)
    assert isinstance(message, InboundMessage)
    assert message.type == message_type
    assert message.text == text
    assert message.content["id"]
    assert message.content["mime_type"]


def test_media_url_is_kept_in_content() -> None:
    message = parse_one("message/media_with_url.json")
    assert isinstance(message, InboundMessage)
    assert message.content["url"].startswith("https://lookaside.fbsbx.com/")


def test_voice_note_flag_is_in_content() -> None:
    message = parse_one("message/voice.json")
    assert isinstance(message, InboundMessage)
    assert message.content["voice"] is True


def test_image_caption_from_an_older_shape() -> None:
    body = sample("older-api-shapes/18.0/message.json#image")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["caption"] = "look at this"
    (message,) = parse_webhook_body(body)
    assert isinstance(message, InboundMessage)
    assert message.text == "look at this"
    assert message.profile_name == "Test Name"  # the older contact has no user_id


def test_reaction_and_unreaction() -> None:
    reaction = parse_one("message/reaction.json")
    assert isinstance(reaction, ReactionUpdate)
    assert reaction.emoji == "\N{FACE WITH OPEN MOUTH}"
    assert reaction.target_wamid == "wamid.yzxyzx="
    assert reaction.wa_id == "972987654321"
    assert reaction.phone_number_id == PNID
    for name in ("message/unreaction_empty.json", "message/unreaction_no_emoji.json"):
        removal = parse_one(name)
        assert isinstance(removal, ReactionUpdate)
        assert removal.emoji is None
        assert removal.target_wamid == "wamid.yzxyzx="


def test_reply_context() -> None:
    message = parse_one("message/reply.json")
    assert isinstance(message, InboundMessage)
    assert message.text == "replied text"
    assert message.context_wamid == "wamid.xyzxyz=="
    assert not message.forwarded


def test_forwarded_flags() -> None:
    forwarded = parse_one("message/forwarded.json")
    many = parse_one("message/forwarded_many_times.json")
    assert isinstance(forwarded, InboundMessage) and isinstance(many, InboundMessage)
    assert forwarded.forwarded and not forwarded.frequently_forwarded
    assert many.frequently_forwarded and not many.forwarded
    assert forwarded.context_wamid is None


def test_locations() -> None:
    chosen = parse_one("message/chosen_location.json")
    current = parse_one("message/current_location.json")
    assert isinstance(chosen, InboundMessage) and isinstance(current, InboundMessage)
    assert chosen.type == current.type == "location"
    assert chosen.text == "Facebook HQ"
    assert chosen.content["latitude"] == pytest.approx(37.4611978)
    assert current.text is None
    assert current.content == {"latitude": 12.25089, "longitude": 43.90539}


def test_location_without_name_reads_its_address() -> None:
    body = sample("message/chosen_location.json")
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["location"]["name"]
    (message,) = parse_webhook_body(body)
    assert isinstance(message, InboundMessage)
    assert message.text == "1 Hacker Way, Menlo Park, CA 94025"


def test_shared_contacts() -> None:
    message = parse_one("message/contacts.json")
    assert isinstance(message, InboundMessage)
    assert message.type == "contacts"
    assert message.text == "Chandler Bing"
    assert len(message.content["contacts"]) == 3


def test_interactive_button_and_list_replies() -> None:
    button = parse_one("callback_button/button.json")
    selection = parse_one("callback_selection/description.json")
    assert isinstance(button, InboundMessage) and isinstance(selection, InboundMessage)
    assert button.type == selection.type == "interactive"
    assert button.text == "title"
    assert button.content["button_reply"] == {"id": "callback_data", "title": "title"}
    assert button.context_wamid == "wamid.xyzxyz"
    assert selection.text == "title"
    assert selection.content["list_reply"]["description"] == "description"


def test_flow_reply_reads_its_body() -> None:
    message = parse_one("flow_completion/completion.json")
    assert isinstance(message, InboundMessage)
    assert message.type == "interactive"
    assert message.text == "Sent"
    assert json.loads(message.content["nfm_reply"]["response_json"])["flow_token"]


def test_call_permission_reply_is_an_interactive_message_without_text() -> None:
    message = parse_one("call_permission_update/accept.json")
    assert isinstance(message, InboundMessage)
    assert message.type == "interactive"
    assert message.text is None
    assert message.content["call_permission_reply"]["response"] == "accept"


def test_quick_reply_button() -> None:
    message = parse_one("callback_button/quick_reply.json")
    bare = parse_one("callback_button/quick_reply_without_context.json")
    assert isinstance(message, InboundMessage) and isinstance(bare, InboundMessage)
    assert message.type == "button"
    assert message.text == "title"
    assert message.content == {"payload": "callback_data", "text": "title"}
    assert message.context_wamid == "wamid.xyzxyz=="
    assert bare.context_wamid is None and bare.text == "title"


def test_order() -> None:
    message = parse_one("message/order.json")
    assert isinstance(message, InboundMessage)
    assert message.type == "order"
    # Meta sent "" as the order's text: the conversation list shows a summary of the cart instead.
    assert message.text == "Order: 7 items, 180.00 ILS"
    assert message.content["catalog_id"] == "354160437058781"
    assert len(message.content["product_items"]) == 3

    body = sample("message/order.json")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["order"]["text"] = "no onions"
    (with_text,) = parse_webhook_body(body)
    assert isinstance(with_text, InboundMessage)
    assert with_text.text == "Order: 7 items, 180.00 ILS (no onions)"


def test_referral_travels_in_content() -> None:
    message = parse_one("message/referral.json")
    assert isinstance(message, InboundMessage)
    assert message.text == "BODY"
    assert message.content["body"] == "BODY"
    assert message.content["referral"]["ctwa_clid"] == "CTWA_CLID"


def test_unsupported_messages_are_kept_with_their_errors() -> None:
    for name in ("message/unsupported.json", "message/unsupported_with_type.json"):
        message = parse_one(name)
        assert isinstance(message, InboundMessage)
        assert message.type == "unsupported"
        assert message.text is None
        assert message.content["errors"][0]["code"] == 131051
    with_type = parse_one("message/unsupported_with_type.json")
    assert isinstance(with_type, InboundMessage)
    assert with_type.content["type"] == "pool"


def test_errors_beside_the_message_are_carried_by_it() -> None:
    message = parse_one("message/interactive_message_with_err.json")
    assert isinstance(message, InboundMessage)
    assert message.type == "interactive"
    assert message.content["errors"][0]["code"] == 131000


def test_request_welcome() -> None:
    message = parse_one("older-api-shapes/chat_opened.json#chat_opened")
    assert isinstance(message, InboundMessage)
    assert message.type == "request_welcome"
    assert message.text is None
    assert message.content == {}


def test_unknown_or_missing_type_is_an_unknown_message() -> None:
    body = sample("message/text.json")
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    second = {**message, "id": "wamid.2", "type": "hologram", "hologram": {"depth": 3}}
    third = {k: v for k, v in message.items() if k != "type"} | {"id": "wamid.3"}
    body["entry"][0]["changes"][0]["value"]["messages"] += [second, third]

    text, hologram, untyped = parse_webhook_body(body)
    assert isinstance(text, InboundMessage) and text.type == "text"
    assert isinstance(hologram, InboundMessage) and isinstance(untyped, InboundMessage)
    assert hologram.type == untyped.type == "unknown"
    assert hologram.content == {"depth": 3}
    assert hologram.raw["type"] == "hologram"
    assert untyped.text is None and untyped.wamid == "wamid.3"


def test_edit_and_revoke() -> None:
    edited = parse_one("edited_message/image.json")
    assert isinstance(edited, MessageEdited)
    assert edited.phone_number_id == "106540352242922"
    assert edited.original_wamid == "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
    assert edited.new_type == "image"
    assert edited.new_text == "Updated image caption"
    assert edited.new_content["id"] == "1234567890"

    text_edit = parse_one("older-api-shapes/edit_message.json#edit_text")
    assert isinstance(text_edit, MessageEdited)
    assert (text_edit.new_type, text_edit.new_text) == ("text", "Text was edited")
    assert text_edit.wamid == "wamid.yyyyyy" and text_edit.original_wamid == "wamid.zzzzzz"

    deleted = parse_one("deleted_message/revoke.json")
    assert isinstance(deleted, MessageDeleted)
    assert deleted.original_wamid == "<ORIGINAL_WHATSAPP_MESSAGE_ID>"
    assert deleted.phone_number_id == "<BUSINESS_PHONE_NUMBER_ID>"
    older = parse_one("older-api-shapes/delete_message.json#original_id")
    assert isinstance(older, MessageDeleted) and older.original_wamid == "wamid.zzzzzz"


def test_edit_or_revoke_without_an_original_id_is_kept_as_unknown() -> None:
    body = sample("older-api-shapes/edit_message.json#edit_text")
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["edit"]["original_message_id"]
    (message,) = parse_webhook_body(body)
    assert isinstance(message, InboundMessage)
    assert message.type == "unknown"
    assert message.raw["type"] == "edit"


def test_system_notices_are_other_updates() -> None:
    for name in ("system/identity_change.json", "system/phone_number_change.json"):
        notice = parse_one(name)
        assert isinstance(notice, OtherUpdate)
        assert notice.field_name == "messages"
        assert notice.phone_number_id == PNID
        assert notice.waba_id == WABA
        assert notice.raw["type"] == "system"
    change = parse_one("system/phone_number_change.json")
    assert isinstance(change, OtherUpdate)
    assert change.raw["system"]["wa_id"] == "972912345678"


def test_group_message_and_business_scoped_sender() -> None:
    body = sample("message/text.json")
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["group_id"] = "group.123"
    del message["from"]
    message["from_user_id"] = "US.13491208655302741918"
    (update,) = parse_webhook_body(body)
    assert isinstance(update, InboundMessage)
    assert update.group_id == "group.123"
    assert update.wa_id == "US.13491208655302741918"
    assert update.profile_name == "Test Name"  # found by the contact's user_id


# --- statuses ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["sent", "delivered", "read", "played", "failed"])
def test_every_status(status: str) -> None:
    update = parse_one(f"message_status/{status}.json")
    assert isinstance(update, StatusUpdate)
    assert update.status == status
    assert update.wamid == "wamid.xyzxyz"
    assert update.recipient_id == "972987654321"
    assert update.phone_number_id == PNID
    assert update.timestamp.tzinfo is not None


def test_failed_status_carries_the_error() -> None:
    update = parse_one("message_status/failed.json")
    assert isinstance(update, StatusUpdate)
    assert update.error_code == 130472
    assert update.error_title == "User's number is part of an experiment"
    assert update.error_details == (
        "Failed to send message because this user's phone number is part of an experiment"
    )
    assert update.timestamp == datetime.fromtimestamp(1689380458, UTC)


def test_statuses_without_contacts_or_user_id() -> None:
    older = parse_one("older-api-shapes/18.0/message_status.json#failed")
    assert isinstance(older, StatusUpdate)
    assert older.status == "failed" and older.error_code == 130472
    undeliverable = parse_one("message_status/status_failed_131026_contact_without_user_id.json")
    assert isinstance(undeliverable, StatusUpdate)
    assert undeliverable.error_code == 131026
    assert undeliverable.error_title == "Message undeliverable"
    assert undeliverable.error_details == "Message Undeliverable."


def test_status_tracker_and_group_recipient() -> None:
    tracked = parse_one("message_status/with_tracker.json")
    assert isinstance(tracked, StatusUpdate)
    assert tracked.biz_opaque_callback_data == "some data"
    assert tracked.recipient_type is None
    group = parse_one("message_status/group.json")
    assert isinstance(group, StatusUpdate)
    assert group.recipient_type == "group"
    assert group.recipient_id == "fowefinoewcnw"
    assert group.error_code is None


# --- templates --------------------------------------------------------------------------------------------


def test_template_status_approved_and_rejected() -> None:
    approved = parse_one("template_status_update/approved.json")
    assert isinstance(approved, TemplateUpdate)
    assert approved.kind == "status"
    assert approved.waba_id == "102290129340398"
    assert approved.template_id == "1689556908129832"
    assert (approved.name, approved.language) == ("order_confirmation", "en_US")
    assert approved.status == "APPROVED"
    assert approved.category == "UTILITY"
    assert approved.reason is None  # Meta says "NONE"

    rejected = parse_one("template_status_update/rejected.json")
    assert isinstance(rejected, TemplateUpdate)
    assert rejected.status == "REJECTED"
    assert rejected.reason == "INVALID_FORMAT"
    assert rejected.raw["rejection_info"]["recommendation"]

    older = parse_one("older-api-shapes/template_status.json#approved")
    assert isinstance(older, TemplateUpdate)
    assert (older.template_id, older.status, older.reason) == ("12345678", "APPROVED", None)
    assert older.waba_id == "0"


def test_template_category_quality_and_components() -> None:
    category = parse_one("template_category_update/marketing.json")
    assert isinstance(category, TemplateUpdate)
    assert (category.kind, category.category, category.template_id) == ("category", "MARKETING", "12345678")
    assert category.waba_id == "57438975935"

    body = sample("template_category_update/marketing.json")
    body["entry"][0]["changes"][0]["value"]["previous_category"] = "UTILITY"
    (changed,) = parse_webhook_body(body)
    assert isinstance(changed, TemplateUpdate) and changed.previous_category == "UTILITY"

    quality = parse_one("template_quality_update/yellow.json")
    assert isinstance(quality, TemplateUpdate)
    assert (quality.kind, quality.quality_score, quality.name) == ("quality", "YELLOW", "welcome_template")

    components = parse_one("template_components_update/element.json#all")
    assert isinstance(components, TemplateUpdate)
    assert components.kind == "components"
    assert components.template_id == "1315502779341834"
    assert components.raw["message_template_buttons"]


# --- everything else --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field_name", "phone_number_id"),
    [
        ("account_update/account_restriction.json", "account_update", None),
        ("account_update/partner_added.json", "account_update", None),
        ("user_marketing_preferences/signup.json", "user_preferences", "106540352242922"),
        ("older-api-shapes/user_preferences.json#user_preferences", "user_preferences", "106540352242922"),
        ("call_connect/user_initiated.json", "calls", "743897493242"),
        ("call_status/call_status.json", "calls", "5483758353"),
        ("outgoing_message/text.json", "smb_message_echoes", PNID),
        ("older-api-shapes/edit_message.json#coexistence_edit_text", "smb_message_echoes", PNID),
    ],
)
def test_other_fields_are_kept(name: str, field_name: str, phone_number_id: str | None) -> None:
    update = parse_one(name)
    assert isinstance(update, OtherUpdate)
    assert update.field_name == field_name
    assert update.phone_number_id == phone_number_id
    assert update.waba_id
    assert update.raw


def test_account_update_is_routed_by_waba() -> None:
    update = parse_one("account_update/account_violation.json")
    assert isinstance(update, OtherUpdate)
    assert update.waba_id == "102290129340398"
    assert update.raw["event"] == "ACCOUNT_VIOLATION"


# --- batches and odd shapes -------------------------------------------------------------------------------


def _text(wamid: str) -> dict[str, Any]:
    return {
        "from": "15550001111",
        "id": wamid,
        "timestamp": "1700000000",
        "type": "text",
        "text": {"body": wamid},
    }


def _status(wamid: str) -> dict[str, Any]:
    return {"id": wamid, "status": "delivered", "timestamp": "1700000001", "recipient_id": "15550001111"}


def test_batched_body_yields_every_item() -> None:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": f"waba-{e}",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": f"pn-{e}-{c}"},
                            "contacts": [{"profile": {"name": "Ann"}, "wa_id": "15550001111"}],
                            "messages": [_text(f"m-{e}-{c}-{i}") for i in range(2)],
                            "statuses": [_status(f"s-{e}-{c}-{i}") for i in range(2)],
                        },
                    }
                    for c in range(2)
                ],
            }
            for e in range(2)
        ],
    }
    updates = parse_webhook_body(body)

    assert len(updates) == 16
    messages = [u for u in updates if isinstance(u, InboundMessage)]
    statuses = [u for u in updates if isinstance(u, StatusUpdate)]
    assert sorted(m.wamid for m in messages) == sorted(
        f"m-{e}-{c}-{i}" for e in range(2) for c in range(2) for i in range(2)
    )
    assert sorted(s.wamid for s in statuses) == sorted(
        f"s-{e}-{c}-{i}" for e in range(2) for c in range(2) for i in range(2)
    )
    assert {m.phone_number_id for m in messages} == {"pn-0-0", "pn-0-1", "pn-1-0", "pn-1-1"}
    assert all(m.profile_name == "Ann" and m.text == m.wamid for m in messages)
    assert all(s.phone_number_id == f"pn-{s.wamid[2]}-{s.wamid[4]}" for s in statuses)


def test_mixed_fields_in_one_entry() -> None:
    body = {
        "entry": [
            {
                "id": WABA,
                "changes": [
                    {
                        "field": "messages",
                        "value": {"metadata": {"phone_number_id": PNID}, "messages": [_text("a")]},
                    },
                    {"field": "message_template_quality_update", "value": {"new_quality_score": "RED"}},
                    {"field": "account_update", "value": {"event": "ACCOUNT_DELETED"}},
                ],
            }
        ]
    }
    message, template, other = parse_webhook_body(body)
    assert isinstance(message, InboundMessage) and message.phone_number_id == PNID
    assert isinstance(template, TemplateUpdate) and template.quality_score == "RED"
    assert template.template_id is None and template.waba_id == WABA
    assert isinstance(other, OtherUpdate) and other.field_name == "account_update"


def test_non_objects_are_skipped_but_every_object_is_kept() -> None:
    body = {
        "entry": [
            "noise",
            7,
            {"id": "no-changes"},
            {
                "id": WABA,
                "changes": [
                    None,
                    {"value": {"x": 1}},
                    {"field": "messages", "value": "not an object"},
                    {
                        "field": "messages",
                        "value": {"metadata": {"phone_number_id": PNID}, "errors": [{"code": 1}]},
                    },
                    {"field": "message_template_status_update", "value": []},
                    {"field": "messages", "value": {"messages": [1, {}, "x"], "statuses": [None, {}]}},
                ],
            },
        ]
    }
    updates = parse_webhook_body(body)

    kinds = [type(u).__name__ for u in updates]
    assert kinds == [
        "OtherUpdate",  # the entry without changes
        "OtherUpdate",  # the change without a field
        "OtherUpdate",  # "messages" whose value is no object
        "OtherUpdate",  # "messages" with only errors
        "OtherUpdate",  # a template field whose value is no object
        "InboundMessage",  # the empty message object
        "StatusUpdate",  # the empty status object
    ]
    first, no_field, bad_value, only_errors, bad_template, empty_message, empty_status = updates
    assert isinstance(first, OtherUpdate) and first.waba_id == "no-changes"
    assert isinstance(no_field, OtherUpdate) and no_field.field_name == "unknown"
    assert isinstance(bad_value, OtherUpdate) and bad_value.raw == {"value": "not an object"}
    assert isinstance(only_errors, OtherUpdate) and only_errors.phone_number_id == PNID
    assert isinstance(bad_template, OtherUpdate)
    assert bad_template.field_name == "message_template_status_update"
    assert isinstance(empty_message, InboundMessage)
    assert (empty_message.type, empty_message.wamid, empty_message.phone_number_id) == ("unknown", "", "")
    assert isinstance(empty_status, StatusUpdate) and empty_status.status == "unknown"


def test_empty_entry_list_is_no_updates() -> None:
    assert parse_webhook_body({"object": "whatsapp_business_account", "entry": []}) == []


@pytest.mark.parametrize("body", [[], "x", {}, {"entry": 5}, None, 3, {"entry": {"id": "1"}}])
def test_malformed_bodies(body: object) -> None:
    with pytest.raises(MalformedWebhook):
        parse_webhook_body(body)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1697043223", datetime(2023, 10, 11, 16, 53, 43, tzinfo=UTC)),
        (1697043223, datetime(2023, 10, 11, 16, 53, 43, tzinfo=UTC)),
        (" 1697043223 ", datetime(2023, 10, 11, 16, 53, 43, tzinfo=UTC)),
    ],
)
def test_timestamps(value: object, expected: datetime) -> None:
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize("value", [None, "", "soon", True, [], {}, "nan", "inf", 10**30, -(10**30), 1e300])
def test_unusable_timestamps_are_now(value: object) -> None:
    parsed = parse_timestamp(value)
    assert parsed.tzinfo is not None
    assert abs(parsed - datetime.now(UTC)) < timedelta(minutes=1)


# --- nothing but MalformedWebhook, whatever comes -------------------------------------------------------

META_KEYS = [
    "entry",
    "changes",
    "field",
    "value",
    "id",
    "metadata",
    "phone_number_id",
    "contacts",
    "profile",
    "name",
    "wa_id",
    "user_id",
    "messages",
    "statuses",
    "from",
    "type",
    "timestamp",
    "text",
    "body",
    "context",
    "forwarded",
    "reaction",
    "emoji",
    "message_id",
    "edit",
    "message",
    "original_message_id",
    "revoke",
    "errors",
    "code",
    "title",
    "error_data",
    "details",
    "interactive",
    "button_reply",
    "list_reply",
    "event",
    "message_template_id",
    "status",
    "recipient_id",
    "group_id",
]
META_WORDS = [
    "messages",
    "message_template_status_update",
    "template_category_update",
    "message_template_quality_update",
    "message_template_components_update",
    "account_update",
    "text",
    "image",
    "reaction",
    "edit",
    "revoke",
    "interactive",
    "location",
    "contacts",
    "order",
    "button",
    "system",
    "failed",
    "1697043223",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6)
    | st.sampled_from(META_WORDS)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.sampled_from(META_KEYS), children, max_size=5)
    ),
    max_leaves=25,
)
FAST = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
"""Few examples, to keep this file under three seconds; the mutation test, the searching one, gets more."""


def _parses_or_is_malformed(body: object) -> None:
    try:
        updates = parse_webhook_body(body)
    except MalformedWebhook:
        return
    assert isinstance(updates, list)
    assert all(isinstance(update, UPDATE_TYPES) for update in updates)


@settings(FAST, max_examples=40)
@given(json_values)
def test_any_json_value_parses_or_is_malformed(body: Any) -> None:
    _parses_or_is_malformed(body)


# Webhook-shaped entries, changes and values, with anything at all at the item level and below.
small_json = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=4) | st.sampled_from(META_KEYS), children, max_size=3)
    ),
    max_leaves=6,
)
item_like = small_json | st.dictionaries(st.sampled_from(META_KEYS), small_json, max_size=8)
value_like = st.fixed_dictionaries(
    {},
    optional={
        "metadata": small_json | st.fixed_dictionaries({"phone_number_id": small_json}),
        "contacts": st.lists(item_like, max_size=2),
        "messages": st.lists(item_like, min_size=1, max_size=3),
        "statuses": st.lists(item_like, min_size=1, max_size=3),
        "errors": small_json,
    },
)
change_like = st.fixed_dictionaries(
    {
        "field": st.just("messages") | st.sampled_from(META_WORDS) | small_json,
        "value": value_like | small_json,
    }
)
entry_like = st.fixed_dictionaries(
    {"id": small_json, "changes": st.lists(change_like, min_size=1, max_size=3)}
)


@settings(FAST, max_examples=40)
@given(st.lists(entry_like | small_json, min_size=1, max_size=3))
def test_any_entries_parse(entries: list[Any]) -> None:
    _parses_or_is_malformed({"object": "whatsapp_business_account", "entry": entries})


def _containers(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) slot of a JSON tree."""
    slots: list[tuple[Any, Any]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        keys: list[Any] = list(current) if isinstance(current, dict) else list(range(len(current)))
        for key in keys:
            slots.append((current, key))
            if isinstance(current[key], dict | list):
                stack.append(current[key])
    return slots


@settings(FAST, max_examples=50)
@given(st.randoms(use_true_random=False), st.lists(json_values, min_size=1, max_size=6))
def test_mutated_samples_parse_or_are_malformed(rng: random.Random, replacements: list[Any]) -> None:
    # Samples and slots are picked uniformly (Hypothesis would favour the first ones), so deep slots get hit;
    # several bodies per example, from one pool of replacement values, keep this cheap.
    names = sorted(SAMPLE_BODIES)
    for _ in range(10):
        body = sample(rng.choice(names))
        for _ in range(rng.randint(1, 5)):
            # The body's own `entry` list stays a list: the malformed bodies have their own test.
            slots = [(node, key) for node, key in _containers(body) if not (node is body and key == "entry")]
            if not slots:
                break
            container, key = rng.choice(slots)
            if isinstance(container, dict) and rng.random() < 0.4:
                del container[key]
            else:
                container[key] = copy.deepcopy(rng.choice(replacements))
        _parses_or_is_malformed(body)
