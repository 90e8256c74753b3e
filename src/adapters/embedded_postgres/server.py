"""An embedded PostgreSQL (pgserver) under the data dir, for installations without a database server.

Several processes may share one data dir: pgserver counts its users and the server stops with the last.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "pgdata"
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and return its URL."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        fresh = not (self.pgdata / "PG_VERSION").exists()
        logger.info("starting embedded PostgreSQL", extra={"pgdata": str(self.pgdata), "fresh": fresh})
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (servers); pgserver then rightly uses /tmp.
            warnings.simplefilter("ignore")
            import pgserver  # late: only needed when no external database is configured

            self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        return str(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
