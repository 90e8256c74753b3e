"""Webhook ingestion under load: signed Meta bodies (statuses and messages) posted at full speed for a fixed
time to the real app (signature, dedupe, durable write, realtime publish), and the same load against a bare
Litestar endpoint that only parses the body, in the same run. Prints events per second, p50/p99 latency and
the ratio.

Run: python benchmarks/webhook_ingest.py [--seconds 10] [--connections 32] [--workers 2]
Uses TEST_DATABASE_URL's server (a fresh database is created and dropped), else an embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.postgres import create_database, drop_database, server_url  # noqa: E402

APP_SECRET = "benchmark-app-secret"
PHONE_ID = "1122334455667"
WABA = "1234567890987654321"
CUSTOMERS = 200


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _status_body(wamid: str, status: str, customer: str) -> dict[str, object]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_ID},
                            "statuses": [
                                {
                                    "id": wamid,
                                    "status": status,
                                    "timestamp": str(int(time.time())),
                                    "recipient_id": customer,
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def _message_body(customer: str) -> dict[str, object]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_ID},
                            "contacts": [{"profile": {"name": "Load"}, "wa_id": customer}],
                            "messages": [
                                {
                                    "from": customer,
                                    "id": f"wamid.{uuid.uuid4().hex}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": "hello"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def build_requests(wamids: list[tuple[str, str]], port: int) -> list[bytes]:
    """Raw HTTP/1.1 requests: three statuses per sent message (as Meta sends), and some inbound messages."""
    requests: list[bytes] = []
    for index, (wamid, customer) in enumerate(wamids):
        for status in ("sent", "delivered", "read"):
            requests.append(_request(_status_body(wamid, status, customer), port))
        if index % 3 == 0:
            requests.append(_request(_message_body(customer), port))
    return requests


def _request(body: dict[str, object], port: int) -> bytes:
    raw = json.dumps(body, separators=(",", ":")).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    head = (
        f"POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"X-Hub-Signature-256: {signature}\r\nContent-Length: {len(raw)}\r\n\r\n"
    )
    return head.encode() + raw


async def _connection(
    port: int,
    requests: list[bytes],
    cursor: list[int],
    deadline: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            request = requests[cursor[0] % len(requests)]
            cursor[0] += 1
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not status_line.startswith(b"HTTP/1.1 200"):
                errors.append(int(status_line.split()[1]))
    finally:
        writer.close()


async def load(
    port: int, requests: list[bytes], seconds: float, connections: int
) -> tuple[int, float, float, list[int]]:
    latencies: list[float] = []
    errors: list[int] = []
    cursor = [0]
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, requests, cursor, deadline, latencies, errors) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return len(latencies), elapsed, p50, [p99, *errors]  # type: ignore[list-item]


def serve(app_path: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app_path,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 404):
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{app_path} did not start: {process.stderr.read().decode() if process.stderr else ''}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


async def prepare(database_url: str, sent_messages: int) -> list[tuple[str, str]]:
    """A tenant with a channel, and outgoing messages for the statuses to move."""
    from pywhatsapp.adapters.persistence import migrations
    from pywhatsapp.application.channels.configure_channel import ChannelSettings
    from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
    from pywhatsapp.entrypoints.container import build_container
    from pywhatsapp.entrypoints.settings import load_settings

    await asyncio.to_thread(migrations.upgrade, database_url)
    container = build_container(load_settings(app_env(database_url), env_file=None))
    container.init_resources()
    settings = container.settings()
    await container.set_up_installation().execute(
        default_tenant_id=settings.DEFAULT_TENANT_ID, admin_username="admin", admin_password="admin@123"
    )
    await container.configure_channel().execute(
        settings.DEFAULT_TENANT_ID,
        ChannelSettings(phone_number_id=PHONE_ID, access_token="token", app_secret=APP_SECRET, waba_id=WABA),
    )
    wamids: list[tuple[str, str]] = []
    async with container.uow_factory()(settings.DEFAULT_TENANT_ID) as uow:
        for index in range(sent_messages):
            customer = f"1555{index % CUSTOMERS:07d}"
            wamid = f"wamid.{uuid.uuid4().hex}"
            await uow.inbox.add_message(
                Message(
                    tenant_id=settings.DEFAULT_TENANT_ID,
                    direction=Direction.OUTGOING,
                    type="text",
                    wa_id=customer,
                    wamid=wamid,
                    status=MessageStatus.PENDING,
                )
            )
            wamids.append((wamid, customer))
        await uow.commit()
    await container.engine().dispose()
    container.shutdown_resources()
    return wamids


def app_env(database_url: str) -> dict[str, str]:
    """The app's settings for the run (shared with `prepare`: the secrets key must match)."""
    return {
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "PASSWORD_HASH_ROUNDS": "4",
        "JWT_SECRET_KEY": "b" * 40,
        "SESSION_SECRET_KEY": "s" * 40,
        "WHATSAPP_TOKEN": "benchmark",  # not the sandbox: a real deployment's configuration
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pywhatsapp-bench-") as tmp:
        os.chmod(tmp, 0o755)
        server, embedded = server_url(Path(tmp))
        database_url = create_database(server, prefix="pywhatsapp_bench")
        try:
            wamids = asyncio.run(prepare(database_url, sent_messages=20_000))
            env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "PYWHATSAPP_"))}
            env |= app_env(database_url) | {"PYWHATSAPP_LOG_DIR": tmp}
            results = {}
            for name, app_path in (
                ("bare Litestar, parse only", "benchmarks.bare_app:app"),
                ("PyWhatsApp /webhooks", "pywhatsapp.entrypoints.http.asgi:app"),
            ):
                port = _free_port()
                requests = build_requests(wamids, port)
                process = serve(app_path, port, args.workers, env)
                try:
                    asyncio.run(load(port, requests[:200], 1.0, 4))  # warm up
                    count, elapsed, p50, tail = asyncio.run(
                        load(port, requests, args.seconds, args.connections)
                    )
                finally:
                    stop(process)
                p99, errors = tail[0], tail[1:]
                results[name] = count / elapsed
                print(
                    f"{name:28s} {count / elapsed:8.0f} events/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                    f"errors {len(errors)} {dict(Counter(errors))}"
                )
            ratio = results["PyWhatsApp /webhooks"] / results["bare Litestar, parse only"]
            print(
                f"ratio PyWhatsApp / bare: {ratio:.2f}  (workers {args.workers}, "
                f"connections {args.connections}, {args.seconds:.0f} s each, one event per body)"
            )
        finally:
            drop_database(server, database_url)
            if embedded is not None:
                embedded.cleanup()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
