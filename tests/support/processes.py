"""Running the real `pywhatsapp` and `uvicorn` commands as a person would, in their own processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def command_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DB_", "PYWHATSAPP_"))}
    env.update(overrides)
    return env


def console_script() -> str:
    return str(Path(sys.executable).with_name("pywhatsapp"))


class RunningProcess:
    def __init__(self, args: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            args, env=env, cwd=cwd, stdout=self._log_file, stderr=subprocess.STDOUT
        )

    def wait_ready(self, url: str, timeout: float = 120) -> float:
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise AssertionError(f"the process exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"not ready after {timeout}s:\n{self.output()}")

    def output(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()
        return self.process.returncode
