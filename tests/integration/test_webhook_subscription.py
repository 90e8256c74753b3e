"""Registering the webhook with Meta (the app subscription), as PyWA does: Meta checks the URL first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from pywhatsapp.entrypoints.cli.main import cli
from tests.integration.conftest import make_settings
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres
VERIFY = "verify-me-please"


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret="app-secret")) as server:
        yield server


def test_subscribe_registers_the_callback_after_meta_verifies_it(
    simulator: SimulatorServer, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = make_settings(
        database_url, GRAPH_API_URL=simulator.url, VERIFY_TOKEN=VERIFY, WHATSAPP_TOKEN="t"
    )
    with LiveServer(settings) as app:
        env = {
            "DATABASE_URL": database_url,
            "GRAPH_API_URL": simulator.url,
            "PASSWORD_HASH_ROUNDS": "4",
            "CALLBACK_URL": f"{app.url}/webhooks",
            "FB_APP_ID": "987654321",
            "FB_APP_SECRET": "app-secret",
            "VERIFY_TOKEN": VERIFY,
            "WHATSAPP_TOKEN": "t",
            "ENCRYPTION_KEY": "integration-test-encryption-key",
        }
        runner = CliRunner()
        assert runner.invoke(cli, ["setup"], env=env, catch_exceptions=False).exit_code == 0
        login = httpx.post(
            f"{app.url}/api/v1/auth/login", json={"username": "admin", "password": "admin@123"}
        )
        headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        created = httpx.post(
            f"{app.url}/api/v1/channels",
            headers=headers,
            json={"phone_number_id": "1122334455667", "access_token": "token", "app_secret": "app-secret"},
        )
        assert created.status_code in (200, 201), created.text

        result = runner.invoke(cli, ["webhooks", "subscribe"], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert f"Meta will send webhooks to {app.url}/webhooks" in result.output

        wrong = runner.invoke(cli, ["webhooks", "subscribe"], env=env | {"VERIFY_TOKEN": "not-ours"})
        assert wrong.exit_code == 1
        assert "2200" in wrong.output  # Meta could not verify the callback: our /webhooks refused the token

        missing = runner.invoke(cli, ["webhooks", "subscribe"], env={**env, "CALLBACK_URL": ""})
        assert missing.exit_code == 1 and "set CALLBACK_URL" in missing.output
