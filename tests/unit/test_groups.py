"""Groups: the rules, Meta's group webhooks read and applied (on the fakes), and Meta's answers read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from pywhatsapp.adapters.whatsapp.groups import group_items, meta_group
from pywhatsapp.application.webhooks.apply_update import UpdateApplier
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.group import (
    Group,
    GroupNotReady,
    GroupState,
    GroupSuspended,
    JoinApprovalMode,
    group_description,
    group_subject,
    join_approval_mode,
    sendable_group_id,
)
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.messaging.opt_out import OptOutKeywords
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.domain.webhooks.meta_payload import parse_webhook_body
from pywhatsapp.domain.webhooks.updates import GroupUpdate, InboundMessage
from tests.unit.fakes import FakeUnitOfWorkFactory

PHONE = "1122334455667"


def body(field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": field, "value": value}]}],
    }


def groups_value(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE},
        "groups": list(items),
    }


# --- rules ----------------------------------------------------------------------------------------------


def test_subject_is_trimmed_and_bounded() -> None:
    assert group_subject("  Buyers  ") == "Buyers"
    with pytest.raises(InvalidInput):
        group_subject("   ")
    with pytest.raises(InvalidInput):
        group_subject("x" * 129)
    assert group_description(None) is None
    with pytest.raises(InvalidInput):
        group_description("x" * 2049)


def test_join_approval_mode_defaults_to_auto_approve() -> None:
    assert join_approval_mode(None) is JoinApprovalMode.AUTO_APPROVE
    assert join_approval_mode("APPROVAL_REQUIRED") is JoinApprovalMode.APPROVAL_REQUIRED
    with pytest.raises(InvalidInput):
        join_approval_mode("maybe")


def test_only_a_live_group_receives_messages() -> None:
    tenant = uuid4()
    with pytest.raises(GroupNotReady, match="not confirmed"):
        sendable_group_id(Group(tenant_id=tenant, subject="a", state=GroupState.PENDING))
    with pytest.raises(GroupNotReady, match=r"\(131000\) boom"):
        sendable_group_id(
            Group(tenant_id=tenant, subject="a", state=GroupState.FAILED, error="(131000) boom")
        )
    with pytest.raises(GroupSuspended):
        sendable_group_id(Group(tenant_id=tenant, subject="a", group_id="G1", suspended=True))
    assert sendable_group_id(Group(tenant_id=tenant, subject="a", group_id="G1")) == "G1"


# --- Meta's group webhooks, read --------------------------------------------------------------------------


def test_lifecycle_participants_settings_and_status_fields_are_read() -> None:
    created, failed = parse_webhook_body(
        body(
            "group_lifecycle_update",
            groups_value(
                {
                    "timestamp": "1700000000",
                    "group_id": "G1",
                    "type": "group_create",
                    "request_id": "R1",
                    "subject": "Buyers",
                    "invite_link": "https://chat.whatsapp.com/X",
                    "join_approval_mode": "auto_approve",
                },
                {
                    "type": "group_create",
                    "request_id": "R2",
                    "errors": [{"code": 131000, "title": "Something went wrong"}],
                },
            ),
        )
    )
    assert isinstance(created, GroupUpdate) and isinstance(failed, GroupUpdate)
    assert (created.kind, created.group_id, created.request_id, created.invite_link) == (
        "group_create",
        "G1",
        "R1",
        "https://chat.whatsapp.com/X",
    )
    assert created.phone_number_id == PHONE and created.timestamp == datetime.fromtimestamp(1700000000, UTC)
    assert (failed.error_code, failed.error_title) == (131000, "Something went wrong")

    (joined,) = parse_webhook_body(
        body(
            "group_participants_update",
            groups_value(
                {
                    "group_id": "G1",
                    "type": "group_participants_add",
                    "added_participants": [{"wa_id": "15551230001"}, {"input": "x"}],
                }
            ),
        )
    )
    assert isinstance(joined, GroupUpdate) and joined.added == ("15551230001",)
    (settings,) = parse_webhook_body(
        body(
            "group_settings_update",
            groups_value(
                {
                    "group_id": "G1",
                    "type": "group_settings_update",
                    "group_subject": {"text": "ignored"},
                    "subject": {"text": "New name", "update_successful": True},
                }
            ),
        )
    )
    assert isinstance(settings, GroupUpdate) and settings.subject == "New name"


def test_a_group_field_without_groups_is_kept_as_another_update() -> None:
    (update,) = parse_webhook_body(body("group_status_update", {"metadata": {"phone_number_id": PHONE}}))
    assert not isinstance(update, GroupUpdate)


def test_a_group_message_carries_its_group_id() -> None:
    value = {
        "metadata": {"phone_number_id": PHONE},
        "contacts": [{"profile": {"name": "Tiago"}, "wa_id": "16505551234"}],
        "messages": [
            {
                "from": "16505551234",
                "group_id": "G1",
                "id": "wamid.1",
                "timestamp": "1744344496",
                "text": {"body": "Hi all"},
                "type": "text",
            }
        ],
    }
    (message,) = parse_webhook_body(body("messages", value))
    assert isinstance(message, InboundMessage) and message.group_id == "G1" and message.text == "Hi all"


# --- applied to a tenant's groups -------------------------------------------------------------------------


@pytest.fixture
def channel(factory: FakeUnitOfWorkFactory) -> Channel:
    tenant = factory.put_tenant(Tenant(name="Shop", slug="shop"))
    channel = Channel(tenant_id=tenant.id, phone_number_id=PHONE, access_token="t")
    factory.put_record("channels", channel)
    return channel


async def apply(factory: FakeUnitOfWorkFactory, channel: Channel, field: str, *items: dict[str, Any]) -> None:
    applier = UpdateApplier(OptOutKeywords.from_setting("STOP", "START"))
    async with factory(channel.tenant_id) as uow:
        for update in parse_webhook_body(body(field, groups_value(*items))):
            await applier.apply(uow, channel, update)
        await uow.commit()


async def test_the_creation_webhook_activates_the_pending_group(
    factory: FakeUnitOfWorkFactory, channel: Channel
) -> None:
    pending = Group(tenant_id=channel.tenant_id, subject="Buyers", state=GroupState.PENDING, request_id="R1")
    factory.put_record("groups", pending)
    item = {"type": "group_create", "request_id": "R1", "group_id": "G1", "invite_link": "https://l/1"}
    await apply(factory, channel, "group_lifecycle_update", item)
    await apply(factory, channel, "group_lifecycle_update", item)  # Meta repeats itself
    async with factory(channel.tenant_id) as uow:
        (group,) = await uow.groups.list(limit=10)
    assert (group.id, group.state, group.group_id, group.invite_link) == (
        pending.id,
        GroupState.ACTIVE,
        "G1",
        "https://l/1",
    )


async def test_a_failed_creation_is_recorded(factory: FakeUnitOfWorkFactory, channel: Channel) -> None:
    factory.put_record(
        "groups", Group(tenant_id=channel.tenant_id, subject="B", state=GroupState.PENDING, request_id="R9")
    )
    await apply(
        factory,
        channel,
        "group_lifecycle_update",
        {"type": "group_create", "request_id": "R9", "errors": [{"code": 131000, "title": "Nope"}]},
    )
    async with factory(channel.tenant_id) as uow:
        (group,) = await uow.groups.list(limit=10)
    assert group.state is GroupState.FAILED and group.error == "(131000) Nope" and group.group_id is None


async def test_participants_join_and_leave_and_the_group_is_suspended(
    factory: FakeUnitOfWorkFactory, channel: Channel
) -> None:
    await apply(
        factory,
        channel,
        "group_participants_update",
        {
            "group_id": "G7",
            "type": "group_participants_add",
            "added_participants": [{"wa_id": "1555"}, {"wa_id": "1666"}],
        },
    )
    await apply(
        factory,
        channel,
        "group_participants_update",
        {"group_id": "G7", "type": "group_participants_remove", "removed_participants": [{"wa_id": "1555"}]},
    )
    await apply(factory, channel, "group_status_update", {"group_id": "G7", "type": "group_suspend"})
    async with factory(channel.tenant_id) as uow:
        group = await uow.group_registry.by_meta_id("G7")
        assert group is not None
        participants = await uow.group_registry.participants(group.id)
    assert [p.wa_id for p in participants] == ["1666"]
    assert group.suspended and group.subject == "WhatsApp group"


async def test_a_deleted_group_is_forgotten(factory: FakeUnitOfWorkFactory, channel: Channel) -> None:
    factory.put_record("groups", Group(tenant_id=channel.tenant_id, subject="B", group_id="G3"))
    await apply(factory, channel, "group_lifecycle_update", {"type": "group_delete", "group_id": "G3"})
    async with factory(channel.tenant_id) as uow:
        assert await uow.groups.count() == 0


# --- Meta's answers, read ---------------------------------------------------------------------------------


def test_group_answers_are_read_defensively() -> None:
    group = meta_group(
        {
            "id": "G1",
            "subject": "Buyers",
            "creation_timestamp": 1700000000,
            "suspended": False,
            "participants": [{"wa_id": "1555"}, {"user_id": "US.1"}, {}],
            "join_approval_mode": "approval_required",
            "total_participant_count": 2,
        }
    )
    assert group.participants == ("1555", "US.1")
    assert group.join_approval_mode is JoinApprovalMode.APPROVAL_REQUIRED
    assert meta_group({"id": "G2"}).participants is None
    assert [g["id"] for g in group_items({"data": {"groups": [{"id": "A"}, {"x": 1}]}})] == ["A"]
    assert [g["id"] for g in group_items({"data": [{"id": "B"}]})] == ["B"]
    assert group_items({"data": "nonsense"}) == []
