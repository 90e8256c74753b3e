"""`pywhatsapp serve` on the embedded database, and the app under plain uvicorn, as a newcomer runs them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from tests.integration.conftest import PASSWORD, add_tenant_with_user
from tests.support.processes import RunningProcess, command_env, console_script, free_port

pytestmark = pytest.mark.postgres


def _login(base: str, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": password}, timeout=30
    )


def test_serve_on_a_fresh_data_dir_starts_the_embedded_database_and_lets_the_admin_in(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = command_env(PYWHATSAPP_DATA_DIR=str(tmp_path / "data"), PASSWORD_HASH_ROUNDS="4")
    server = RunningProcess(
        [console_script(), "serve", "--port", str(port)], env=env, cwd=tmp_path, log=tmp_path / "serve.log"
    )
    try:
        server.wait_ready(f"{base}/readyz")
        login = _login(base, "admin", "admin@123")
        assert login.status_code == 200, login.text
        token = login.json()["data"]["access_token"]
        contacts = httpx.get(f"{base}/api/v1/contacts", headers={"Authorization": f"Bearer {token}"})
        assert contacts.json()["data"]["total"] == 0

        page = httpx.get(f"{base}/login")
        assert page.status_code == 200 and "Sign in to PyWhatsApp" in page.text
    finally:
        exit_code = server.stop()
    output = server.output()
    assert exit_code == 0, output
    assert "Created the admin admin" in output
    assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()
    log_file = tmp_path / "data" / "logs" / "whatspy.log"
    records = [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]
    assert records and all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    assert "admin@123" not in log_file.read_text()


def test_serve_with_two_workers_shares_the_embedded_database(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = command_env(PYWHATSAPP_DATA_DIR=str(tmp_path / "data"), PASSWORD_HASH_ROUNDS="4")
    server = RunningProcess(
        [console_script(), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        log=tmp_path / "serve.log",
    )
    try:
        server.wait_ready(f"{base}/readyz")
        tokens = [_login(base, "admin", "admin@123") for _ in range(6)]
        assert all(response.status_code == 200 for response in tokens)
    finally:
        assert server.stop() == 0, server.output()


async def test_the_app_runs_under_plain_uvicorn_with_an_app_path(
    tmp_path: Path, database_url: str, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = command_env(DATABASE_URL=database_url, PASSWORD_HASH_ROUNDS="4", PYWHATSAPP_LOG_DIR=str(tmp_path))
    server = RunningProcess(
        [sys.executable, "-m", "uvicorn", "pywhatsapp.entrypoints.http.asgi:app", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        log=tmp_path / "uvicorn.log",
    )
    try:
        server.wait_ready(f"{base}/readyz")
        assert _login(base, member.username, PASSWORD).status_code == 200
    finally:
        assert server.stop() == 0, server.output()
    assert (tmp_path / "whatspy.log").exists()


def test_a_wrong_setting_stops_uvicorn_with_one_line(tmp_path: Path) -> None:
    env = command_env(DB_PORT="not-a-port", DB_HOST="127.0.0.1")
    server = RunningProcess(
        [sys.executable, "-m", "uvicorn", "pywhatsapp.entrypoints.http.asgi:app", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        log=tmp_path / "uvicorn.log",
    )
    server.process.wait(timeout=60)
    assert server.stop() != 0
    assert "Configuration error: DB_PORT:" in server.output()
