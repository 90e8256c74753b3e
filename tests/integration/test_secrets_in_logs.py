"""No secret reaches the logs: a realistic run of `pywhatsapp setup` and `pywhatsapp serve` at DEBUG level,
then every line of the log file and of the processes' stdout and stderr is searched for every secret,
token and password the run used: also the session cookie and CSRF token of a sign-in on the /login form,
and a flow private key (PEM, encrypted) with its passphrase, uploaded and refused with a wrong passphrase.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from tests.integration.test_event_webhooks import Receiver
from tests.support.processes import RunningProcess, command_env, console_script, free_port
from tests.support.realtime import EventStream, of_type
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres

PHONE_NUMBER_ID = "1098765432101"
SECOND_PHONE_NUMBER_ID = "1098765432102"


def secret(label: str) -> str:
    return f"{label}-{secrets.token_hex(12)}"


def _eventually(condition: Callable[[], bool], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    return condition()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def pem_lines(pem: str) -> list[str]:
    """A PEM's base64 lines: each holds key material (the first and last lines are the least random)."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


async def test_a_full_run_at_debug_level_logs_no_secret(empty_database: str, tmp_path: Path) -> None:
    used = {
        "WHATSAPP_TOKEN": secret("EAAGwhatsapptoken"),
        "FB_APP_SECRET": secret("fbappsecret"),
        "VERIFY_TOKEN": secret("verifytoken"),
        "JWT_SECRET_KEY": secret("jwtsecretkey-0123456789"),
        "SESSION_SECRET_KEY": secret("sessionsecretkey-0123456789"),
        "ADMIN_PASSWORD": secret("adminpassword"),
    }
    channel_token, channel_secret = secret("EAAGchanneltoken"), secret("channelappsecret")
    wrong_password, new_password = secret("wrongpassword"), secret("newpassword")
    log_dir = tmp_path / "logs"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    simulated = SimulatorSettings(app_secret=used["FB_APP_SECRET"], phone_number_id=PHONE_NUMBER_ID)
    with SimulatorServer(simulated) as simulator, Receiver() as receiver:
        env = command_env(
            DATABASE_URL=empty_database,
            PASSWORD_HASH_ROUNDS="4",
            LOG_LEVEL="DEBUG",
            PYWHATSAPP_LOG_DIR=str(log_dir),
            WHATSAPP_PHONE_ID=PHONE_NUMBER_ID,
            GRAPH_API_URL=simulator.url,
            EVENT_WEBHOOKS_ALLOW_PRIVATE="true",
            CAMPAIGN_SENDER_IN_SERVE="false",
            **used,
        )
        setup = await asyncio.to_thread(
            RunningProcess,
            [console_script(), "setup"],
            env=env,
            cwd=tmp_path,
            log=tmp_path / "setup.out",
        )
        assert await asyncio.to_thread(setup.process.wait, 120) == 0, setup.output()
        setup.stop()

        server = RunningProcess(
            [console_script(), "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            log=tmp_path / "serve.out",
        )
        try:
            await asyncio.to_thread(server.wait_ready, f"{base}/readyz")
            simulator.control("POST", "config", json={"webhook_url": f"{base}/webhooks"}).raise_for_status()
            issued = await _realistic_session(
                base, simulator, receiver, used, channel_token, channel_secret, wrong_password, new_password
            )
        finally:
            exit_code = server.stop()
        assert exit_code == 0, server.output()

    searched = {
        "the log file": (log_dir / "whatspy.log").read_text(errors="replace"),
        "setup's output": setup.output(),
        "serve's output": server.output(),
    }
    assert len(searched["the log file"].splitlines()) > 20, "the run logged at DEBUG level"
    everything = {
        **used,
        "channel access token": channel_token,
        "channel app secret": channel_secret,
        "failed login's password": wrong_password,
        "new password": new_password,
        **issued,
    }
    assert len(everything) > 25, sorted(everything)
    leaks = [
        f"{name} in {where}"
        for name, value in everything.items()
        for where, text in searched.items()
        if value in text
    ]
    assert not leaks, f"secrets in the logs: {leaks}"


async def _realistic_session(
    base: str,
    simulator: SimulatorServer,
    receiver: Receiver,
    used: dict[str, str],
    channel_token: str,
    channel_secret: str,
    wrong_password: str,
    new_password: str,
) -> dict[str, str]:
    """Sign in, configure, send and receive as a user would; returns the credentials the app issued."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        failed = await client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": wrong_password}
        )
        assert failed.status_code == 401
        login = await client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": used["ADMIN_PASSWORD"]}
        )
        assert login.status_code == 200, login.text
        token = login.json()["data"]["access_token"]

        channel = await client.post(
            "/api/v1/channels",
            headers=bearer(token),
            json={
                "phone_number_id": SECOND_PHONE_NUMBER_ID,
                "access_token": channel_token,
                "app_secret": channel_secret,
                "waba_id": "1234567890987654321",
            },
        )
        assert channel.status_code == 201, channel.text

        channels = (await client.get("/api/v1/channels", headers=bearer(token))).json()["data"]["items"]
        (default_channel,) = [c["id"] for c in channels if c["phone_number_id"] == PHONE_NUMBER_ID]

        issued = await _sign_in_on_the_form(client, used["ADMIN_PASSWORD"])
        issued |= await _upload_a_flow_key(client, token)

        key = await client.post(
            "/api/v1/api-keys", headers=bearer(token), json={"name": "ci", "role": "admin"}
        )
        assert key.status_code == 201, key.text
        api_key = key.json()["data"]["key"]
        assert (await client.get("/api/v1/contacts", headers={"X-API-Key": api_key})).status_code == 200

        hook = await client.post(
            "/api/v1/event-webhooks",
            headers=bearer(token),
            json={"url": f"{receiver.url}/hook", "events": ["message_incoming"]},
        )
        assert hook.status_code == 201, hook.text
        hook_secret = hook.json()["data"]["secret"]

        stream = await EventStream.open(base, token=token)  # the token rides in `/ws?token=`
        try:
            customer = "1555" + str(uuid4().int)[:7]
            delivered = simulator.control(
                "POST", f"customers/{customer}/messages", json={"type": "text", "text": {"body": "hello"}}
            )
            assert delivered.status_code == 200 and delivered.json()["status_code"] == 200, delivered.text
            await stream.wait_for(of_type("message_incoming"), timeout=10)
        finally:
            await stream.close()

        sent = await client.post(
            "/api/v1/messages",
            headers=bearer(token),
            json={
                "to": customer,
                "type": "text",
                "text": {"body": "hi there"},
                "channel_id": default_channel,
            },
        )
        assert sent.status_code in (200, 201, 202), sent.text

        assert await asyncio.to_thread(_eventually, lambda: bool(receiver.received)), (
            "the event was delivered"
        )

        changed = await client.post(
            "/api/v1/auth/password",
            headers=bearer(token),
            json={"current_password": used["ADMIN_PASSWORD"], "new_password": new_password},
        )
        assert changed.status_code == 200, changed.text
        return {
            **issued,
            "access token": token,
            "new access token": changed.json()["data"]["access_token"],
            "API key": api_key,
            "event webhook secret": hook_secret,
        }


async def _sign_in_on_the_form(client: httpx.AsyncClient, password: str) -> dict[str, str]:
    """Sign in on /login as a browser does (the form's CSRF token, then the session cookie), and use the
    session on a page and the API; returns the token and the cookies."""
    async with httpx.AsyncClient(base_url=str(client.base_url), timeout=30) as browser:
        form = await browser.get("/login")
        assert form.status_code == 200, form.text
        found = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
        assert found, "the login form carries a CSRF token"
        csrf_token = found.group(1)
        signed_in = await browser.post(
            "/login",
            data={"username": "admin", "password": password, "next": "/chat", "_csrf_token": csrf_token},
        )
        assert signed_in.status_code == 303, signed_in.text
        session = browser.cookies.get("pywhatsapp_session")
        assert session, browser.cookies
        assert (await browser.get("/chat")).status_code == 200
        assert (await browser.get("/api/v1/contacts")).status_code == 200
        cookies = {f"cookie {name}": value for name, value in browser.cookies.items()}
    return {"CSRF token of the login form": csrf_token, "session cookie": session, **cookies}


async def _upload_a_flow_key(client: httpx.AsyncClient, token: str) -> dict[str, str]:
    """Upload a flow private key (PEM, encrypted with a passphrase): once with a wrong passphrase (refused),
    then right; returns the passphrases and the key's lines, encrypted and in the clear."""
    passphrase, wrong = secret("flowkeypassphrase"), secret("wrongflowkeypassphrase")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ).decode()
    clear = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    refused = await client.put(
        "/api/v1/flows/keys", headers=bearer(token), json={"private_key_pem": encrypted, "passphrase": wrong}
    )
    assert refused.status_code == 422, refused.text
    uploaded = await client.put(
        "/api/v1/flows/keys",
        headers=bearer(token),
        json={"private_key_pem": encrypted, "passphrase": passphrase},
    )
    assert uploaded.status_code == 200, uploaded.text
    lines = {f"flow private key, line {n}": line for n, line in enumerate(pem_lines(encrypted)[1:-1])}
    lines |= {
        f"flow private key in the clear, line {n}": line for n, line in enumerate(pem_lines(clear)[1:-1])
    }
    return {"flow key passphrase": passphrase, "wrong flow key passphrase": wrong, **lines}
