"""The app as it is deployed: `pywhatsapp serve --workers 2` and gunicorn with two uvicorn workers.

Across the workers (each request on a new connection, so that the kernel hands them to either one, and
/proc tells which worker held each): a web session works whatever worker answers, every WebSocket gets the
events published by any worker, a campaign is sent once per recipient, and `/metrics` adds up the counts of
both workers. Plus cheap static checks of the Dockerfile and the systemd unit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from pywhatsapp.entrypoints.http.app import SESSION_COOKIE
from tests.integration.conftest import PASSWORD, add_tenant_with_user, repo_root, token_for
from tests.support.campaigns import APP_SECRET, CampaignShop, numbers
from tests.support.meta_samples import messages_change, single_change_body, text_message
from tests.support.processes import RunningProcess, command_env, console_script, free_port
from tests.support.realtime import EventStream, child_pids, of_type, post_signed, process_holding
from tests.support.simulator import SimulatorServer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(sys.platform != "linux", reason="which worker holds a connection is read in /proc"),
]

REQUESTS = 16
WABA_ID = "1234567890987654321"


@dataclass
class Deployment:
    kind: str
    process: RunningProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """The worker processes (uvicorn's spawned children, or gunicorn's forked ones)."""
        pids = child_pids(self.process.process.pid)
        # uvicorn's multiprocessing may add a resource tracker: only processes that listen count.
        return [
            pid for pid in pids if Path(f"/proc/{pid}/cmdline").read_bytes().count(b"resource_tracker") == 0
        ]

    def holder(self, client_port: int) -> int | None:
        return process_holding(self.port, client_port, self.workers())


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET)) as sim:
        yield sim


def _command(kind: str, port: int) -> list[str]:
    if kind == "serve":
        return [console_script(), "serve", "--port", str(port), "--workers", "2"]
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    return [
        gunicorn,
        "-c",
        str(repo_root() / "deploy" / "gunicorn.conf.py"),
        "pywhatsapp.entrypoints.http.asgi:app",
        "-w",
        "2",
        "-k",
        "uvicorn.workers.UvicornWorker",
        "--bind",
        f"127.0.0.1:{port}",
    ]


@pytest.fixture(scope="module", params=["serve", "gunicorn"])
def deployment(
    request: pytest.FixtureRequest,
    database_url: str,
    simulator: SimulatorServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    kind: str = request.param
    if kind == "gunicorn" and shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("gunicorn is not installed (pip install -e '.[test]')")
    home = tmp_path_factory.mktemp(f"deploy-{kind}")
    port = free_port()
    env = command_env(
        DATABASE_URL=database_url,
        PYWHATSAPP_DATA_DIR=str(home / "data"),
        PYWHATSAPP_LOG_DIR=str(home / "logs"),
        PASSWORD_HASH_ROUNDS="4",
        WHATSAPP_TOKEN="not-sandbox-mode",
        GRAPH_API_URL=simulator.url,
        LOG_LEVEL="WARNING",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = RunningProcess(_command(kind, port), env=env, cwd=home, log=home / f"{kind}.log")
    deployed = Deployment(kind, process, port)
    try:
        process.wait_ready(f"{deployed.url}/readyz", timeout=90)
        deadline = time.monotonic() + 30
        while len(deployed.workers()) < 2:  # gunicorn answers once its first worker is up
            assert time.monotonic() < deadline, f"workers: {deployed.workers()}\n{process.output()}"
            time.sleep(0.1)
        time.sleep(1.0)  # the second worker's lifespan (listener, senders) is up too
        simulator.control(
            "POST", "config", json={"webhook_url": f"{deployed.url}/webhooks"}
        ).raise_for_status()
        yield deployed
    finally:
        try:
            workers = deployed.workers()
        except Exception:  # the server may be gone already; its workers are looked for anyway below
            workers = []
        if kind == "gunicorn":
            # gunicorn's graceful stop is SIGTERM (what systemd and docker send); on SIGINT its master asks
            # the uvicorn workers to quit at once with SIGQUIT, which they do not answer. The master is given
            # the time to stop its workers before `stop()` would interrupt it.
            process.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.process.wait(timeout=60)
        code = process.stop()
        for pid in workers:
            # A worker left behind would go on working this database's queues in the next modules' tests.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        assert code == 0, process.output()
    assert "Traceback" not in process.output(), process.output()


@dataclass
class Shop(CampaignShop):
    phone_number_id: str = ""


@pytest.fixture
async def shop(
    deployment: Deployment, simulator: SimulatorServer, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> AsyncIterator[Shop]:
    simulator.settle()
    simulator.reset()
    member = await add_tenant_with_user(uow_factory, f"deploy-{uuid4().hex[:8]}")
    # A phone number id of its own: each worker caches which channel a number belongs to for a while, and
    # the tenant of an earlier test is gone (tables are emptied between tests).
    phone_number_id = str(10**12 + uuid4().int % 10**12)
    async with httpx.AsyncClient(base_url=deployment.url, timeout=30) as client:
        token = await token_for(client, member.username)
        created = await client.post(
            "/api/v1/channels",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "phone_number_id": phone_number_id,
                "access_token": "EAAG-deployment-token",
                "app_secret": APP_SECRET,
                "waba_id": WABA_ID,
                "messages_per_second": 80,
            },
        )
        assert created.status_code == 201, created.text
        channel_id = UUID(created.json()["data"]["id"])
        yield Shop(client, simulator, deployment.url, token, member.tenant_id, channel_id, phone_number_id)
    simulator.settle()


def _get_on_a_new_connection(
    deployment: Deployment, path: str, **kwargs: Any
) -> tuple[httpx.Response, int | None]:
    """GET on a connection of its own, and the worker that held it (read while it is still open)."""
    with httpx.Client(base_url=deployment.url, timeout=30, **kwargs) as client:
        response = client.get(path)
        stream = response.extensions["network_stream"]
        return response, deployment.holder(stream.get_extra_info("client_addr")[1])


def _csrf_token(page: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match, "the login form carries a CSRF token"
    return match.group(1)


async def test_a_web_session_works_whatever_worker_answers(
    deployment: Deployment, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, f"sess-{uuid4().hex[:8]}", username="agent-across")
    async with httpx.AsyncClient(base_url=deployment.url, timeout=30) as browser:
        form = await browser.get("/login")
        signed_in = await browser.post(
            "/login",
            data={
                "username": member.username,
                "password": PASSWORD,
                "next": "/chat",
                "_csrf_token": _csrf_token(form.text),
            },
        )
        assert signed_in.status_code == 303, signed_in.text
        cookie = signed_in.cookies[SESSION_COOKIE]

    holders: set[int | None] = set()
    for _ in range(REQUESTS):
        page, holder = _get_on_a_new_connection(deployment, "/chat", cookies={SESSION_COOKIE: cookie})
        assert page.status_code == 200 and "agent-across" in page.text
        me, other = _get_on_a_new_connection(deployment, "/api/v1/auth/me", cookies={SESSION_COOKIE: cookie})
        assert me.status_code == 200 and me.json()["data"]["username"] == "agent-across"
        holders |= {holder, other}
    assert len(holders - {None}) == 2, f"the workers that answered: {holders}"

    _get_on_a_new_connection(deployment, "/logout", cookies={SESSION_COOKIE: cookie})
    for _ in range(4):
        after, _holder = _get_on_a_new_connection(deployment, "/chat", cookies={SESSION_COOKIE: cookie})
        assert after.status_code in (302, 303, 307), "signed out on one worker means signed out on all"


async def _open_streams(base_url: str, token: str, count: int) -> list[EventStream]:
    return list(await asyncio.gather(*(EventStream.open(base_url, token=token) for _ in range(count))))


async def test_every_socket_gets_the_events_published_by_any_worker(
    deployment: Deployment, shop: Shop
) -> None:
    streams = await _open_streams(deployment.url, shop.token, 8)
    try:
        holders = {deployment.holder(s.connection.local_address[1]) for s in streams}
        if len(holders) == 1 and (busy := holders.pop()) is not None:
            # The kernel gave every socket to one worker: more while that one is paused.
            os.kill(busy, signal.SIGSTOP)
            try:
                streams.extend(await _open_streams(deployment.url, shop.token, 4))
            finally:
                os.kill(busy, signal.SIGCONT)
        holders = {deployment.holder(s.connection.local_address[1]) for s in streams}
        assert len(holders - {None}) == 2, f"the workers holding the sockets: {holders}"

        wamids = []
        for n in range(6):
            wamid, wa_id = f"wamid.deploy-{uuid4().hex}", f"4915100{n:05d}"
            body = single_change_body(
                WABA_ID,
                messages_change(
                    shop.phone_number_id,
                    messages=[text_message(wamid, wa_id, f"hello {n}", timestamp=int(time.time()))],
                    names={wa_id: f"Customer {n}"},
                ),
            )
            async with httpx.AsyncClient(base_url=deployment.url, timeout=30) as client:
                response = await post_signed(client, body, APP_SECRET)
                assert response.status_code == 200, response.text
            wamids.append(wamid)
        for stream in streams:
            incoming = await stream.wait_for(of_type("message_incoming"), count=len(wamids), timeout=10)
            assert [event["data"]["wamid"] for event in incoming] == wamids
    finally:
        for stream in streams:
            await stream.close()


async def test_a_campaign_started_through_the_api_sends_each_recipient_once(
    deployment: Deployment, shop: Shop
) -> None:
    before = scrape(deployment)
    recipients = numbers(120)
    campaign = await shop.create(
        name="Across workers",
        template_name="spring_sale",
        language="en_US",
        recipients={"phone_numbers": recipients},
        start=True,
    )
    done = await shop.wait_status(campaign["id"], "completed", timeout=90)
    per_number = shop.sends_per_number()
    assert set(per_number) == set(recipients), "a recipient was skipped"
    assert set(per_number.values()) == {1}, "a recipient was sent twice"
    assert done["counts"]["failed"] == 0
    after = scrape(deployment)
    sent = 'pywhatsapp_sends_total{result="sent",source="campaign"}'
    assert after.get(sent, 0) - before.get(sent, 0) == len(recipients)


def scrape(deployment: Deployment, **headers: str) -> dict[str, float]:
    """`/metrics` as `{'name{label="value",...}': value}` (labels sorted)."""
    response = httpx.get(f"{deployment.url}/metrics", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


async def test_metrics_add_up_the_counts_of_both_workers(deployment: Deployment, shop: Shop) -> None:
    healthz = 'pywhatsapp_http_requests_total{method="GET",route="/healthz",status_code="200"}'
    processed = 'pywhatsapp_webhook_events_total{kind="message",outcome="processed"}'
    before = scrape(deployment)

    holders: set[int | None] = set()
    for _ in range(REQUESTS):
        response, holder = _get_on_a_new_connection(deployment, "/healthz")
        assert response.status_code == 200
        holders.add(holder)
    assert len(holders - {None}) == 2, f"the workers that answered: {holders}"
    for n in range(REQUESTS):
        wamid = f"wamid.metrics-{uuid4().hex}"
        body = single_change_body(
            WABA_ID,
            messages_change(
                shop.phone_number_id,
                messages=[text_message(wamid, f"4915177{n:05d}", "count me", timestamp=int(time.time()))],
            ),
        )
        async with httpx.AsyncClient(base_url=deployment.url, timeout=30) as client:
            assert (await post_signed(client, body, APP_SECRET)).status_code == 200

    # Whichever worker answers the scrape, it reports both workers' counts.
    for _ in range(4):
        after = scrape(deployment)
        assert after[healthz] - before.get(healthz, 0) == REQUESTS
        assert after[processed] - before.get(processed, 0) == REQUESTS
        for queue in ("campaign_recipients", "event_deliveries", "media_downloads"):
            assert f'pywhatsapp_queue_depth{{queue="{queue}"}}' in after
        assert any(key.startswith("pywhatsapp_http_request_duration_seconds_bucket{") for key in after)


# --- static checks of the shipped deployment files ---------------------------------------------------------


def _commands() -> set[str]:
    pyproject = (repo_root() / "pyproject.toml").read_text()
    return set(re.findall(r"^(\w[\w-]*) = \"pywhatsapp\.", pyproject, flags=re.MULTILINE))


def test_the_systemd_unit_runs_an_existing_command_with_existing_options() -> None:
    unit = (repo_root() / "deploy" / "pywhatsapp.service").read_text()
    sections = re.findall(r"^\[(\w+)\]", unit, flags=re.MULTILINE)
    assert sections == ["Unit", "Service", "Install"]
    exec_start = re.search(r"^ExecStart=(.+)$", unit, flags=re.MULTILINE)
    assert exec_start
    argv = shlex.split(exec_start.group(1))
    assert argv[0] == "/opt/pywhatsapp/venv/bin/pywhatsapp" and Path(argv[0]).name in _commands()
    from click.testing import CliRunner

    from pywhatsapp.entrypoints.cli.main import cli

    command = cli.get_command(None, argv[1])  # type: ignore[arg-type]
    assert command is not None, f"pywhatsapp has no command {argv[1]!r}"
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert {arg for arg in argv[2:] if arg.startswith("--")} <= known
    assert "WorkingDirectory=/opt/pywhatsapp" in unit, ".env is read from the working directory"
    assert "After=network.target postgresql.service" in unit
    assert CliRunner().invoke(cli, [argv[1], "--help"]).exit_code == 0


def test_the_dockerfile_installs_the_package_and_runs_an_existing_command() -> None:
    dockerfile = (repo_root() / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    for copied in re.findall(r"^COPY (.+) \S+$", dockerfile, flags=re.MULTILINE):
        for source in copied.split():
            assert (repo_root() / source).exists(), f"COPY {source}: no such file"
    cmd = re.search(r"^CMD (\[.+\])$", dockerfile, flags=re.MULTILINE)
    assert cmd
    argv = json.loads(cmd.group(1))
    assert argv[0] in _commands() and argv[1] == "serve"
    assert "/readyz" in dockerfile and "USER " in dockerfile


def test_the_gunicorn_config_is_valid_python_that_gunicorn_reads() -> None:
    pytest.importorskip("gunicorn")
    from gunicorn.config import Config  # type: ignore[import-untyped]

    config = Config()
    namespace: dict[str, Any] = {"__file__": "gunicorn.conf.py"}
    source = (repo_root() / "deploy" / "gunicorn.conf.py").read_text()
    saved = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    try:
        exec(compile(source, "gunicorn.conf.py", "exec"), namespace)
    finally:
        if saved is None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        else:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = saved
    for name in ("bind", "workers", "worker_class", "graceful_timeout", "on_starting", "child_exit"):
        assert name in namespace
        config.set(name, namespace[name])
    assert config.worker_class_str == "uvicorn.workers.UvicornWorker"
