"""Start-up time of `pywhatsapp serve` on a fresh data dir (initdb, migrations, admin) and on a warm one.

Run: python benchmarks/serve_startup.py [--runs 3]
Prints, for each run, the seconds from launching the command to the first 200 from /readyz.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def time_to_ready(data_dir: Path) -> float:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DB_", "PYWHATSAPP_"))}
    env["PYWHATSAPP_DATA_DIR"] = str(data_dir)
    command = [str(Path(sys.executable).with_name("pywhatsapp")), "serve", "--port", str(port)]
    started = time.perf_counter()
    quiet = subprocess.DEVNULL
    process = subprocess.Popen(command, env=env, cwd=data_dir.parent, stdout=quiet, stderr=quiet)
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"serve exited with {process.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    fresh: list[float] = []
    warm: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="pywhatsapp-startup-") as root:
            os.chmod(root, 0o755)  # the embedded server runs as its own user when started by root
            data_dir = Path(root) / "data"
            fresh.append(time_to_ready(data_dir))
            warm.append(time_to_ready(data_dir))
    for label, figures in (("fresh data dir", fresh), ("warm data dir", warm)):
        runs_shown = [round(x, 2) for x in figures]
        print(f"serve start-up, {label}: median {statistics.median(figures):.2f}s  runs {runs_shown}")


if __name__ == "__main__":
    main()
