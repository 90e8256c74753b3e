"""A WhatsApp group's messages on its page (/groups/{id}), in a real browser against the simulator: what a
participant writes in the group shows live in the thread with the writer's name, an agent's reply goes to
WhatsApp as a group message and shows with its ticks, and another tenant's user finds no such group."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any
from uuid import uuid4

import pytest
from playwright.async_api import expect

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.tenancy.membership import Membership, Role
from tests.browser.conftest import Shop, SignIn, customer_number, screenshot
from tests.integration.conftest import FAST_HASHER, PASSWORD, add_tenant_with_user

pytestmark = pytest.mark.postgres


async def active_group(shop: Shop, subject: str) -> dict[str, Any]:
    """A group created through the API and confirmed by the simulator's lifecycle webhook."""
    created = await shop.api("POST", "/api/v1/groups", json={"subject": subject})
    assert created.status_code == 201, created.text
    group_id = created.json()["data"]["id"]
    for _ in range(100):
        answer = await shop.api("GET", f"/api/v1/groups/{group_id}")
        group: dict[str, Any] = answer.json()["data"]
        if group["state"] == "active":
            return group
        await asyncio.sleep(0.1)
    raise AssertionError(f"the group {group_id} never became active")


async def add_agent(uow_factory: SqlAlchemyUnitOfWorkFactory, shop: Shop) -> str:
    """A user of the shop's tenant with the agent role (who may read and write, not change the group)."""
    user = User(
        username=f"agent-{uuid4().hex[:8]}",
        password_hash=FAST_HASHER.hash_now(PASSWORD),
        tenant_id=shop.tenant_id,
    )
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.memberships.add(Membership(tenant_id=shop.tenant_id, user_id=user.id, role=Role.AGENT))
        await uow.commit()
    return user.username


def group_sends(shop: Shop, group_meta_id: str) -> list[dict[str, Any]]:
    return [
        sent
        for sent in shop.sim.control("GET", "sent").json()
        if sent["body"].get("recipient_type") == "group" and sent["body"].get("to") == group_meta_id
    ]


