"""Outbound media: a file the business uploads to Meta for sending is kept, like a customer's, so that its own
messages show (and give back) the file they carried. Pure rules; the storing happens in application/media."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id

OUTBOUND_MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
MAX_MEDIA_ID = 200
_UNSAFE = re.compile(r"[^0-9A-Za-z_-]")


@dataclass(kw_only=True)
class UploadedFile:
    """A file uploaded for sending (`POST /api/v1/media`, the /chat composer), kept in the media storage under
    the tenant and Meta's media id. A message sent with `{"id": media_id}` records it as its stored file."""

    tenant_id: UUID
    media_id: str
    kind: str
    mime_type: str
    size: int
    sha256: str
    storage_path: str
    channel_id: UUID | None = None
    filename: str | None = None
    id: UUID = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


def upload_storage_path(tenant_id: UUID, media_id: str) -> str:
    """Where an uploaded file is kept: beside the tenant's inbound files (`<tenant>/<message id>`), under
    `uploads/` and Meta's media id (characters a storage key should not carry are replaced)."""
    return f"{tenant_id}/uploads/{_UNSAFE.sub('_', media_id)[:MAX_MEDIA_ID]}"


def sent_media_id(message_type: str, payload: dict[str, Any] | list[Any]) -> str | None:
    """The uploaded media id a message to send refers to; None for other messages and for media sent by
    `link` (a URL the app never had the bytes of)."""
    if message_type not in OUTBOUND_MEDIA_TYPES or not isinstance(payload, dict) or payload.get("link"):
        return None
    media_id = payload.get("id")
    if not isinstance(media_id, (str, int)) or isinstance(media_id, bool):
        return None
    text = str(media_id).strip()
    return text[:MAX_MEDIA_ID] if text else None
