"""Meta's Groups API through PyWA's async client, on the gateway's per-channel clients.

PyWA's high-level group methods expect answers Meta does not always give (a `request_id` from
approving join requests, a `user_id` on every participant, a profile picture on every settings
update), so apart from creating a group and its invite link the calls go through PyWA's Graph API
layer (`client.api`), and the answers are read defensively.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pywa.types.groups import GroupJoinApprovalMode

from pywhatsapp.adapters.whatsapp.pywa_gateway import PywaGateway
from pywhatsapp.application.groups.ports import JoinRequest, JoinRequestOutcome, MetaGroup
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.group import JoinApprovalMode

GROUP_FIELDS = (
    "id",
    "subject",
    "description",
    "creation_timestamp",
    "suspended",
    "total_participant_count",
    "participants",
    "join_approval_mode",
)
MAX_PAGES = 100


def _timestamp(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(str(value)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _mode(value: object) -> JoinApprovalMode | None:
    try:
        return JoinApprovalMode(str(value).lower()) if value else None
    except ValueError:
        return None


def meta_group(data: dict[str, Any]) -> MetaGroup:
    """A group object of the Graph API (`GET /{group-id}`, or an item of the active groups list)."""
    participants = data.get("participants")
    wa_ids: tuple[str, ...] | None = None
    if isinstance(participants, list):
        wa_ids = tuple(
            str(p.get("wa_id") or p.get("user_id"))
            for p in participants
            if isinstance(p, dict) and (p.get("wa_id") or p.get("user_id"))
        )
    count = data.get("total_participant_count")
    return MetaGroup(
        group_id=str(data["id"]),
        subject=str(data.get("subject") or ""),
        description=str(data["description"]) if data.get("description") is not None else None,
        created_at=_timestamp(data.get("creation_timestamp") or data.get("created_at")),
        suspended=data.get("suspended") is True,
        join_approval_mode=_mode(data.get("join_approval_mode")),
        participants=wa_ids,
        total_participant_count=count if isinstance(count, int) else None,
    )


def group_items(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The groups of an active-groups page: `data` is a list, or `{"groups": [...]}`."""
    data = answer.get("data")
    if isinstance(data, dict):
        data = data.get("groups")
    return (
        [item for item in data if isinstance(item, dict) and item.get("id")] if isinstance(data, list) else []
    )


class PywaGroupGateway:
    def __init__(self, gateway: PywaGateway) -> None:
        self._gateway = gateway

    async def _api(self, channel: Channel, operation: str, call_name: str, **kwargs: Any) -> Any:
        client = self._gateway.client_for(channel)
        return await self._gateway.call(operation, getattr(client.api, call_name)(**kwargs))

    async def create_group(
        self, channel: Channel, *, subject: str, description: str | None, join_approval_mode: JoinApprovalMode
    ) -> str:
        client = self._gateway.client_for(channel)
        operation = await self._gateway.call(
            "create_group",
            client.create_group(
                subject=subject,
                description=description,
                join_approval_mode=GroupJoinApprovalMode(join_approval_mode.value),
                phone_id=channel.phone_number_id,
            ),
        )
        return str(operation.request_id)

    async def get_group(self, channel: Channel, group_id: str) -> MetaGroup:
        answer = await self._api(
            channel, "get_group", "get_group_info", group_id=group_id, fields=GROUP_FIELDS
        )
        return meta_group({"id": group_id, **answer})

    async def list_groups(self, channel: Channel) -> list[MetaGroup]:
        groups: list[MetaGroup] = []
        pagination: dict[str, str] | None = None
        for _ in range(MAX_PAGES):
            answer = await self._api(
                channel,
                "list_groups",
                "get_active_groups",
                phone_id=channel.phone_number_id,
                fields=GROUP_FIELDS,
                pagination=pagination,
            )
            groups.extend(meta_group(item) for item in group_items(answer))
            paging = answer.get("paging") if isinstance(answer.get("paging"), dict) else {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            pagination = {"after": str(after)}
        return groups

    async def delete_group(self, channel: Channel, group_id: str) -> None:
        await self._api(channel, "delete_group", "delete_group", group_id=group_id)

    async def invite_link(self, channel: Channel, group_id: str, *, reset: bool = False) -> str:
        client = self._gateway.client_for(channel)
        if reset:
            link = await self._gateway.call("reset_invite_link", client.reset_group_invite_link(group_id))
        else:
            link = await self._gateway.call("get_invite_link", client.get_group_invite_link(group_id))
        return str(link.link)

    async def join_requests(self, channel: Channel, group_id: str) -> list[JoinRequest]:
        answer = await self._api(channel, "join_requests", "get_group_join_requests", group_id=group_id)
        data = answer.get("data")
        return [
            JoinRequest(
                id=str(item["join_request_id"]),
                wa_id=str(item.get("wa_id") or item.get("user_id") or ""),
                created_at=_timestamp(item.get("creation_timestamp")),
            )
            for item in (data if isinstance(data, list) else [])
            if isinstance(item, dict) and item.get("join_request_id")
        ]

    async def answer_join_requests(
        self, channel: Channel, group_id: str, request_ids: Sequence[str], *, approve: bool
    ) -> JoinRequestOutcome:
        answer = await self._api(
            channel,
            "approve_join_requests" if approve else "reject_join_requests",
            "approve_group_join_requests" if approve else "reject_group_join_requests",
            group_id=group_id,
            request_ids=tuple(request_ids),
        )
        done = answer.get("approved_join_requests" if approve else "rejected_join_requests")
        failed: dict[str, str] = {}
        for item in answer.get("failed_join_requests") or []:
            if isinstance(item, dict) and item.get("join_request_id"):
                errors = item.get("errors") or [{}]
                first = (
                    errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
                )
                failed[str(item["join_request_id"])] = str(
                    first.get("title") or first.get("message") or "failed"
                )
        if not isinstance(done, list):
            # An answer without the lists (only a request id): Meta took them all, the webhook confirms.
            done = [r for r in request_ids if r not in failed]
        return JoinRequestOutcome(done=tuple(str(r) for r in done), failed=failed)

    async def remove_participants(self, channel: Channel, group_id: str, wa_ids: Sequence[str]) -> None:
        await self._api(
            channel,
            "remove_participants",
            "remove_group_participants",
            group_id=group_id,
            users=tuple(wa_ids),
            user_ids=(),
        )

    async def update_settings(
        self, channel: Channel, group_id: str, *, subject: str | None, description: str | None
    ) -> None:
        await self._api(
            channel,
            "update_group_settings",
            "update_group_info",
            group_id=group_id,
            subject=subject,
            description=description,
        )
