"""Shared fixtures: the fakes, real pure adapters, and a small seeded installation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from pywhatsapp.adapters.auth.tokens import JwtAccessTokens
from pywhatsapp.domain.identity.user import User
from pywhatsapp.domain.tenancy.membership import Membership, Role
from pywhatsapp.domain.tenancy.tenant import Tenant
from tests.unit.fakes import FakeLoginAttempts, FakePasswordHasher, FakeUnitOfWorkFactory

JWT_SECRET = "unit-test-secret-0123456789abcdef0123456789abcdef0123456789abcdef"
ALICE_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class World:
    """acme is alice's home tenant (admin); she is an agent in globex and a stranger to initech."""

    factory: FakeUnitOfWorkFactory
    acme: Tenant
    globex: Tenant
    initech: Tenant
    alice: User
    bob: User


@pytest.fixture
def factory() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


@pytest.fixture
def hasher() -> FakePasswordHasher:
    return FakePasswordHasher()


@pytest.fixture
def attempts() -> FakeLoginAttempts:
    return FakeLoginAttempts()


@pytest.fixture
def tokens() -> JwtAccessTokens:
    return JwtAccessTokens(secret=JWT_SECRET, algorithm="HS256", lifetime=timedelta(minutes=15))


@pytest.fixture
def world(factory: FakeUnitOfWorkFactory, hasher: FakePasswordHasher) -> World:
    acme = factory.put_tenant(Tenant(name="Acme", slug="acme"))
    globex = factory.put_tenant(Tenant(name="Globex", slug="globex"))
    initech = factory.put_tenant(Tenant(name="Initech", slug="initech"))
    alice = factory.put_user(
        User(username="alice", password_hash=hasher.PREFIX + ALICE_PASSWORD, tenant_id=acme.id)
    )
    bob = factory.put_user(
        User(username="bob", password_hash=hasher.PREFIX + "bob-password", tenant_id=initech.id)
    )
    factory.put_membership(Membership(tenant_id=acme.id, user_id=alice.id, role=Role.ADMIN))
    factory.put_membership(Membership(tenant_id=globex.id, user_id=alice.id, role=Role.AGENT))
    factory.put_membership(Membership(tenant_id=initech.id, user_id=bob.id, role=Role.OWNER))
    return World(factory=factory, acme=acme, globex=globex, initech=initech, alice=alice, bob=bob)
