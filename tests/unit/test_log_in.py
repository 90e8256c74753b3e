"""Signing in: the right tenant, a usable token, one answer for every bad credential, throttling."""

from __future__ import annotations

import pytest

from pywhatsapp.adapters.auth.tokens import JwtAccessTokens
from pywhatsapp.application.identity.log_in import LogIn, LoginResult
from pywhatsapp.domain.errors import InvalidCredentials, LoginThrottled, TenantAccessDenied
from pywhatsapp.domain.identity.login_throttle import LoginThrottlePolicy
from pywhatsapp.domain.tenancy.membership import Role
from tests.unit.conftest import ALICE_PASSWORD, World
from tests.unit.fakes import FakeLoginAttempts, FakePasswordHasher

ADDRESS = "203.0.113.7"


@pytest.fixture
def log_in(
    world: World, hasher: FakePasswordHasher, tokens: JwtAccessTokens, attempts: FakeLoginAttempts
) -> LogIn:
    return LogIn(world.factory, hasher, tokens, attempts, LoginThrottlePolicy())


async def alice_logs_in(log_in: LogIn, password: str = ALICE_PASSWORD, **kwargs: str) -> LoginResult:
    return await log_in.execute(username="alice", password=password, client_address=ADDRESS, **kwargs)


async def fail(log_in: LogIn, times: int, *, username: str = "alice", address: str = ADDRESS) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            await log_in.execute(username=username, password="wrong password", client_address=address)


async def test_success_lands_in_the_home_tenant_with_a_token_for_it(
    log_in: LogIn, world: World, tokens: JwtAccessTokens
) -> None:
    result = await alice_logs_in(log_in)

    assert result.principal.user_id == world.alice.id
    assert result.principal.username == "alice"
    assert result.principal.tenant_id == world.acme.id
    assert result.principal.tenant_slug == "acme"
    assert result.principal.tenant_name == "Acme"
    assert result.principal.role is Role.ADMIN
    claims = tokens.decode(result.access_token.token)
    assert claims.user_id == world.alice.id
    assert claims.tenant_id == world.acme.id
    assert claims.role is Role.ADMIN
    assert claims.expires_at == result.access_token.expires_at.replace(microsecond=0)


async def test_success_records_the_login_time(log_in: LogIn, world: World) -> None:
    assert world.factory.store.users[world.alice.id].last_login_at is None
    await alice_logs_in(log_in)
    assert world.factory.store.users[world.alice.id].last_login_at is not None


async def test_username_is_trimmed(log_in: LogIn, world: World) -> None:
    result = await log_in.execute(username="  alice ", password=ALICE_PASSWORD, client_address=ADDRESS)
    assert result.principal.user_id == world.alice.id


async def test_wrong_password_and_unknown_user_get_the_same_answer(log_in: LogIn) -> None:
    with pytest.raises(InvalidCredentials) as wrong_password:
        await alice_logs_in(log_in, password="not her password")
    with pytest.raises(InvalidCredentials) as unknown_user:
        await log_in.execute(username="mallory", password=ALICE_PASSWORD, client_address=ADDRESS)
    assert wrong_password.value.message == unknown_user.value.message == "Invalid username or password"


async def test_unknown_user_is_refused_whatever_the_password(
    log_in: LogIn, hasher: FakePasswordHasher
) -> None:
    # Even the password behind the hash checked for missing users must not open anything.
    for password in ("not-a-real-password", "", ALICE_PASSWORD):
        with pytest.raises(InvalidCredentials):
            await log_in.execute(username="mallory", password=password, client_address=ADDRESS)


async def test_failed_login_changes_nothing_stored(log_in: LogIn, world: World) -> None:
    before = world.factory.store.snapshot()
    await fail(log_in, 1)
    assert world.factory.store == before


async def test_after_five_failures_even_the_right_password_is_throttled(log_in: LogIn) -> None:
    await fail(log_in, 5)
    with pytest.raises(LoginThrottled) as caught:
        await alice_logs_in(log_in)
    assert caught.value.retry_after_seconds == LoginThrottlePolicy().window_seconds


async def test_four_failures_do_not_lock(log_in: LogIn, world: World) -> None:
    await fail(log_in, 4)
    assert (await alice_logs_in(log_in)).principal.user_id == world.alice.id


