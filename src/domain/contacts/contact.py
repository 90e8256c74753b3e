"""A customer the business talks to, known by their WhatsApp id (E.164 digits without '+')."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.ids import new_id


@dataclass(kw_only=True)
class Contact:
    tenant_id: UUID
    wa_id: str
    id: UUID = field(default_factory=new_id)
    name: str | None = None
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    opted_out: bool = False
    opted_out_changed_at: datetime | None = None
    last_inbound_at: datetime | None = None
    """Start of the 24-hour customer-service window."""
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


MAX_NAME_LENGTH = 200
MAX_TAG_LENGTH = 64
MAX_TAGS = 100
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_LENGTH = 64
MAX_ATTRIBUTE_TEXT_LENGTH = 1000


def clean_name(name: str | None) -> str | None:
    """A display name, trimmed; blank means none."""
    if name is None:
        return None
    name = name.strip()
    if "\x00" in name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name must be at most {MAX_NAME_LENGTH} characters of text")
    return name or None


def clean_tags(tags: list[str]) -> list[str]:
    """Tags trimmed, blanks dropped, each once, in the order first given."""
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            continue
        if "\x00" in tag or len(tag) > MAX_TAG_LENGTH:
            raise InvalidInput(f"a tag must be at most {MAX_TAG_LENGTH} characters of text: {tag[:80]!r}")
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"a contact has at most {MAX_TAGS} tags")
    return cleaned


def clean_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Custom attributes: short names, scalar values (text, numbers, true/false, null)."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidInput(f"a contact has at most {MAX_ATTRIBUTES} attributes")
    cleaned: dict[str, Any] = {}
    for key, value in attributes.items():
        name = key.strip()
        if not name or len(name) > MAX_ATTRIBUTE_KEY_LENGTH or "\x00" in name:
            raise InvalidInput(
                f"attribute names are 1 to {MAX_ATTRIBUTE_KEY_LENGTH} characters: {key[:80]!r}"
            )
        if isinstance(value, str):
            if len(value) > MAX_ATTRIBUTE_TEXT_LENGTH or "\x00" in value:
                raise InvalidInput(
                    f"attribute {name!r} is longer than {MAX_ATTRIBUTE_TEXT_LENGTH} characters"
                )
        elif not (value is None or isinstance(value, (bool, int, float))):
            raise InvalidInput(f"attribute {name!r} must be text, a number, true/false or null")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            raise InvalidInput(f"attribute {name!r} is too large a number")
        cleaned[name] = value
    return cleaned


def change_opt_out(contact: Contact, opted_out: bool, at: datetime) -> Contact:
    """Opting out (or back in) by hand records when, as a STOP message does; repeating it changes nothing."""
    if contact.opted_out != opted_out:
        contact.opted_out = opted_out
        contact.opted_out_changed_at = at
    return contact
