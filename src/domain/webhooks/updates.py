"""What a Meta webhook body means, item by item, in the product's words.

`parse_webhook_body` (in `meta_payload.py`) turns a decoded body into a list of these updates: every
entry, every change, every message and status, never only the first. Everything it does not understand is
kept as an `OtherUpdate` (or an `InboundMessage` of type "unknown"), never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class InboundMessage:
    """A message a customer (or a group member) sent to one of our phone numbers."""

    phone_number_id: str
    wamid: str
    wa_id: str
    """The sender's WhatsApp id (digits, as Meta sends `from`)."""
    type: str
    """Meta's type (text, image, video, audio, voice, document, sticker, location, contacts, interactive,
    button, order, system, request_welcome, nfm_reply...), or "unknown"/"unsupported" as Meta says."""
    timestamp: datetime
    profile_name: str | None = None
    text: str | None = None
    """Readable text of the message: body, caption, button or list reply title, location name."""
    content: dict[str, Any] = field(default_factory=dict)
    """The type's own object as Meta sent it (`message[type]`), plus `referral`, `errors` when present."""
    context_wamid: str | None = None
    """The message this one replies to."""
    forwarded: bool = False
    frequently_forwarded: bool = False
    group_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusUpdate:
    """Delivery news about a message we sent: sent, delivered, read, played or failed."""

    phone_number_id: str
    wamid: str
    status: str
    timestamp: datetime
    recipient_id: str
    error_code: int | None = None
    error_title: str | None = None
    error_details: str | None = None
    biz_opaque_callback_data: str | None = None
    recipient_type: str | None = None
    """"group" for a status of a group message; None otherwise."""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReactionUpdate:
    """A customer reacted to a message (or removed the reaction: `emoji` is None)."""

    phone_number_id: str
    wamid: str
    wa_id: str
    target_wamid: str
    emoji: str | None
    timestamp: datetime
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MessageEdited:
    phone_number_id: str
    wamid: str
    """The id of the edit event itself."""
    wa_id: str
    original_wamid: str
    new_type: str
    new_text: str | None
    new_content: dict[str, Any]
    timestamp: datetime
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MessageDeleted:
    phone_number_id: str
    wamid: str
    wa_id: str
    original_wamid: str
    timestamp: datetime
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TemplateUpdate:
    """A template's status, category, quality or components changed at Meta (routed by WABA id)."""

    waba_id: str
    kind: str
    """"status", "category", "quality" or "components"."""
    template_id: str | None
    name: str | None
    language: str | None
    status: str | None = None
    category: str | None = None
    """`message_template_category` for a status update, `new_category` for a category update."""
    previous_category: str | None = None
    """For a category update: the category before (Meta's `previous_category`), when Meta says."""
    quality_score: str | None = None
    reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupUpdate:
    """News about a group of ours (fields `group_lifecycle_update`, `group_participants_update`,
    `group_settings_update`, `group_status_update`): one item of the change's `groups` list."""

    phone_number_id: str
    field_name: str
    kind: str
    """Meta's `type`: group_create, group_delete, group_participants_add, group_participants_remove,
    group_join_request_created, group_join_request_revoked, group_settings_update, group_suspend,
    group_suspend_cleared..."""
    group_id: str | None
    timestamp: datetime
    request_id: str | None = None
    subject: str | None = None
    description: str | None = None
    invite_link: str | None = None
    join_approval_mode: str | None = None
    added: tuple[str, ...] = ()
    """WhatsApp ids of participants who joined."""
    removed: tuple[str, ...] = ()
    """WhatsApp ids of participants who left or were removed."""
    join_request_id: str | None = None
    wa_id: str | None = None
    error_code: int | None = None
    error_title: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OtherUpdate:
    """Any other change (account updates, calls, user preferences, echoes, system notices): kept as is."""

    field_name: str
    waba_id: str | None
    phone_number_id: str | None
    raw: dict[str, Any] = field(default_factory=dict)


Update = (
    InboundMessage
    | StatusUpdate
    | ReactionUpdate
    | MessageEdited
    | MessageDeleted
    | TemplateUpdate
    | GroupUpdate
    | OtherUpdate
)


class MalformedWebhook(ValueError):
    """The body is not a WhatsApp Business Account webhook at all (not an object, no `entry` list)."""