async def test_a_group_s_messages_come_live_and_an_agent_answers_in_the_group(
    shop: Shop, signed_in: SignIn, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    group = await active_group(shop, "Tasting club")
    alice = customer_number()
    joined = shop.sim.control("POST", f"groups/{group['group_id']}/join", json={"wa_id": alice})
    assert joined.status_code == 200 and joined.json()["joined"], joined.text

    page = await signed_in(replace(shop, username=await add_agent(uow_factory, shop)))
    await page.goto(f"/groups/{group['id']}")
    await expect(page.locator("body")).to_have_attribute("data-live", "on")
    thread = page.locator("#group-thread")
    await expect(thread).to_contain_text("No messages yet")
    await expect(page.get_by_role("button", name="Delete group")).to_have_count(0)  # an agent

    # a participant writes in the group: the thread shows it without a reload, named by its writer
    wrote = shop.sim.control(
        "POST",
        f"groups/{group['group_id']}/messages",
        json={"wa_id": alice, "text": "Is the Riesling back in stock?", "name": "Alice"},
    )
    assert wrote.status_code == 200 and wrote.json()["delivered"], wrote.text
    incoming = thread.locator(".bubble.in", has_text="Is the Riesling back in stock?")
    await expect(incoming).to_be_visible()
    await expect(incoming.locator(".sender")).to_have_text(f"Alice · +{alice}")
    await expect(incoming.locator(".ticks")).to_have_count(0)

    # the agent answers from the composer: a group message at WhatsApp, in the thread with its ticks
    composer = page.locator("#group-composer")
    await composer.get_by_label("Message to the group").fill("Yes, since Monday: 12 bottles left")
    await composer.get_by_role("button", name="Send").click()
    outgoing = thread.locator(".bubble.out", has_text="Yes, since Monday: 12 bottles left")
    await expect(outgoing).to_be_visible()
    await expect(composer.get_by_label("Message to the group")).to_have_value("")
    (sent,) = group_sends(shop, group["group_id"])
    assert sent["body"]["type"] == "text"
    assert sent["body"]["text"]["body"] == "Yes, since Monday: 12 bottles left"
    # the statuses WhatsApp sends for the group move the ticks, live
    await expect(outgoing).to_have_attribute("data-status", "read", timeout=15_000)
    await expect(outgoing.locator(".ticks")).to_have_text("✓✓")
    stored = await shop.api("GET", f"/api/v1/groups/{group['id']}/messages")
    items = stored.json()["data"]["items"]
    assert [(m["direction"], m["text"]) for m in items] == [
        ("outgoing", "Yes, since Monday: 12 bottles left"),
        ("incoming", "Is the Riesling back in stock?"),
    ]
    # oldest first, as a chat reads
    await expect(thread.locator(".bubble")).to_have_count(2)
    await expect(thread.locator(".bubble").first).to_contain_text("Riesling")

    # a message to somebody else's conversation leaves the group's thread alone
    shop.customer_writes(customer_number(), "Hello shop, one-to-one", name="Bob")
    await page.wait_for_timeout(500)
    await expect(thread.locator(".bubble")).to_have_count(2)
    await screenshot(page, "group-chat")


async def test_a_refused_message_is_explained_beside_the_composer_and_kept(
    shop: Shop, signed_in: SignIn
) -> None:
    group = await active_group(shop, "Quiet corner")
    page = await signed_in(shop)
    await page.goto(f"/groups/{group['id']}")
    composer = page.locator("#group-composer")
    box = composer.get_by_label("Message to the group")
    await box.evaluate("node => node.removeAttribute('required')")
    await composer.get_by_role("button", name="Send").click()
    await expect(composer.locator("[data-errors]")).to_contain_text("body is required")

    # WhatsApp suspends the group while the page is open: the send is refused, the text stays to keep
    shop.sim.control("POST", f"groups/{group['group_id']}/suspend", json={}).raise_for_status()
    for _ in range(100):
        if (await shop.api("GET", f"/api/v1/groups/{group['id']}")).json()["data"]["suspended"]:
            break
        await asyncio.sleep(0.1)
    await box.fill("Anyone there?")
    await composer.get_by_role("button", name="Send").click()
    await expect(composer.locator("[data-errors]")).to_contain_text("suspended")
    await expect(box).to_have_value("Anyone there?")
    assert group_sends(shop, group["group_id"]) == []
    await page.reload()
    await expect(page.locator("#group-composer")).to_have_count(0)
    await expect(page.get_by_text("WhatsApp has suspended the group")).to_be_visible()


async def test_another_tenant_s_user_finds_no_such_group(
    shop: Shop, signed_in: SignIn, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    group = await active_group(shop, "Private circle")
    alice = customer_number()
    shop.sim.control("POST", f"groups/{group['group_id']}/join", json={"wa_id": alice}).raise_for_status()
    wrote = shop.sim.control(
        "POST", f"groups/{group['group_id']}/messages", json={"wa_id": alice, "text": "Secret plans"}
    )
    assert wrote.status_code == 200 and wrote.json()["delivered"], wrote.text

    other = await add_tenant_with_user(uow_factory, f"other-{uuid4().hex[:8]}")
    page = await signed_in(replace(shop, username=other.username))
    answer = await page.goto(f"/groups/{group['id']}")
    assert answer is not None and answer.status == 404
    await expect(page.get_by_test_id("page-error")).to_be_visible()
    await expect(page.locator("body")).not_to_contain_text("Secret plans")
    thread = await page.request.get(f"/groups/{group['id']}/thread")
    assert thread.status == 404 and "Secret plans" not in await thread.text()
    token = await page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['x-csrftoken']")
    sent = await page.request.post(
        f"/groups/{group['id']}/send", form={"body": "hijack"}, headers={"x-csrftoken": token}
    )
    assert sent.status == 404
    assert group_sends(shop, group["group_id"]) == []
