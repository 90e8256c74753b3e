"""Pure security rules: bcrypt cost in production, private webhook destinations, secrets in log lines."""

from __future__ import annotations

import ipaddress

import pytest

from pywhatsapp.adapters.integrations.destinations import PublicDestinations, is_public
from pywhatsapp.adapters.integrations.http_sender import HttpEventSender
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.entrypoints.logging_setup import redact
from pywhatsapp.entrypoints.settings import SettingsError, load_settings

PRODUCTION = {
    "APP_ENV": "production",
    "JWT_SECRET_KEY": "x" * 40,
    "SESSION_SECRET_KEY": "y" * 40,
    "ADMIN_PASSWORD": "an-operator-password",
}


def test_production_refuses_a_bcrypt_cost_below_10() -> None:
    with pytest.raises(SettingsError, match="PASSWORD_HASH_ROUNDS"):
        load_settings({**PRODUCTION, "PASSWORD_HASH_ROUNDS": "9"}, env_file=None)
    assert (
        load_settings({**PRODUCTION, "PASSWORD_HASH_ROUNDS": "10"}, env_file=None).PASSWORD_HASH_ROUNDS == 10
    )
    assert load_settings(PRODUCTION, env_file=None).PASSWORD_HASH_ROUNDS == 12
    assert load_settings({"PASSWORD_HASH_ROUNDS": "4"}, env_file=None).PASSWORD_HASH_ROUNDS == 4


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
    ],
)
def test_only_global_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


async def test_private_destinations_are_refused_unless_allowed() -> None:
    with pytest.raises(InvalidInput, match="EVENT_WEBHOOKS_ALLOW_PRIVATE"):
        await PublicDestinations().check("http://127.0.0.1:8080/hook")
    with pytest.raises(InvalidInput):
        await PublicDestinations().check("http:///no-host")
    await PublicDestinations().check("https://93.184.215.14/hook")
    await PublicDestinations(allow_private=True).check("http://127.0.0.1:8080/hook")


async def test_a_delivery_to_a_private_address_is_a_refused_attempt() -> None:
    sender = HttpEventSender(guard=PublicDestinations())
    try:
        attempt = await sender.post("http://169.254.169.254/latest/meta-data/", b"{}", {})
    finally:
        await sender.close()
    assert attempt.status_code is None and attempt.error is not None and attempt.error.startswith("refused")


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ('127.0.0.1:5000 - "GET /ws?token=eyJhbGciOi.abc.def HTTP/1.1" 101', "eyJhbGciOi.abc.def"),
        ("GET https://graph/oauth/access_token?client_id=1&client_secret=s3cr3t&code=x", "s3cr3t"),
        ("GET /v22.0/123?access_token=EAAGtoken&fields=id", "EAAGtoken"),
        ("GET /webhooks?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1", "verify-me"),
    ],
)
def test_credentials_in_query_strings_are_redacted(line: str, secret: str) -> None:
    redacted = redact(line)
    assert secret not in redacted and "[redacted]" in redacted
