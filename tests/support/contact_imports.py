"""Helpers for contact import tests (CSV and xlsx), over the API and through the CLI."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import command_env, console_script


async def poll_until_finished(
    client: httpx.AsyncClient, headers: dict[str, str], job_id: str, timeout: float = 60
) -> tuple[dict[str, Any], list[int]]:
    """The finished import job, and every `processed` value seen on the way."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await client.get(f"/api/v1/contacts/imports/{job_id}", headers=headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()["data"]
        seen.append(job["processed"])
        if job["status"] in ("completed", "failed"):
            return job, seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"the import did not finish in {timeout}s: {job}")


def run_cli(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script(), *args],
        env=command_env(DATABASE_URL=database_url, LOG_LEVEL="WARNING", COLUMNS="120"),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
