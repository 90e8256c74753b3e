"""An audience is a named list of contacts for campaigns: static members, or everyone with some tags."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.contacts.contact import clean_tags
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.ids import new_id


class AudienceKind(StrEnum):
    STATIC = "static"
    DYNAMIC = "dynamic"


@dataclass(kw_only=True)
class Audience:
    tenant_id: UUID
    name: str
    id: UUID = field(default_factory=new_id)
    kind: AudienceKind = AudienceKind.STATIC
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass(kw_only=True)
class AudienceMember:
    tenant_id: UUID
    audience_id: UUID
    contact_id: UUID
    id: UUID = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


MAX_AUDIENCE_NAME_LENGTH = 200
MAX_AUDIENCE_TAGS = 20
MAX_MEMBERS_PER_CALL = 10_000


def define_audience(name: str, kind: AudienceKind, tags: list[str]) -> tuple[str, list[str]]:
    """The audience's cleaned name and tags.

    A dynamic audience is every contact that has ANY of its tags (a union, like a mailing list for
    "vip" or "berlin"), counted and resolved when asked, so contacts tagged later belong at once. A static
    audience has exactly the members added to it and no tags.
    """
    cleaned_name = name.strip()
    if not cleaned_name or len(cleaned_name) > MAX_AUDIENCE_NAME_LENGTH or "\x00" in cleaned_name:
        raise InvalidInput(f"an audience's name is 1 to {MAX_AUDIENCE_NAME_LENGTH} characters of text")
    cleaned_tags = clean_tags(tags)
    if kind is AudienceKind.DYNAMIC and not cleaned_tags:
        raise InvalidInput("a dynamic audience needs at least one tag")
    if kind is AudienceKind.STATIC and cleaned_tags:
        raise InvalidInput("a static audience has members, not tags (use kind 'dynamic' for tags)")
    if len(cleaned_tags) > MAX_AUDIENCE_TAGS:
        raise InvalidInput(f"an audience matches at most {MAX_AUDIENCE_TAGS} tags")
    return cleaned_name, cleaned_tags