async def test_unknown_usernames_are_throttled_too(log_in: LogIn) -> None:
    await fail(log_in, 5, username="mallory")
    with pytest.raises(LoginThrottled):
        await log_in.execute(username="mallory", password="anything", client_address=ADDRESS)


async def test_throttling_is_per_address_and_ignores_username_case(log_in: LogIn, world: World) -> None:
    await fail(log_in, 5, username="ALICE")
    with pytest.raises(LoginThrottled):
        await alice_logs_in(log_in)
    other = await log_in.execute(username="alice", password=ALICE_PASSWORD, client_address="198.51.100.1")
    assert other.principal.user_id == world.alice.id


async def test_failures_count_within_the_policy_window(log_in: LogIn, attempts: FakeLoginAttempts) -> None:
    await fail(log_in, 1)
    assert set(attempts.windows.values()) == {15 * 60}  # the username's count and the address's


async def test_success_clears_the_failure_count(log_in: LogIn, world: World) -> None:
    await fail(log_in, 4)
    await alice_logs_in(log_in)
    await fail(log_in, 4)  # would be 8 failures in a row if the success had not reset the count
    assert (await alice_logs_in(log_in)).principal.user_id == world.alice.id


async def test_disabled_user_is_refused_like_a_wrong_password(log_in: LogIn, world: World) -> None:
    world.factory.store.users[world.alice.id].is_active = False
    with pytest.raises(InvalidCredentials) as caught:
        await alice_logs_in(log_in)
    assert caught.value.message == "Invalid username or password"


async def test_disabled_user_attempts_count_as_failures(log_in: LogIn, world: World) -> None:
    world.factory.store.users[world.alice.id].is_active = False
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await alice_logs_in(log_in)
    with pytest.raises(LoginThrottled):
        await alice_logs_in(log_in)


@pytest.mark.parametrize("reference", ["globex", "GLOBEX", "id"])
async def test_tenant_selects_another_tenant_the_user_belongs_to(
    log_in: LogIn, world: World, tokens: JwtAccessTokens, reference: str
) -> None:
    tenant = str(world.globex.id) if reference == "id" else reference
    result = await alice_logs_in(log_in, tenant=tenant)
    assert result.principal.tenant_id == world.globex.id
    assert result.principal.role is Role.AGENT
    claims = tokens.decode(result.access_token.token)
    assert claims.tenant_id == world.globex.id
    assert claims.role is Role.AGENT


@pytest.mark.parametrize("reference", ["initech", "no-such-tenant", "id"])
async def test_tenant_the_user_does_not_belong_to_is_denied(
    log_in: LogIn, world: World, reference: str
) -> None:
    tenant = str(world.initech.id) if reference == "id" else reference
    with pytest.raises(TenantAccessDenied):
        await alice_logs_in(log_in, tenant=tenant)


async def test_user_removed_from_home_tenant_lands_in_another_membership(log_in: LogIn, world: World) -> None:
    world.factory.remove_membership(user_id=world.alice.id, tenant_id=world.acme.id)
    result = await alice_logs_in(log_in)
    assert result.principal.tenant_id == world.globex.id
    assert result.principal.role is Role.AGENT


async def test_user_without_any_membership_cannot_enter(log_in: LogIn, world: World) -> None:
    world.factory.remove_membership(user_id=world.alice.id, tenant_id=world.acme.id)
    world.factory.remove_membership(user_id=world.alice.id, tenant_id=world.globex.id)
    with pytest.raises(TenantAccessDenied):
        await alice_logs_in(log_in)


async def test_deactivated_tenant_cannot_be_selected(log_in: LogIn, world: World) -> None:
    world.factory.store.tenants[world.globex.id].is_active = False
    with pytest.raises(TenantAccessDenied):
        await alice_logs_in(log_in, tenant="globex")


async def test_one_address_spraying_many_usernames_is_throttled(log_in: LogIn, world: World) -> None:
    for number in range(50):
        with pytest.raises(InvalidCredentials):
            await log_in.execute(username=f"guess-{number}", password="wrong", client_address=ADDRESS)
    with pytest.raises(LoginThrottled):
        await alice_logs_in(log_in)
    other = await log_in.execute(username="alice", password=ALICE_PASSWORD, client_address="198.51.100.1")
    assert other.principal.user_id == world.alice.id
