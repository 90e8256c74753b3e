"""What the group use cases need: Meta's Groups API (the gateway) and the stored groups (the registry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.group import Group, GroupParticipant, JoinApprovalMode


@dataclass(frozen=True)
class MetaGroup:
    """A group as Meta describes it (`GET /{group-id}` or one item of `GET /{phone-number-id}/groups`)."""

    group_id: str
    subject: str
    description: str | None = None
    created_at: datetime | None = None
    suspended: bool = False
    join_approval_mode: JoinApprovalMode | None = None
    participants: tuple[str, ...] | None = None
    """WhatsApp ids of the participants (the business excluded); None when Meta did not list them."""
    total_participant_count: int | None = None


@dataclass(frozen=True)
class JoinRequest:
    id: str
    wa_id: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class JoinRequestOutcome:
    """Which join requests Meta approved (or rejected) and which failed, with Meta's reason."""

    done: tuple[str, ...]
    failed: dict[str, str] = field(default_factory=dict)


class GroupGateway(Protocol):
    """Meta's Groups API. Refusals raise SendRefused; silence raises GatewayUnreachable."""

    async def create_group(
        self, channel: Channel, *, subject: str, description: str | None, join_approval_mode: JoinApprovalMode
    ) -> str:
        """Ask Meta for a new group; the request id its `group_lifecycle_update` webhook will echo."""
        ...

    async def get_group(self, channel: Channel, group_id: str) -> MetaGroup: ...

    async def list_groups(self, channel: Channel) -> list[MetaGroup]:
        """Every active group of the channel's phone number (all pages)."""
        ...

    async def delete_group(self, channel: Channel, group_id: str) -> None: ...

    async def invite_link(self, channel: Channel, group_id: str, *, reset: bool = False) -> str: ...

    async def join_requests(self, channel: Channel, group_id: str) -> list[JoinRequest]: ...

    async def answer_join_requests(
        self, channel: Channel, group_id: str, request_ids: Sequence[str], *, approve: bool
    ) -> JoinRequestOutcome: ...

    async def remove_participants(self, channel: Channel, group_id: str, wa_ids: Sequence[str]) -> None: ...

    async def update_settings(
        self, channel: Channel, group_id: str, *, subject: str | None, description: str | None
    ) -> None: ...


class GroupRegistry(Protocol):
    """The tenant's groups beyond plain records: found by Meta's ids, with their participants."""

    async def by_meta_id(self, group_id: str) -> Group | None: ...

    async def by_request_id(self, request_id: str) -> Group | None: ...

    async def save(self, group: Group) -> Group:
        """Add the group, or update it if stored."""
        ...

    async def delete(self, group_id: UUID) -> bool: ...

    async def participants(self, group_id: UUID) -> list[GroupParticipant]: ...

    async def add_participants(self, group_id: UUID, wa_ids: Sequence[str]) -> None:
        """Idempotent: a participant already stored stays as is."""
        ...

    async def remove_participants(self, group_id: UUID, wa_ids: Sequence[str]) -> None: ...

    async def replace_participants(self, group_id: UUID, wa_ids: Sequence[str]) -> None:
        """Exactly these participants afterwards (Meta's list is the truth)."""
        ...
