"""Tenant API keys: shown once, stored hashed, usable wherever a token is, revocable, expiring, scoped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from pywhatsapp.adapters.persistence.database import create_engine
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.tenancy.membership import Role
from tests.integration.conftest import add_membership, add_tenant_with_user, token_for

pytestmark = pytest.mark.postgres


async def test_a_key_works_like_a_token_in_its_own_tenant_and_role_only(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, database_url: str
) -> None:
    owner = await add_tenant_with_user(uow_factory, "acme")
    other = await add_tenant_with_user(uow_factory, "globex")
    admin_headers = {"Authorization": f"Bearer {await token_for(client, owner.username)}"}

    created = await client.post(
        "/api/v1/api-keys", headers=admin_headers, json={"name": "crm", "role": "agent"}
    )
    assert created.status_code == 201, created.text
    body = created.json()["data"]
    secret = body["key"]
    assert secret.startswith("pwa_") and body["role"] == "agent"

    for headers in ({"Authorization": f"Bearer {secret}"}, {"X-API-Key": secret}):
        contacts = await client.get("/api/v1/contacts", headers=headers)
        assert contacts.status_code == 200, contacts.text
        me = (await client.get("/api/v1/auth/me", headers=headers)).json()["data"]
        assert me["tenant"]["slug"] == "acme" and me["role"] == "agent" and me["username"] == "api-key:crm"
    assert (await client.get("/api/v1/channels", headers={"X-API-Key": secret})).status_code == 403  # agent
    foreign = await client.get("/api/v1/contacts", headers={"X-API-Key": secret, "X-Tenant-Id": "globex"})
    assert foreign.status_code == 403
    assert (await client.get("/api/v1/contacts", headers={"X-API-Key": secret + "x"})).status_code == 401
    assert (await client.get("/api/v1/contacts", headers={"X-API-Key": "pwa_nope_nope"})).status_code == 401

    listed = (await client.get("/api/v1/api-keys", headers=admin_headers)).json()["data"]["items"]
    assert [item["name"] for item in listed] == ["crm"]
    assert "key" not in listed[0] and listed[0]["last_used_at"] is not None
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            stored = (await connection.execute(sa.text("SELECT key_hash, prefix FROM api_keys"))).one()
    finally:
        await engine.dispose()
    assert secret not in stored.key_hash and stored.prefix in secret

    other_headers = {"Authorization": f"Bearer {await token_for(client, other.username)}"}
    assert (await client.get("/api/v1/api-keys", headers=other_headers)).json()["data"]["total"] == 0
    not_theirs = await client.delete(f"/api/v1/api-keys/{body['id']}", headers=other_headers)
    assert not_theirs.status_code == 404

    revoked = await client.delete(f"/api/v1/api-keys/{body['id']}", headers=admin_headers)
    assert revoked.status_code == 200 and revoked.json()["data"]["revoked_at"] is not None
    after = await client.get("/api/v1/contacts", headers={"X-API-Key": secret})
    assert after.status_code == 401 and "revoked" in after.json()["message"]


async def test_keys_expire_and_never_exceed_their_creators_rights(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    owner = await add_tenant_with_user(uow_factory, "acme")
    admin = await add_tenant_with_user(uow_factory, "admins-home", username="ada")
    await add_membership(uow_factory, admin, owner.tenant_id, Role.ADMIN)
    agent = await add_tenant_with_user(uow_factory, "agents-home", username="andy")
    await add_membership(uow_factory, agent, owner.tenant_id, Role.AGENT)
    as_admin = {"Authorization": f"Bearer {await token_for(client, 'ada')}", "X-Tenant-Id": "acme"}
    as_agent = {"Authorization": f"Bearer {await token_for(client, 'andy')}", "X-Tenant-Id": "acme"}

    assert (await client.post("/api/v1/api-keys", headers=as_agent, json={"name": "x"})).status_code == 403
    too_strong = await client.post("/api/v1/api-keys", headers=as_admin, json={"name": "x", "role": "owner"})
    assert too_strong.status_code == 403
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert (
        await client.post("/api/v1/api-keys", headers=as_admin, json={"name": "x", "expires_at": past})
    ).status_code == 422

    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    created = await client.post(
        "/api/v1/api-keys", headers=as_admin, json={"name": "short", "expires_at": soon}
    )
    secret = created.json()["data"]["key"]
    assert (await client.get("/api/v1/contacts", headers={"X-API-Key": secret})).status_code == 200
    import asyncio

    await asyncio.sleep(2.5)
    expired = await client.get("/api/v1/contacts", headers={"X-API-Key": secret})
    assert expired.status_code == 401 and "expired" in expired.json()["message"]
