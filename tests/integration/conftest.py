"""Integration fixtures: a migrated database on real PostgreSQL and the app served over real HTTP."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from uuid import UUID, uuid4

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from pywhatsapp.adapters.auth.passwords import BcryptPasswordHasher
from pywhatsapp.adapters.persistence import migrations
from pywhatsapp.adapters.persistence.database import async_url
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.tenancy.membership import Membership, Role
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.entrypoints.settings import Settings, load_settings
from tests.support.live_server import LiveServer
from tests.support.postgres import create_database, drop_database, server_url
from tests.support.simulator import SimulatorServer

PASSWORD = "correct-horse-battery"
FAST_HASHER = BcryptPasswordHasher(rounds=4)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    # Not under pytest's tmp_path: pytest prunes old base temp dirs, and a second pytest run on the same
    # machine would delete a running server's data.
    root = Path(tempfile.mkdtemp(prefix="pywhatsapp-test-pg-"))
    root.chmod(0o755)  # the embedded server runs as its own user when the tests run as root
    url, embedded = server_url(root)
    yield url
    if embedded is not None:
        embedded.cleanup()  # type: ignore[attr-defined]
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(postgres_server: str) -> Iterator[str]:
    url = create_database(postgres_server)
    migrations.upgrade(url)
    yield url
    drop_database(postgres_server, url)


@pytest.fixture
def empty_database(postgres_server: str) -> Iterator[str]:
    """A database of this test's own, with no tables at all."""
    url = create_database(postgres_server, prefix="pywhatsapp_empty")
    yield url
    drop_database(postgres_server, url)


def make_settings(database_url: str, **overrides: str) -> Settings:
    env = {
        "DATABASE_URL": database_url,
        "PASSWORD_HASH_ROUNDS": "4",
        "JWT_SECRET_KEY": "integration-test-jwt-secret-0123456789",
        "SESSION_SECRET_KEY": "integration-test-session-secret-0123456789",
        "LOG_LEVEL": "WARNING",
        # Tests never reach Meta: a closed local port unless a test points the app at its simulator.
        "GRAPH_API_URL": "http://127.0.0.1:9",
        # Only the apps of campaign and media tests work those queues: the session's shared app (pointed at
        # no Graph API) must not take another module's campaign or media download on the same database.
        "CAMPAIGN_SENDER_IN_SERVE": "false",
        "MEDIA_DOWNLOADS_IN_SERVE": "false",
        # Event webhook tests deliver to receivers on 127.0.0.1, which production refuses (SSRF).
        "EVENT_WEBHOOKS_ALLOW_PRIVATE": "true",
        **overrides,
    }
    return load_settings(env, env_file=None)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as server:
        yield server


async def _truncate(url: str) -> None:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as connection:
            tables = [
                row[0]
                for row in await connection.execute(
                    sa.text(
                        "SELECT tablename FROM pg_tables"
                        " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    )
                )
            ]
            statement = sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
            for _ in range(5):
                # An app of an earlier test may still hold a transaction open (a delivery round waiting on a
                # slow receiver): after a short wait it is ended, rather than hanging the whole run.
                await connection.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
                try:
                    async with connection.begin_nested():
                        await connection.execute(statement)
                    break
                except sa.exc.DBAPIError:
                    await connection.execute(
                        sa.text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                            " AND state LIKE 'idle in transaction%'"
                        )
                    )
    finally:
        await engine.dispose()


@pytest.fixture(autouse=True)
def clean_database(request: pytest.FixtureRequest) -> None:
    """Every integration test that uses the shared database starts from empty tables."""
    if "database_url" in request.fixturenames:
        asyncio.run(_truncate(request.getfixturevalue("database_url")))


@pytest.fixture
async def uow_factory(database_url: str) -> AsyncIterator[SqlAlchemyUnitOfWorkFactory]:
    from pywhatsapp.adapters.persistence.database import create_engine, create_session_factory
    from pywhatsapp.adapters.persistence.encryption import configure_secret_key

    configure_secret_key("integration-test-encryption-key")
    engine = create_engine(database_url, pool_size=2, max_overflow=2)
    yield SqlAlchemyUnitOfWorkFactory(create_session_factory(engine))
    await engine.dispose()


