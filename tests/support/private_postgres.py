"""A PostgreSQL server of one test's own, on a fixed TCP port, that the test may stop and start again.

The session's server (TEST_DATABASE_URL, or the shared embedded one) is used by every other test and must
never be restarted; this one runs pgserver's PostgreSQL binaries on a data dir of its own. Its address
stays the same across restarts, so an app configured with `url` reconnects as it would to a production
server that came back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

from pgserver._commands import initdb, pg_ctl
from pgserver.utils import ensure_prefix_permissions, ensure_user_exists


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivatePostgres:
    def __init__(self) -> None:
        # Short, under /tmp: the unix socket's path must stay below the kernel's ~100 characters.
        self.root = Path(tempfile.mkdtemp(prefix="pyw-pg-"))
        self.pgdata = self.root / "pgdata"
        self.port = _free_port()
        # PostgreSQL refuses to run as root; pgserver's own user runs it then.
        self._user = "pgserver" if os.geteuid() == 0 else None
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def __enter__(self) -> Self:
        self.pgdata.mkdir()
        if self._user is not None:
            import pwd

            ensure_user_exists(self._user)
            ensure_prefix_permissions(self.pgdata)
            entry = pwd.getpwnam(self._user)
            for path in (self.root, self.pgdata):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        initdb(
            ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres"],
            pgdata=self.pgdata,
            user=self._user,
        )
        self.start()
        return self

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.pgdata} -c max_connections=100 -c fsync=off"
        pg_ctl(
            ["-w", "-o", options, "-l", str(self.root / "log"), "start"],
            pgdata=self.pgdata,
            user=self._user,
            timeout=60,
        )

    def stop(self) -> None:
        """A fast shutdown, as `systemctl restart postgresql` does: open sessions are ended at once."""
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._user, timeout=60)

    def log(self) -> str:
        path = self.root / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        with contextlib.suppress(Exception):  # already stopped
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.pgdata, user=self._user, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
