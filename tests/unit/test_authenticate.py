"""Turning a token (or a session) into the principal acting, and switching tenant with X-Tenant-Id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pywhatsapp.adapters.auth.tokens import JwtAccessTokens
from pywhatsapp.application.identity.authenticate import Authenticate
from pywhatsapp.domain.errors import NotAuthenticated, TenantAccessDenied
from pywhatsapp.domain.tenancy.membership import Role
from tests.unit.conftest import World
from tests.unit.fakes import FakeApiKeyDirectory


@pytest.fixture
def authenticate(world: World, tokens: JwtAccessTokens) -> Authenticate:
    return Authenticate(world.factory, tokens, FakeApiKeyDirectory(world.factory))


def alice_token(world: World, tokens: JwtAccessTokens) -> str:
    return tokens.issue(user_id=world.alice.id, tenant_id=world.acme.id, role=Role.ADMIN).token


def revoke_tokens_of_alice(world: World, after: datetime) -> None:
    world.factory.store.users[world.alice.id].tokens_valid_after = after


async def test_token_gives_the_principal_in_the_token_tenant(
    authenticate: Authenticate, world: World, tokens: JwtAccessTokens
) -> None:
    principal = await authenticate.with_token(alice_token(world, tokens))
    assert principal.user_id == world.alice.id
    assert principal.username == "alice"
    assert principal.tenant_id == world.acme.id
    assert principal.tenant_slug == "acme"
    assert principal.role is Role.ADMIN


async def test_role_comes_from_the_membership_not_from_the_token(
    authenticate: Authenticate, world: World, tokens: JwtAccessTokens
) -> None:
    # A token claiming more than the membership grants must not raise the user's role.
    token = tokens.issue(user_id=world.alice.id, tenant_id=world.acme.id, role=Role.OWNER).token
    assert (await authenticate.with_token(token)).role is Role.ADMIN


@pytest.mark.parametrize("reference", ["id", "globex", " Globex "])
async def test_requested_tenant_switches_to_a_member_tenant(
    authenticate: Authenticate, world: World, tokens: JwtAccessTokens, reference: str
) -> None:
    requested = str(world.globex.id) if reference == "id" else reference
    principal = await authenticate.with_token(alice_token(world, tokens), requested_tenant=requested)
    assert principal.tenant_id == world.globex.id
    assert principal.tenant_slug == "globex"
    assert principal.role is Role.AGENT


@pytest.mark.parametrize(
    "reference", ["id", "initech", "no-such-tenant", "00000000-0000-0000-0000-000000000000"]
)
async def test_requested_tenant_outside_the_memberships_is_denied(
    authenticate: Authenticate, world: World, tokens: JwtAccessTokens, reference: str
) -> None:
    requested = str(world.initech.id) if reference == "id" else reference
    with pytest.raises(TenantAccessDenied):
        await authenticate.with_token(alice_token(world, tokens), requested_tenant=requested)


async def test_token_for_a_tenant_the_user_has_left_is_denied(
    authenticate: Authenticate, world: World, tokens: JwtAccessTokens
) -> None:
    token = alice_token(world, tokens)
    world.factory.remove_membership(user_id=world.alice.id, tenant_id=world.acme.id)
    with pytest.raises(TenantAccessDenied):
        await authenticate.with_token(token)


async def test_token_issued_before_tokens_valid_after_is_revoked(
    authenticate: Authenticate, world: World, tokens: JwtAccessTokens
) -> None:
    token = alice_token(world, tokens)
    revoke_tokens_of_alice(world, datetime.now(UTC) + timedelta(seconds=5))
    with pytest.raises(NotAuthenticated, match="revoked"):
        await authenticate.with_token(token)


async def test_revocation_is_exact_within_the_same_second(authenticate: Authenticate, world: World) -> None:
    valid_after = datetime(2024, 5, 1, 12, 0, 0, 500_000, tzinfo=UTC)
    revoke_tokens_of_alice(world, valid_after)
    just_before = datetime(2024, 5, 1, 12, 0, 0, 400_000, tzinfo=UTC).timestamp()
    just_after = datetime(2024, 5, 1, 12, 0, 0, 600_000, tzinfo=UTC).timestamp()

    principal = await authenticate.with_session(world.alice.id, world.acme.id, issued_at=just_after)
    assert principal.user_id == world.alice.id
    with pytest.raises(NotAuthenticated, match="revoked"):
        await authenticate.with_session(world.alice.id, world.acme.id, issued_at=just_before)


async def test_session_may_switch_tenant_too(authenticate: Authenticate, world: World) -> None:
    principal = await authenticate.with_session(
        world.alice.id, world.acme.id, requested_tenant="globex", issued_at=datetime.now(UTC).timestamp()
    )
    assert principal.tenant_id == world.globex.id


async def test_deleted_user_is_not_authenticated(
    authenticate: Authenticate, world: World, tokens: JwtAccessTokens
) -> None:
    token = alice_token(world, tokens)
    del world.factory.store.users[world.alice.id]
    with pytest.raises(NotAuthenticated, match="no longer exists"):
        await authenticate.with_token(token)


async def test_disabled_user_is_not_authenticated(
    authenticate: Authenticate, world: World, tokens: JwtAccessTokens
) -> None:
    token = alice_token(world, tokens)
    world.factory.store.users[world.alice.id].is_active = False
    with pytest.raises(NotAuthenticated, match="disabled"):
        await authenticate.with_token(token)


async def test_garbage_token_is_not_authenticated(authenticate: Authenticate) -> None:
    with pytest.raises(NotAuthenticated):
        await authenticate.with_token("not.a.token")
