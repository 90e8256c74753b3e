"""The connection each worker keeps LISTENing on, for Litestar's channels (PostgreSQL NOTIFY backend).

It starts even when the database is down (the app is then alive but not ready) and reconnects, and
re-listens to every channel, whenever the connection drops, e.g. across a PostgreSQL restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

import asyncpg
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0


def asyncpg_dsn(database_url: str) -> str:
    """asyncpg's own DSN: the URL without SQLAlchemy's `+driver` part."""
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class ResilientNotifyBackend(AsyncPgChannelsBackend):
    def __init__(self, database_url: Callable[[], str]) -> None:
        super().__init__(make_connection=lambda: asyncpg.connect(asyncpg_dsn(database_url())))
        self._connection: Any = None
        self._watchdog: asyncio.Task[None] | None = None

    async def on_startup(self) -> None:
        self._listener_lock = asyncio.Lock()
        self._queue = asyncio.Queue()
        self._watchdog = asyncio.create_task(self._stay_connected())

    async def on_shutdown(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._subscribed_channels.clear()
        self._queue = None

    async def subscribe(self, channels: Iterable[str]) -> None:
        async with self._listener_lock:
            for channel in set(channels) - self._subscribed_channels:
                self._subscribed_channels.add(channel)
                await self._listen(channel)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        async with self._listener_lock:
            for channel in set(channels) & self._subscribed_channels:
                self._subscribed_channels.remove(channel)
                if self._usable():
                    with contextlib.suppress(Exception):
                        await self._connection.remove_listener(channel, self._listener)

    def _usable(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def _listen(self, channel: str) -> None:
        if not self._usable():
            return  # the watchdog listens to it once connected
        try:
            await self._connection.add_listener(channel, self._listener)
        except Exception:
            logger.warning("could not LISTEN yet; will retry", extra={"channel": channel})

    async def _stay_connected(self) -> None:
        while True:
            if not self._usable():
                try:
                    connection = await self._connect()
                except Exception as error:  # the database is away; try again shortly
                    logger.warning("realtime listener cannot connect", extra={"error": type(error).__name__})
                else:
                    async with self._listener_lock:
                        self._connection = connection
                        for channel in self._subscribed_channels:
                            await self._listen(channel)
                    logger.info("realtime listener connected")
            await asyncio.sleep(RECONNECT_SECONDS)


def notify_backend(database_url: Callable[[], str]) -> ResilientNotifyBackend:
    return ResilientNotifyBackend(database_url)
