"""What the inbox hears live: small JSON events, one tenant each, published with the data they announce."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID


class EventType(StrEnum):
    MESSAGE_INCOMING = "message_incoming"
    MESSAGE_OUTGOING = "message_outgoing"
    MESSAGE_STATUS = "message_status"
    REACTION = "reaction"
    CONVERSATION_UPDATED = "conversation_updated"
    CAMPAIGN_PROGRESS = "campaign_progress"
    TEMPLATE_STATUS = "template_status"
    CONTACT_IMPORT_PROGRESS = "contact_import_progress"
    CAMPAIGN_COMPLETED = "campaign_completed"


# PostgreSQL NOTIFY payloads stop at 8,000 bytes: events carry ids and short summaries, not whole bodies.
MAX_TEXT_IN_EVENT = 300


@dataclass(frozen=True)
class RealtimeEvent:
    type: EventType
    tenant_id: UUID
    data: dict[str, Any] = field(default_factory=dict)

    def as_json_object(self) -> dict[str, Any]:
        return {"type": self.type.value, "tenant_id": str(self.tenant_id), "data": self.data}


def short(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_TEXT_IN_EVENT:
        return text
    return text[: MAX_TEXT_IN_EVENT - 1] + "…"
