"""The JSON shapes of the API (msgspec structs at the HTTP edge), and how entities become them."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec

S = TypeVar("S", bound=msgspec.Struct)


def present(entity: Any, shape: type[S]) -> S:
    """Build `shape` from the entity fields it names; fields the shape lacks (secrets) are never copied."""
    names = set(shape.__struct_fields__)
    return shape(**{f.name: getattr(entity, f.name) for f in fields(entity) if f.name in names})


NO_NUL = r"^[^\x00]*$"


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=150, pattern=NO_NUL)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024, pattern=NO_NUL)]
    tenant: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    """Optional tenant (UUID or slug) to sign in to; defaults to the user's own tenant."""


class TenantRead(msgspec.Struct):
    id: UUID
    slug: str
    name: str


class LoginResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_at: datetime
    user_id: UUID
    username: str
    tenant: TenantRead
    role: str


class MeResponse(msgspec.Struct):
    user_id: UUID
    username: str
    tenant: TenantRead
    role: str
    tenants: list[TenantRead]


class ChannelRead(msgspec.Struct):
    id: UUID
    name: str
    phone_number_id: str
    waba_id: str | None
    display_phone_number: str | None
    messages_per_second: int
    is_active: bool
    paused_reason: str | None
    created_at: datetime
    updated_at: datetime


class ContactRead(msgspec.Struct):
    id: UUID
    wa_id: str
    name: str | None
    tags: list[str]
    attributes: dict[str, Any]
    opted_out: bool
    opted_out_changed_at: datetime | None
    last_inbound_at: datetime | None
    created_at: datetime
    updated_at: datetime


class GroupRead(msgspec.Struct):
    id: UUID
    subject: str
    group_id: str | None
    description: str | None
    invite_link: str | None
    created_at: datetime
    updated_at: datetime
    join_approval_mode: str = "auto_approve"
    state: str = "active"
    """pending (Meta has not confirmed the creation yet), active or failed (see `error`)."""
    suspended: bool = False
    error: str | None = None
    channel_id: UUID | None = None


class AudienceRead(msgspec.Struct):
    id: UUID
    name: str
    kind: str
    tags: list[str]
    description: str | None
    created_at: datetime
    updated_at: datetime


class ConversationRead(msgspec.Struct):
    id: UUID
    contact_id: UUID
    channel_id: UUID | None
    last_message_id: UUID | None
    last_message_at: datetime | None
    last_inbound_at: datetime | None
    unread_count: int
    created_at: datetime
    updated_at: datetime


class MessageRead(msgspec.Struct):
    id: UUID
    wamid: str | None
    direction: str
    type: str
    status: str
    wa_id: str
    contact_id: UUID | None
    conversation_id: UUID | None
    text: str | None
    content: dict[str, Any]
    context_wamid: str | None
    error_code: int | None
    error_title: str | None
    timestamp: datetime
    created_at: datetime
    updated_at: datetime
    group_id: UUID | None = None
    """The group (of /api/v1/groups) a group message was written in or sent to."""
    media_state: str | None = None
    """The message's file: pending, stored (GET /api/v1/messages/{id}/media), refused or failed (inbound);
    stored when an outgoing message sent a file uploaded here."""
    media_error: str | None = None


class TemplateRead(msgspec.Struct):
    id: UUID
    name: str
    language: str
    category: str | None
    status: str
    quality_score: str | None
    components: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime


class CampaignRead(msgspec.Struct):
    id: UUID
    name: str
    status: str
    template_name: str | None
    language: str | None
    scheduled_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookLogRead(msgspec.Struct):
    id: UUID
    phone_number_id: str | None
    field_name: str | None
    outcome: str
    reason: str | None
    item_count: int
    body: Any
    received_at: datetime
