"""`/api/v1/audiences` over real HTTP: static lists and dynamic tag audiences with their counts, members in
pages, the campaign-facing resolution, and tenant isolation."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from tests.integration.conftest import add_tenant_with_user, token_for

pytestmark = pytest.mark.postgres


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_contacts(
    client: httpx.AsyncClient, headers: dict[str, str], tags: list[list[str]]
) -> list[str]:
    ids = []
    for n, contact_tags in enumerate(tags):
        made = await client.post(
            "/api/v1/contacts",
            headers=headers,
            json={"phone": f"+1415555{n + 500:04d}", "tags": contact_tags},
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["data"]["id"])
    return ids


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.json()["status"] == "error" and response.json()["data"] is None
    message: str = response.json()["message"]
    return message


async def test_static_audiences_hold_the_members_added(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    headers = bearer(await token_for(client, member.username))
    ids = await make_contacts(client, headers, [[], [], [], [], []])

    created = await client.post(
        "/api/v1/audiences", headers=headers, json={"name": "Pilot", "contact_ids": ids[:2]}
    )
    assert created.status_code == 201, created.text
    audience = created.json()["data"]
    assert audience["kind"] == "static" and audience["member_count"] == 2 and audience["tags"] == []
    path = f"/api/v1/audiences/{audience['id']}"
    assert "exists" in error(
        await client.post("/api/v1/audiences", headers=headers, json={"name": "Pilot"}), 409
    )

    added = await client.post(f"{path}/members", headers=headers, json={"contact_ids": ids[1:4]})
    assert added.status_code == 200, added.text
    assert added.json()["data"]["changed"] == 2 and added.json()["data"]["audience"]["member_count"] == 4
    unknown = await client.post(
        f"{path}/members", headers=headers, json={"contact_ids": [ids[4], str(uuid4())]}
    )
    assert "No such contacts" in error(unknown, 422)
    assert (await client.get(path, headers=headers)).json()["data"]["member_count"] == 4  # nothing half-added

    removed = await client.request(
        "DELETE", f"{path}/members", headers=headers, json={"contact_ids": ids[:1]}
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["data"]["changed"] == 1 and removed.json()["data"]["audience"]["member_count"] == 3

    first = (await client.get(f"{path}/members", headers=headers, params={"limit": 2})).json()["data"]
    rest = (await client.get(f"{path}/members", headers=headers, params={"limit": 2, "offset": 2})).json()[
        "data"
    ]
    assert first["total"] == 3 and len(first["items"]) == 2 and len(rest["items"]) == 1
    assert {c["id"] for c in first["items"] + rest["items"]} == set(ids[1:4])

    # A deleted contact leaves its audiences.
    assert (await client.delete(f"/api/v1/contacts/{ids[2]}", headers=headers)).status_code == 200
    assert (await client.get(path, headers=headers)).json()["data"]["member_count"] == 2

    renamed = await client.patch(path, headers=headers, json={"name": "Pilot 2", "description": "spring"})
    assert renamed.json()["data"]["name"] == "Pilot 2" and renamed.json()["data"]["description"] == "spring"
    assert "members, not tags" in error(
        await client.patch(path, headers=headers, json={"tags": ["vip"]}), 422
    )
    assert (await client.delete(path, headers=headers)).status_code == 200
    error(await client.get(path, headers=headers), 404)
    assert (await client.get("/api/v1/contacts", headers=headers)).json()["data"][
        "total"
    ] == 4  # contacts stay


async def test_dynamic_audiences_follow_the_tags_any_of_them(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    headers = bearer(await token_for(client, member.username))
    ids = await make_contacts(client, headers, [["vip"], ["vip", "sf"], ["sf"], ["nyc"], []])

    created = await client.post(
        "/api/v1/audiences", headers=headers, json={"name": "West", "tags": ["vip", "sf"]}
    )
    assert created.status_code == 201, created.text
    audience = created.json()["data"]
    assert (
        audience["kind"] == "dynamic" and audience["member_count"] == 3 and audience["tags"] == ["vip", "sf"]
    )
    path = f"/api/v1/audiences/{audience['id']}"

    # Tagging a contact later makes it a member at once.
    await client.patch(f"/api/v1/contacts/{ids[3]}", headers=headers, json={"tags": ["nyc", "vip"]})
    members = (await client.get(f"{path}/members", headers=headers)).json()["data"]
    assert members["total"] == 4 and {c["id"] for c in members["items"]} == set(ids[:4])
    assert "tag the contacts" in error(
        await client.post(f"{path}/members", headers=headers, json={"contact_ids": ids[4:]}), 409
    )
    narrowed = await client.patch(path, headers=headers, json={"tags": ["sf"]})
    assert narrowed.json()["data"]["member_count"] == 2

    listed = (await client.get("/api/v1/audiences", headers=headers)).json()["data"]
    assert listed["total"] == 1 and listed["items"][0]["member_count"] == 2
    for bad in (
        {"name": "Empty", "kind": "dynamic"},
        {"name": "Both", "tags": ["vip"], "contact_ids": ids[:1]},
        {"name": ""},
        {"name": "x", "kind": "weird"},
        {"name": "x", "tags": ["t" * 65]},
    ):
        response = await client.post("/api/v1/audiences", headers=headers, json=bad)
        assert 400 <= response.status_code < 500 and response.json()["status"] == "error", (
            bad,
            response.text,
        )


async def test_campaigns_resolve_audiences_to_reachable_contacts(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    headers = bearer(await token_for(client, member.username))
    ids = await make_contacts(client, headers, [["vip"], ["vip"], []])
    await client.patch(f"/api/v1/contacts/{ids[1]}", headers=headers, json={"opted_out": True})
    static = (
        await client.post("/api/v1/audiences", headers=headers, json={"name": "All", "contact_ids": ids})
    ).json()["data"]
    dynamic = (
        await client.post("/api/v1/audiences", headers=headers, json={"name": "VIP", "tags": ["vip"]})
    ).json()["data"]
    async with uow_factory(member.tenant_id) as uow:
        assert await uow.audience_members.contact_ids(UUID(static["id"])) == sorted(
            [UUID(ids[0]), UUID(ids[2])]
        )
        assert await uow.audience_members.contact_ids(UUID(dynamic["id"])) == [UUID(ids[0])]
        everyone = await uow.audience_members.contact_ids(UUID(dynamic["id"]), include_opted_out=True)
        assert sorted(everyone) == sorted([UUID(ids[0]), UUID(ids[1])])


async def test_other_tenants_neither_see_nor_count_nor_touch_an_audience(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    owner = await add_tenant_with_user(uow_factory, "acme")
    headers = bearer(await token_for(client, owner.username))
    stranger = bearer(await token_for(client, (await add_tenant_with_user(uow_factory, "globex")).username))
    ids = await make_contacts(client, headers, [["vip"], ["vip"]])
    audience = (
        await client.post("/api/v1/audiences", headers=headers, json={"name": "Mine", "contact_ids": ids[:1]})
    ).json()["data"]
    path = f"/api/v1/audiences/{audience['id']}"

    for method, url, body in (
        ("GET", path, None),
        ("PATCH", path, {"name": "Theirs"}),
        ("DELETE", path, None),
        ("GET", f"{path}/members", None),
        ("POST", f"{path}/members", {"contact_ids": ids[1:]}),
        ("DELETE", f"{path}/members", {"contact_ids": ids[:1]}),
    ):
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        error(await client.request(method, url, headers=stranger, **kwargs), 404)
    assert (await client.get("/api/v1/audiences", headers=stranger)).json()["data"]["total"] == 0

    # Their own audience can name neither our contacts nor count them through tags.
    theirs = await client.post(
        "/api/v1/audiences", headers=stranger, json={"name": "Mine", "contact_ids": ids}
    )
    assert "No such contacts" in error(theirs, 422)
    tagged = await client.post("/api/v1/audiences", headers=stranger, json={"name": "VIP", "tags": ["vip"]})
    assert tagged.status_code == 201 and tagged.json()["data"]["member_count"] == 0
    assert (await client.get(path, headers=headers)).json()["data"]["member_count"] == 1
