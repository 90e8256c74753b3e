"""The Groups API webhook fields read into `GroupUpdate`s (pure, like `meta_payload.py`).

Shape (https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/webhooks):

    {"field": "group_lifecycle_update", "value": {"metadata": {"phone_number_id": ...},
        "groups": [{"timestamp", "group_id", "type": "group_create", "request_id", "subject",
                    "invite_link", "join_approval_mode", "errors"?: [...]}]}}

`group_participants_update` items carry `added_participants` / `removed_participants` (`[{"wa_id"}]`) or a
join request (`join_request_id`, `wa_id`); `group_settings_update` items the new `subject` /
`description`; `group_status_update` items a `group_suspend` or `group_suspend_cleared` type.
"""

from __future__ import annotations

from typing import Any

from pywhatsapp.domain.webhooks.meta_payload import (
    _as_int,
    _as_str,
    _as_text,
    _dicts,
    _phone_number_id,
    parse_timestamp,
)
from pywhatsapp.domain.webhooks.updates import GroupUpdate

GROUP_FIELDS = frozenset(
    {"group_lifecycle_update", "group_participants_update", "group_settings_update", "group_status_update"}
)


def parse_group_value(field_name: str, value: dict[str, Any]) -> list[GroupUpdate]:
    """Every item of the change's `groups` list; [] when there is none."""
    phone_number_id = _phone_number_id(value) or ""
    return [_parse_group(field_name, phone_number_id, item) for item in _dicts(value.get("groups"))]


def _parse_group(field_name: str, phone_number_id: str, item: dict[str, Any]) -> GroupUpdate:
    errors = _dicts(item.get("errors"))
    first_error = errors[0] if errors else {}
    return GroupUpdate(
        phone_number_id=phone_number_id,
        field_name=field_name,
        kind=_as_text(item.get("type")) or "unknown",
        group_id=_as_str(item.get("group_id")),
        timestamp=parse_timestamp(item.get("timestamp")),
        request_id=_as_str(item.get("request_id")),
        subject=_setting_text(item.get("subject")),
        description=_setting_text(item.get("description")),
        invite_link=_as_text(item.get("invite_link")),
        join_approval_mode=_as_text(item.get("join_approval_mode")),
        added=_wa_ids(item.get("added_participants")),
        removed=_wa_ids(item.get("removed_participants")),
        join_request_id=_as_str(item.get("join_request_id")),
        wa_id=_as_str(item.get("wa_id")),
        error_code=_as_int(first_error.get("code")),
        error_title=_as_text(first_error.get("title")) or _as_text(first_error.get("message")),
        raw=item,
    )


def _setting_text(value: object) -> str | None:
    """A setting as a string, or as the `{"text": ...}` object a settings update may carry."""
    if isinstance(value, dict):
        return _as_text(value.get("text")) if value.get("update_successful", True) else None
    return _as_text(value)


def _wa_ids(participants: object) -> tuple[str, ...]:
    ids = []
    for participant in _dicts(participants):
        wa_id = _as_str(participant.get("wa_id")) or _as_str(participant.get("user"))
        if wa_id:
            ids.append(wa_id)
    return tuple(ids)