@dataclass
class Member:
    username: str
    user_id: UUID
    tenant_id: UUID
    tenant_slug: str
    role: Role


async def add_tenant_with_user(
    uow_factory: SqlAlchemyUnitOfWorkFactory,
    slug: str,
    *,
    role: Role = Role.OWNER,
    username: str | None = None,
) -> Member:
    tenant = Tenant(id=uuid4(), name=slug.title(), slug=slug)
    user = User(
        username=username or f"{slug}-user", password_hash=FAST_HASHER.hash_now(PASSWORD), tenant_id=tenant.id
    )
    async with uow_factory() as uow:
        await uow.tenants.add(tenant)
        await uow.users.add(user)
        await uow.memberships.add(Membership(tenant_id=tenant.id, user_id=user.id, role=role))
        await uow.commit()
    return Member(username=user.username, user_id=user.id, tenant_id=tenant.id, tenant_slug=slug, role=role)


async def add_membership(
    uow_factory: SqlAlchemyUnitOfWorkFactory, member: Member, tenant_id: UUID, role: Role
) -> None:
    async with uow_factory() as uow:
        await uow.memberships.add(Membership(tenant_id=tenant_id, user_id=member.user_id, role=role))
        await uow.commit()


async def token_for(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["data"]["access_token"]
    return token


@pytest.fixture
async def client(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        yield http


# --- a module's own app, against the simulator its module-scoped `simulator` fixture starts -----------------


@pytest.fixture(scope="module")
def app(database_url: str, simulator: SimulatorServer) -> Iterator[LiveServer]:
    """The app with the module's simulator as its Graph API, and the simulator's webhooks sent to it.

    A module whose app needs other settings overrides this fixture."""
    with LiveServer(make_settings(database_url, GRAPH_API_URL=simulator.url)) as server:
        simulator.control("POST", "config", json={"webhook_url": f"{server.url}/webhooks"}).raise_for_status()
        yield server


@pytest.fixture
async def app_client(app: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
        yield http


@pytest.fixture
def fresh_simulator(simulator: SimulatorServer) -> Iterator[SimulatorServer]:
    """The module's simulator with nothing recorded from earlier tests."""
    simulator.settle()
    simulator.reset()
    yield simulator
    simulator.settle()  # no status webhook of this test may land in the next one


async def connect_channel(
    client: httpx.AsyncClient,
    token: str,
    *,
    phone_number_id: str,
    access_token: str,
    app_secret: str,
    waba_id: str,
) -> UUID:
    """Connects a phone number to the token's tenant through the API; the new channel's id."""
    created = await client.post(
        "/api/v1/channels",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "phone_number_id": phone_number_id,
            "access_token": access_token,
            "app_secret": app_secret,
            "waba_id": waba_id,
        },
    )
    assert created.status_code == 201, created.text
    return UUID(created.json()["data"]["id"])


@dataclass
class ChannelOwner:
    """A new tenant's owner, signed in over `client`, with a channel on a phone number of the simulator.

    Test modules subclass it to add what their tests do as that user."""

    client: httpx.AsyncClient
    sim: SimulatorServer
    token: str
    tenant_id: UUID
    username: str
    phone_number_id: str
    channel_id: UUID

    @classmethod
    async def open(
        cls,
        client: httpx.AsyncClient,
        simulator: SimulatorServer,
        uow_factory: SqlAlchemyUnitOfWorkFactory,
        *,
        slug: str,
        phone_number_id: str,
        access_token: str,
        app_secret: str,
        waba_id: str,
    ) -> Self:
        member = await add_tenant_with_user(uow_factory, slug)
        token = await token_for(client, member.username)
        channel_id = await connect_channel(
            client,
            token,
            phone_number_id=phone_number_id,
            access_token=access_token,
            app_secret=app_secret,
            waba_id=waba_id,
        )
        return cls(
            client=client,
            sim=simulator,
            token=token,
            tenant_id=member.tenant_id,
            username=member.username,
            phone_number_id=phone_number_id,
            channel_id=channel_id,
        )

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, path, headers=self.auth, **kwargs)


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
