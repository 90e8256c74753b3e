"""The real app served by uvicorn on a free local port, in a thread with its own event loop."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from pywhatsapp.entrypoints.container import Container, build_container
from pywhatsapp.entrypoints.http.app import create_app
from pywhatsapp.entrypoints.settings import Settings


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.container: Container = build_container(settings)
        self.app = create_app(self.container)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_config=None, lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start; see the log above")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()
