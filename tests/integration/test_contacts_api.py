"""`/api/v1/contacts` over real HTTP: one contact per person whatever the number's format, the same one an
inbound WhatsApp message lands on; search, pages, opt-out times, roles and tenant isolation."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.tenancy.membership import Role
from tests.integration.conftest import add_membership, add_tenant_with_user, token_for
from tests.support.realtime import post_signed, text_webhook

pytestmark = pytest.mark.postgres


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signed_in(client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, slug: str) -> Any:
    member = await add_tenant_with_user(uow_factory, slug)
    return member, bearer(await token_for(client, member.username))


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error" and body["data"] is None, body
    for word in words:
        assert word in body["message"], body["message"]


async def test_one_contact_per_person_whatever_the_format(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    _, headers = await signed_in(client, uow_factory, "acme")
    created = await client.post(
        "/api/v1/contacts",
        headers=headers,
        json={
            "phone": "+1 (415) 555-0100",
            "name": "Ada",
            "tags": ["vip", " vip ", "sf"],
            "attributes": {"plan": "gold"},
        },
    )
    assert created.status_code == 201, created.text
    contact = created.json()["data"]
    assert contact["wa_id"] == "14155550100" and contact["name"] == "Ada"
    assert contact["tags"] == ["vip", "sf"] and contact["attributes"] == {"plan": "gold"}
    assert contact["opted_out"] is False and contact["opted_out_changed_at"] is None

    for same in ("14155550100", "001 415 555 0100", "(415) 555-0100", "415.555.0100", "tel:+1-415-555-0100"):
        again = await client.post("/api/v1/contacts", headers=headers, json={"phone": same})
        assert_error(again, 409, "+14155550100", contact["id"])
    uk = await client.post("/api/v1/contacts", headers=headers, json={"phone": "0044 20 7946 0000"})
    assert uk.status_code == 201 and uk.json()["data"]["wa_id"] == "442079460000"
    assert_error(
        await client.post("/api/v1/contacts", headers=headers, json={"wa_id": "+44 (0)20 7946 0000"}), 409
    )

    listed = (await client.get("/api/v1/contacts", headers=headers)).json()["data"]
    assert listed["total"] == 2 and [c["wa_id"] for c in listed["items"]] == ["442079460000", "14155550100"]


async def test_an_inbound_message_lands_on_the_contact_made_through_the_api(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    _, headers = await signed_in(client, uow_factory, "acme")
    phone_number_id, app_secret = str(uuid4().int)[:15], f"secret-{uuid4().hex}"
    channel = await client.post(
        "/api/v1/channels",
        headers=headers,
        json={"phone_number_id": phone_number_id, "access_token": "EAAG-token", "app_secret": app_secret},
    )
    assert channel.status_code == 201, channel.text
    made = await client.post("/api/v1/contacts", headers=headers, json={"phone": "+49 1511 1111111"})
    assert made.status_code == 201, made.text
    contact = made.json()["data"]
    assert contact["wa_id"] == "4915111111111" and contact["name"] is None

    # Meta writes the sender as digits with the country code: the same contact, now named and in window.
    body = text_webhook(phone_number_id, "4915111111111", "Hallo", wamid=f"wamid.{uuid4().hex}", name="Bea")
    assert (await post_signed(client, body, app_secret)).status_code == 200
    listed = (await client.get("/api/v1/contacts", headers=headers)).json()["data"]
    assert listed["total"] == 1
    (stored,) = listed["items"]
    assert stored["id"] == contact["id"] and stored["name"] == "Bea" and stored["last_inbound_at"] is not None
    messages = (await client.get("/api/v1/messages", headers=headers)).json()["data"]["items"]
    assert [m["contact_id"] for m in messages] == [contact["id"]]


async def test_read_change_opt_out_and_delete(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    _, headers = await signed_in(client, uow_factory, "acme")
    contact = (
        await client.post("/api/v1/contacts", headers=headers, json={"phone": "+14155550101", "name": "Al"})
    ).json()["data"]
    path = f"/api/v1/contacts/{contact['id']}"
    assert (await client.get(path, headers=headers)).json()["data"] == contact

    changed = await client.patch(
        path, headers=headers, json={"tags": ["b2b"], "attributes": {"city": "Oslo", "seats": 3}}
    )
    assert changed.status_code == 200, changed.text
    data = changed.json()["data"]
    assert (
        data["name"] == "Al"
        and data["tags"] == ["b2b"]
        and data["attributes"] == {"city": "Oslo", "seats": 3}
    )

    out = (await client.patch(path, headers=headers, json={"opted_out": True})).json()["data"]
    assert out["opted_out"] is True and out["opted_out_changed_at"] is not None
    again = (await client.patch(path, headers=headers, json={"opted_out": True, "name": ""})).json()["data"]
    assert again["opted_out_changed_at"] == out["opted_out_changed_at"] and again["name"] is None
    back = (await client.patch(path, headers=headers, json={"opted_out": False})).json()["data"]
    assert back["opted_out"] is False and back["opted_out_changed_at"] > out["opted_out_changed_at"]

    other = (await client.post("/api/v1/contacts", headers=headers, json={"phone": "+14155550102"})).json()
    assert_error(await client.patch(path, headers=headers, json={"phone": "1 415 555 0102"}), 409)
    moved = await client.patch(path, headers=headers, json={"phone": "+1 415 555 0103"})
    assert moved.json()["data"]["wa_id"] == "14155550103"

    for bad in (
        {"phone": "12"},
        {"tags": ["x" * 65]},
        {"attributes": {"a": {"nested": 1}}},
        {"color": "red"},
    ):
        response = await client.patch(path, headers=headers, json=bad)
        assert 400 <= response.status_code < 500 and response.json()["status"] == "error", (
            bad,
            response.text,
        )
    assert_error(
        await client.post("/api/v1/contacts", headers=headers, json={"phone": "+1 555 123 4567"}), 422
    )
    assert_error(await client.post("/api/v1/contacts", headers=headers, json={"name": "No number"}), 422)

    deleted = await client.delete(path, headers=headers)
    assert deleted.status_code == 200 and deleted.json()["status"] == "ok"
    assert_error(await client.get(path, headers=headers), 404)
    assert_error(await client.delete(path, headers=headers), 404)
    remaining = (await client.get("/api/v1/contacts", headers=headers)).json()["data"]
    assert [c["id"] for c in remaining["items"]] == [other["data"]["id"]]


async def test_search_by_name_number_tag_and_opt_out_in_pages(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    _, headers = await signed_in(client, uow_factory, "acme")
    people = [
        ("+14155550110", "Ada Lovelace", ["vip"]),
        ("+14155550111", "Alan Turing", ["vip", "uk"]),
        ("+14155550112", "Grace Hopper", ["navy"]),
        ("+442079460001", "Ada Byron", ["uk"]),
        ("+14155550113", "100% Real_Name", []),
    ]
    ids = {}
    for phone, name, tags in people:
        made = await client.post(
            "/api/v1/contacts", headers=headers, json={"phone": phone, "name": name, "tags": tags}
        )
        ids[name] = made.json()["data"]["id"]
    await client.patch(f"/api/v1/contacts/{ids['Grace Hopper']}", headers=headers, json={"opted_out": True})

    async def names(**params: Any) -> tuple[list[str], int]:
        response = await client.get("/api/v1/contacts", headers=headers, params=params)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        return [c["name"] for c in data["items"]], data["total"]

    assert await names(q="ada") == (["Ada Byron", "Ada Lovelace"], 2)
    assert await names(q="+44 20") == (["Ada Byron"], 1)
    assert await names(q="555011") == (["100% Real_Name", "Grace Hopper", "Alan Turing", "Ada Lovelace"], 4)
    assert await names(q="%") == (["100% Real_Name"], 1)
    assert await names(q="a_a") == ([], 0)  # LIKE's wildcards are plain text here (no "Ada")
    assert await names(tag="uk") == (["Ada Byron", "Alan Turing"], 2)
    assert await names(tag="vip", q="alan") == (["Alan Turing"], 1)
    assert await names(opted_out="true") == (["Grace Hopper"], 1)
    assert (await names(opted_out="false"))[1] == 4
    first, total = await names(limit=2)
    second, _ = await names(limit=2, offset=2)
    third, _ = await names(limit=2, offset=4)
    assert total == 5 and len(first + second + third) == 5 and set(first + second + third) == set(ids)
    for bad in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"opted_out": "maybe"}, {"q": "x" * 101}):
        assert (await client.get("/api/v1/contacts", headers=headers, params=bad)).status_code == 400 or (
            await client.get("/api/v1/contacts", headers=headers, params=bad)
        ).status_code == 422, bad


async def test_other_tenants_see_nothing_and_agents_cannot_delete(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    owner, headers = await signed_in(client, uow_factory, "acme")
    _, stranger = await signed_in(client, uow_factory, "globex")
    contact = (await client.post("/api/v1/contacts", headers=headers, json={"phone": "+14155550120"})).json()[
        "data"
    ]
    path = f"/api/v1/contacts/{contact['id']}"

    assert_error(await client.get(path, headers=stranger), 404)
    assert_error(await client.patch(path, headers=stranger, json={"name": "Mine"}), 404)
    assert_error(await client.delete(path, headers=stranger), 404)
    assert (await client.get("/api/v1/contacts", headers=stranger)).json()["data"]["total"] == 0
    # The same number is a separate contact in another tenant.
    theirs = await client.post("/api/v1/contacts", headers=stranger, json={"phone": "+14155550120"})
    assert theirs.status_code == 201 and theirs.json()["data"]["id"] != contact["id"]
    assert (await client.get("/api/v1/contacts", headers=headers)).json()["data"]["total"] == 1
    assert_error(
        await client.get("/api/v1/contacts", headers=stranger | {"X-Tenant-Id": owner.tenant_slug}), 403
    )

    agent = await add_tenant_with_user(uow_factory, "agents-home", username="andy")
    await add_membership(uow_factory, agent, owner.tenant_id, Role.AGENT)
    as_agent = bearer(await token_for(client, "andy")) | {"X-Tenant-Id": "acme"}
    assert (await client.patch(path, headers=as_agent, json={"name": "Agent-made"})).status_code == 200
    assert_error(await client.delete(path, headers=as_agent), 403)
    assert_error(await client.get("/api/v1/contacts/export", headers=as_agent), 403)
    assert (await client.get(path, headers=headers)).json()["data"]["name"] == "Agent-made"
