"""Tenants never see each other: through the API (any X-Tenant-Id) and through the persistence layer."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywhatsapp.adapters.persistence.database import create_engine, create_session_factory
from pywhatsapp.adapters.persistence.encryption import configure_secret_key
from pywhatsapp.adapters.persistence.scoping import TenantScopeViolation
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.campaigns.campaign import Campaign
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.contacts.audience import Audience
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.contacts.group import Group
from pywhatsapp.domain.messaging.conversation import Conversation
from pywhatsapp.domain.messaging.message import Direction, Message
from pywhatsapp.domain.templates.template import MessageTemplate
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.domain.webhooks.webhook_log import WebhookLogEntry
from tests.integration.conftest import Member, _truncate, add_membership, add_tenant_with_user, token_for
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.postgres

# Each kind of record, how to make one for a tenant, and the API list that must show it.
KINDS = [
    "contacts",
    "channels",
    "groups",
    "audiences",
    "templates",
    "campaigns",
    "conversations",
    "messages",
    "webhook_logs",
]
LIST_PATH = {
    "contacts": "/api/v1/contacts",
    "channels": "/api/v1/channels",
    "groups": "/api/v1/groups",
    "audiences": "/api/v1/audiences",
    "templates": "/api/v1/templates",
    "campaigns": "/api/v1/campaigns",
    "conversations": "/api/v1/conversations",
    "messages": "/api/v1/messages",
    "webhook_logs": "/api/v1/webhooks",
}


async def _add_records(
    uow_factory: SqlAlchemyUnitOfWorkFactory, tenant_id: UUID, counts: dict[str, int]
) -> dict[str, set[str]]:
    created: dict[str, set[str]] = {kind: set() for kind in KINDS}
    async with uow_factory(tenant_id) as uow:
        for n in range(counts["contacts"] + counts["conversations"] + counts["messages"]):
            contact = await uow.contacts.add(
                Contact(tenant_id=tenant_id, wa_id=f"1555{uuid4().int % 10**7:07d}{n}")
            )
            if n < counts["contacts"]:
                created["contacts"].add(str(contact.id))
                continue
            created["contacts"].add(str(contact.id))
            if n < counts["contacts"] + counts["conversations"]:
                conversation = await uow.conversations.add(
                    Conversation(tenant_id=tenant_id, contact_id=contact.id)
                )
                created["conversations"].add(str(conversation.id))
            else:
                message = await uow.messages.add(
                    Message(
                        tenant_id=tenant_id,
                        direction=Direction.INCOMING,
                        type="text",
                        wa_id=contact.wa_id,
                        contact_id=contact.id,
                        wamid=f"wamid.{uuid4().hex}",
                        text="hello",
                    )
                )
                created["messages"].add(str(message.id))
        makers: dict[str, Any] = {
            "channels": lambda: uow.channels.add(
                Channel(
                    tenant_id=tenant_id, phone_number_id=uuid4().hex[:15], access_token="EAAG-secret-token"
                )
            ),
            "groups": lambda: uow.groups.add(Group(tenant_id=tenant_id, subject="Team")),
            "audiences": lambda: uow.audiences.add(
                Audience(tenant_id=tenant_id, name=f"list-{uuid4().hex[:6]}")
            ),
            "templates": lambda: uow.templates.add(
                MessageTemplate(tenant_id=tenant_id, name=f"t_{uuid4().hex[:6]}", language="en_US")
            ),
            "campaigns": lambda: uow.campaigns.add(Campaign(tenant_id=tenant_id, name="Spring sale")),
            "webhook_logs": lambda: uow.webhook_logs.add(
                WebhookLogEntry(tenant_id=tenant_id, raw_body="{}", body={})
            ),
        }
        for kind, make in makers.items():
            for _ in range(counts[kind]):
                created[kind].add(str((await make()).id))
        await uow.commit()
    return created


def _ids(response: httpx.Response) -> tuple[set[str], int]:
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return {item["id"] for item in data["items"]}, data["total"]


tenant_plans = st.lists(
    st.fixed_dictionaries({kind: st.integers(min_value=0, max_value=2) for kind in KINDS}),
    min_size=2,
    max_size=4,
)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=tenant_plans, data=st.data())
def test_no_list_endpoint_ever_shows_another_tenants_rows(
    live_server: LiveServer, database_url: str, plans: list[dict[str, int]], data: st.DataObject
) -> None:
    async def scenario() -> None:
        await _truncate(database_url)
        configure_secret_key("integration-test-encryption-key")
        engine = create_engine(database_url, pool_size=2, max_overflow=2)
        uow_factory = SqlAlchemyUnitOfWorkFactory(create_session_factory(engine))
        try:
            members: list[Member] = []
            created: list[dict[str, set[str]]] = []
            for index, plan in enumerate(plans):
                member = await add_tenant_with_user(uow_factory, f"tenant-{index}")
                members.append(member)
                created.append(await _add_records(uow_factory, member.tenant_id, plan))
            all_ids = {kind: set().union(*(c[kind] for c in created)) for kind in KINDS}
            async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
                for index, member in enumerate(members):
                    headers = {"Authorization": f"Bearer {await token_for(client, member.username)}"}
                    for kind, path in LIST_PATH.items():
                        ids, total = _ids(await client.get(path, params={"limit": 200}, headers=headers))
                        assert ids == created[index][kind], (kind, member.tenant_slug)
                        assert total == len(created[index][kind])
                        assert not ids & (all_ids[kind] - created[index][kind])
                    # Naming any other tenant, by id or slug, is refused and shows nothing.
                    other = data.draw(st.sampled_from([m for m in members if m is not member]))
                    ref = data.draw(st.sampled_from([str(other.tenant_id), other.tenant_slug, str(uuid4())]))
                    kind = data.draw(st.sampled_from(KINDS))
                    response = await client.get(LIST_PATH[kind], headers=headers | {"X-Tenant-Id": ref})
                    assert response.status_code == 403, response.text
                    assert response.json() == {
                        "data": None,
                        "message": response.json()["message"],
                        "status": "error",
                    }
        finally:
            await engine.dispose()

    asyncio.run(scenario())


async def test_a_member_of_two_tenants_switches_with_x_tenant_id(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    alice = await add_tenant_with_user(uow_factory, "alpha", username="alice")
    bob = await add_tenant_with_user(uow_factory, "beta", username="bob")
    await add_membership(uow_factory, alice, bob.tenant_id, Role.AGENT)
    alpha_contacts = await _add_records(
        uow_factory, alice.tenant_id, dict.fromkeys(KINDS, 0) | {"contacts": 1}
    )
    beta_contacts = await _add_records(uow_factory, bob.tenant_id, dict.fromkeys(KINDS, 0) | {"contacts": 2})
    headers = {"Authorization": f"Bearer {await token_for(client, 'alice')}"}

    home, _ = _ids(await client.get("/api/v1/contacts", headers=headers))
    assert home == alpha_contacts["contacts"]
    for ref in ("beta", str(bob.tenant_id), "BETA"):
        switched, total = _ids(await client.get("/api/v1/contacts", headers=headers | {"X-Tenant-Id": ref}))
        assert switched == beta_contacts["contacts"] and total == 2
    me = (await client.get("/api/v1/auth/me", headers=headers | {"X-Tenant-Id": "beta"})).json()["data"]
    assert me["tenant"]["slug"] == "beta" and me["role"] == "agent"
    assert {t["slug"] for t in me["tenants"]} == {"alpha", "beta"}

    bob_headers = {"Authorization": f"Bearer {await token_for(client, 'bob')}"}
    refused = await client.get("/api/v1/contacts", headers=bob_headers | {"X-Tenant-Id": "alpha"})
    assert refused.status_code == 403


async def test_login_into_a_chosen_tenant(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    alice = await add_tenant_with_user(uow_factory, "alpha", username="alice")
    bob = await add_tenant_with_user(uow_factory, "beta", username="bob")
    await add_membership(uow_factory, alice, bob.tenant_id, Role.ADMIN)
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": "alice", "password": "correct-horse-battery", "tenant": "beta"},
    )
    assert response.json()["data"]["tenant"]["slug"] == "beta"
    refused = await client.post(
        "/api/v1/auth/login", json={"username": "bob", "password": "correct-horse-battery", "tenant": "alpha"}
    )
    assert refused.status_code == 403


async def test_a_tenants_unit_of_work_cannot_read_or_write_another_tenants_rows(
    uow_factory: SqlAlchemyUnitOfWorkFactory,
) -> None:
    alpha = await add_tenant_with_user(uow_factory, "alpha")
    beta = await add_tenant_with_user(uow_factory, "beta")
    created = await _add_records(uow_factory, alpha.tenant_id, dict.fromkeys(KINDS, 1))
    contact_id = UUID(next(iter(created["contacts"])))

    async with uow_factory(beta.tenant_id) as uow:
        assert await uow.contacts.get(contact_id) is None
        assert await uow.contacts.count() == 0
        assert await uow.messages.list(limit=50) == []
        await uow.contacts.add(Contact(tenant_id=beta.tenant_id, wa_id="15550001111"))
        with pytest.raises(TenantScopeViolation):
            await uow.contacts.add(Contact(tenant_id=alpha.tenant_id, wa_id="15550002222"))

    async with uow_factory() as no_tenant:
        assert await no_tenant.contacts.count() == 0
        assert await no_tenant.contacts.get(contact_id) is None

    async with uow_factory(alpha.tenant_id) as uow:
        assert await uow.contacts.count() == len(created["contacts"])
        assert (await uow.contacts.get(contact_id)) is not None


async def test_channel_secrets_are_encrypted_at_rest(
    uow_factory: SqlAlchemyUnitOfWorkFactory, database_url: str
) -> None:
    import sqlalchemy as sa

    alpha = await add_tenant_with_user(uow_factory, "alpha")
    async with uow_factory(alpha.tenant_id) as uow:
        await uow.channels.add(
            Channel(
                tenant_id=alpha.tenant_id,
                phone_number_id="1234567890",
                access_token="EAAG-very-secret",
                app_secret="app-secret-value",
                verify_token="verify-me",
            )
        )
        await uow.commit()
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.text("SELECT access_token, app_secret, verify_token FROM channels")
                )
            ).one()
    finally:
        await engine.dispose()
    assert "EAAG-very-secret" not in row.access_token
    assert "app-secret-value" not in row.app_secret
    assert "verify-me" not in row.verify_token
    async with uow_factory(alpha.tenant_id) as uow:
        (channel,) = await uow.channels.list(limit=5)
    assert channel.access_token == "EAAG-very-secret"


@pytest.mark.parametrize("path", ["/api/v1/channels", "/api/v1/webhooks"])
async def test_administrative_lists_need_the_admin_role(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, path: str
) -> None:
    owner = await add_tenant_with_user(uow_factory, "acme", username="olivia")
    agent = await add_tenant_with_user(uow_factory, "agents-home", role=Role.AGENT, username="andy")
    await add_membership(uow_factory, agent, owner.tenant_id, Role.AGENT)
    admin = await add_tenant_with_user(uow_factory, "admins-home", username="ada")
    await add_membership(uow_factory, admin, owner.tenant_id, Role.ADMIN)

    as_agent = {"Authorization": f"Bearer {await token_for(client, 'andy')}", "X-Tenant-Id": "acme"}
    refused = await client.get(path, headers=as_agent)
    assert refused.status_code == 403
    assert refused.json()["message"] == "This needs the admin role; you are agent in this tenant"
    assert (await client.get("/api/v1/contacts", headers=as_agent)).status_code == 200

    as_admin = {"Authorization": f"Bearer {await token_for(client, 'ada')}", "X-Tenant-Id": "acme"}
    assert (await client.get(path, headers=as_admin)).status_code == 200
    as_owner = {"Authorization": f"Bearer {await token_for(client, 'olivia')}"}
    assert (await client.get(path, headers=as_owner)).status_code == 200


async def test_statements_that_could_escape_the_tenant_are_refused(
    uow_factory: SqlAlchemyUnitOfWorkFactory,
) -> None:
    import sqlalchemy as sa

    from pywhatsapp.adapters.persistence.models import ContactRow

    alpha = await add_tenant_with_user(uow_factory, "alpha")
    beta = await add_tenant_with_user(uow_factory, "beta")
    await _add_records(uow_factory, beta.tenant_id, dict.fromkeys(KINDS, 0) | {"contacts": 1})
    contacts = sa.table("contacts", sa.column("id"), sa.column("name"))  # Core, bypassing the entity
    escapes: list[Any] = [
        sa.text("SELECT * FROM contacts"),
        sa.select(ContactRow.__table__),
        sa.select(sa.table("contacts", sa.column("id"))),
        sa.update(contacts).values(name="x"),
        sa.delete(contacts),
        sa.insert(ContactRow).values(tenant_id=beta.tenant_id, wa_id="15550009999"),
        sa.update(ContactRow).values(tenant_id=beta.tenant_id),
    ]
    for statement in escapes:
        async with uow_factory(alpha.tenant_id) as uow:
            with pytest.raises(TenantScopeViolation):
                await uow.session.execute(statement)
    async with uow_factory(beta.tenant_id) as uow:
        assert await uow.contacts.count() == 1
    # The ORM forms stay confined rather than refused.
    async with uow_factory(alpha.tenant_id) as uow:
        await uow.session.execute(sa.update(ContactRow).values(name="renamed"))
        await uow.session.execute(sa.delete(ContactRow))
        await uow.commit()
    async with uow_factory(beta.tenant_id) as uow:
        (contact,) = await uow.contacts.list(limit=5)
        assert contact.name is None
