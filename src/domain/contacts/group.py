"""A real WhatsApp group, created and managed through the Cloud API's Groups API.

Meta creates a group asynchronously: `POST /{phone-number-id}/groups` answers with a request id, and the
group's id and invite link arrive later in a `group_lifecycle_update` webhook. A group is therefore
`pending` (asked for, Meta's id unknown) until that webhook makes it `active` (or `failed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import Conflict, InvalidInput
from pywhatsapp.domain.ids import new_id

MAX_SUBJECT = 128
MAX_DESCRIPTION = 2048
MAX_PARTICIPANTS = 8
"""Meta's limit of participants per group (besides the business)."""
GROUP_MESSAGE_TYPES = frozenset({"text", "image", "video", "audio", "document", "sticker", "template"})
"""What Meta delivers to groups: text, media and templates (no interactive messages or reactions)."""


class GroupState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    FAILED = "failed"


class JoinApprovalMode(StrEnum):
    AUTO_APPROVE = "auto_approve"
    APPROVAL_REQUIRED = "approval_required"


@dataclass(kw_only=True)
class Group:
    tenant_id: UUID
    subject: str
    id: UUID = field(default_factory=new_id)
    group_id: str | None = None
    """Meta's id of the group, once created there."""
    channel_id: UUID | None = None
    description: str | None = None
    invite_link: str | None = None
    join_approval_mode: JoinApprovalMode = JoinApprovalMode.AUTO_APPROVE
    state: GroupState = GroupState.ACTIVE
    request_id: str | None = None
    """Meta's id of the pending asynchronous request that created the group (echoed by its webhook)."""
    suspended: bool = False
    error: str | None = None
    """Why Meta could not create the group, when it could not."""
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass(kw_only=True)
class GroupParticipant:
    tenant_id: UUID
    group_id: UUID
    wa_id: str
    id: UUID = field(default_factory=new_id)
    is_admin: bool = False
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


class GroupNotReady(Conflict):
    def __init__(self, group: Group) -> None:
        if group.state is GroupState.FAILED:
            reason = f"Meta could not create it ({group.error or 'no reason given'})"
        else:
            reason = "Meta has not confirmed its creation yet (the group_lifecycle_update webhook)"
        super().__init__(f"The group {group.id} has no WhatsApp group id: {reason}")


class GroupSuspended(Conflict):
    def __init__(self) -> None:
        super().__init__("WhatsApp suspended this group: nothing can be sent to it until it is reinstated")


def group_subject(subject: str) -> str:
    """The subject as Meta keeps it: trimmed, 1 to 128 characters."""
    cleaned = subject.strip()
    if not cleaned:
        raise InvalidInput("subject must not be empty")
    if len(cleaned) > MAX_SUBJECT:
        raise InvalidInput(f"subject is at most {MAX_SUBJECT} characters")
    return cleaned


def group_description(description: str | None) -> str | None:
    if description is None:
        return None
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description is at most {MAX_DESCRIPTION} characters")
    return description


def join_approval_mode(value: str | None) -> JoinApprovalMode:
    if value is None:
        return JoinApprovalMode.AUTO_APPROVE
    try:
        return JoinApprovalMode(value.strip().lower())
    except ValueError:
        allowed = ", ".join(mode.value for mode in JoinApprovalMode)
        raise InvalidInput(f"join_approval_mode must be one of {allowed}") from None


def sendable_group_id(group: Group) -> str:
    """Meta's group id to send to, refusing a group that cannot receive messages."""
    if group.state is not GroupState.ACTIVE or not group.group_id:
        raise GroupNotReady(group)
    if group.suspended:
        raise GroupSuspended()
    return group.group_id
