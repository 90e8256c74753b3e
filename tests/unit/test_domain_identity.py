"""Roles, principals, usernames, passwords, slugs, login throttling and channel limits."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pywhatsapp.domain.channels.channel import (
    DEFAULT_MESSAGES_PER_SECOND,
    MAX_MESSAGES_PER_SECOND,
    Channel,
    validate_messages_per_second,
)
from pywhatsapp.domain.errors import InvalidCredentials, InvalidInput, LoginThrottled, PermissionDenied
from pywhatsapp.domain.identity.login_throttle import LoginThrottlePolicy, throttle_key
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.identity.user import User, validate_password, validate_username
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.domain.tenancy.tenant import Tenant, validate_slug

# --- roles and principals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "required", "allowed"),
    [
        (Role.AGENT, Role.AGENT, True),
        (Role.AGENT, Role.ADMIN, False),
        (Role.AGENT, Role.OWNER, False),
        (Role.ADMIN, Role.AGENT, True),
        (Role.ADMIN, Role.ADMIN, True),
        (Role.ADMIN, Role.OWNER, False),
        (Role.OWNER, Role.AGENT, True),
        (Role.OWNER, Role.ADMIN, True),
        (Role.OWNER, Role.OWNER, True),
    ],
)
def test_role_allows_itself_and_everything_below(role: Role, required: Role, allowed: bool) -> None:
    assert role.allows(required) is allowed


def principal(role: Role) -> Principal:
    return Principal(
        user_id=uuid4(),
        username="alice",
        tenant_id=uuid4(),
        tenant_slug="acme",
        tenant_name="Acme",
        role=role,
    )


def test_require_refuses_a_weaker_role_and_says_what_is_needed() -> None:
    with pytest.raises(PermissionDenied) as caught:
        principal(Role.AGENT).require(Role.ADMIN)
    assert "admin" in caught.value.message
    assert "agent" in caught.value.message


def test_require_lets_a_stronger_role_through() -> None:
    principal(Role.OWNER).require(Role.ADMIN)
    principal(Role.ADMIN).require(Role.ADMIN)
    principal(Role.AGENT).require(Role.AGENT)


def test_admin_cannot_do_what_only_an_owner_may() -> None:
    with pytest.raises(PermissionDenied):
        principal(Role.ADMIN).require(Role.OWNER)


# --- tenant slugs ----------------------------------------------------------------------------------

VALID_SLUG = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True)


@pytest.mark.parametrize("slug", ["a", "default", "acme-corp", "a1-b2-c3", "0", "x" * 63])
def test_slug_accepted(slug: str) -> None:
    assert validate_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    ["", "Acme", "-acme", "acme-", "acme corp", "acme_corp", "acme.corp", "x" * 64, "ácme", "acme/x"],
)
def test_slug_rejected(slug: str) -> None:
    with pytest.raises(InvalidInput, match="slug"):
        validate_slug(slug)


def test_slug_with_a_trailing_newline_is_rejected() -> None:
    # `$` in the pattern also matches just before a final "\n"; "acme\n" must not become a tenant slug.
    with pytest.raises(InvalidInput):
        validate_slug("acme\n")


@given(VALID_SLUG)
def test_every_well_formed_slug_is_accepted(slug: str) -> None:
    assert validate_slug(slug) == slug


@given(
    VALID_SLUG,
    # "\n" is left out here: the trailing-newline case has its own test above.
    st.sampled_from([*"ABZ_ .:/@é\t", "\u00a0"]),
    st.integers(min_value=0, max_value=63),
)
def test_a_slug_with_any_foreign_character_is_rejected(slug: str, bad: str, position: int) -> None:
    position = min(position, len(slug))
    with pytest.raises(InvalidInput):
        validate_slug(slug[:position] + bad + slug[position:])


@given(VALID_SLUG)
def test_a_slug_with_a_dash_at_either_end_is_rejected(slug: str) -> None:
    with pytest.raises(InvalidInput):
        validate_slug("-" + slug)
    with pytest.raises(InvalidInput):
        validate_slug(slug + "-")


def test_tenant_needs_a_valid_slug_and_a_name() -> None:
    with pytest.raises(InvalidInput):
        Tenant(name="Acme", slug="Not A Slug")
    with pytest.raises(InvalidInput, match="name"):
        Tenant(name="   ", slug="acme")
    assert Tenant(name="Acme", slug="acme").is_active


# --- usernames and passwords -----------------------------------------------------------------------


@pytest.mark.parametrize("username", ["bob", "alice.smith", "a_b-c+d@example.com", "x" * 150])
def test_username_accepted(username: str) -> None:
    assert validate_username(username) == username


@pytest.mark.parametrize("username", ["", "ab", "x" * 151, "has space", "semi;colon", "ünïcode", "tab\tbed"])
def test_username_rejected(username: str) -> None:
    with pytest.raises(InvalidInput, match="username"):
        validate_username(username)


def test_username_with_a_trailing_newline_is_rejected() -> None:
    # Same `$` pitfall as slugs: "admin\n" would be stored, and login strips it to "admin".
    with pytest.raises(InvalidInput):
        validate_username("admin\n")


def test_user_cannot_be_built_with_an_invalid_username() -> None:
    with pytest.raises(InvalidInput):
        User(username="no", password_hash="x", tenant_id=uuid4())


@pytest.mark.parametrize("password", ["12345678", "x" * 72, "é" * 36, "🙂" * 18])
def test_password_accepted(password: str) -> None:
    assert validate_password(password) == password


def test_password_shorter_than_8_characters_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="at least 8"):
        validate_password("1234567")


@pytest.mark.parametrize("password", ["x" * 73, "é" * 37, "🙂" * 19])
def test_password_over_72_bytes_is_rejected_even_if_it_has_fewer_characters(password: str) -> None:
    with pytest.raises(InvalidInput, match="72 bytes"):
        validate_password(password)


@given(st.text(max_size=80))
def test_password_rule_is_8_characters_and_72_bytes(password: str) -> None:
    acceptable = len(password) >= 8 and len(password.encode()) <= 72
    if acceptable:
        assert validate_password(password) == password
    else:
        with pytest.raises(InvalidInput):
            validate_password(password)


# --- login throttling ------------------------------------------------------------------------------


def test_default_policy_locks_at_the_fifth_failure() -> None:
    policy = LoginThrottlePolicy()
    assert [policy.is_locked(n) for n in range(7)] == [False] * 5 + [True] * 2
    assert policy.window_seconds == 15 * 60


def test_custom_policy_uses_its_own_limit() -> None:
    policy = LoginThrottlePolicy(max_failures=2, window_seconds=30)
    assert not policy.is_locked(1)
    assert policy.is_locked(2)


def test_throttle_key_ignores_case_and_spaces_of_the_username_but_not_the_address() -> None:
    assert throttle_key("  Alice ", "10.0.0.1") == throttle_key("alice", "10.0.0.1")
    assert throttle_key("alice", "10.0.0.1") != throttle_key("alice", "10.0.0.2")
    assert throttle_key("alice", "10.0.0.1") != throttle_key("bob", "10.0.0.1")


def test_credential_errors_carry_a_message_for_the_user() -> None:
    assert InvalidCredentials().message == "Invalid username or password"
    throttled = LoginThrottled(900)
    assert throttled.retry_after_seconds == 900
    assert "900 seconds" in throttled.message


# --- channels ------------------------------------------------------------------------------------


def channel(messages_per_second: int = DEFAULT_MESSAGES_PER_SECOND) -> Channel:
    return Channel(
        tenant_id=uuid4(),
        phone_number_id="123",
        access_token="token",
        messages_per_second=messages_per_second,
    )


def test_channel_defaults_to_80_messages_per_second() -> None:
    bare = Channel(tenant_id=uuid4(), phone_number_id="123", access_token="token")
    assert bare.messages_per_second == DEFAULT_MESSAGES_PER_SECOND == 80


@pytest.mark.parametrize("rate", [1, 80, MAX_MESSAGES_PER_SECOND])
def test_channel_rate_within_bounds(rate: int) -> None:
    assert channel(messages_per_second=rate).messages_per_second == rate


@pytest.mark.parametrize("rate", [0, -1, MAX_MESSAGES_PER_SECOND + 1])
def test_channel_rate_out_of_bounds(rate: int) -> None:
    with pytest.raises(InvalidInput, match="messages_per_second"):
        channel(messages_per_second=rate)
    with pytest.raises(InvalidInput):
        validate_messages_per_second(rate)
