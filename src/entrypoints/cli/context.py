"""What every command shares: settings, the container, and how failures are told to a person."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console

from pywhatsapp.adapters.persistence.database import DatabaseUnavailable, check_connection
from pywhatsapp.domain.errors import DomainError
from pywhatsapp.entrypoints.container import Container, build_container
from pywhatsapp.entrypoints.settings import Settings, SettingsError, load_settings

T = TypeVar("T")
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]Error:[/] {message}")
    raise SystemExit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        fail(f"configuration: {error}", code=2)


def run_event_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on uvloop where it is installed (it comes with uvicorn[standard]): the worker's
    campaign sends and the simulator's answers cost noticeably less CPU on it."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not built for every platform
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


class CliContext:
    """Lazily builds the container so that `--help` and config errors never start a database."""

    def __init__(self) -> None:
        self._container: Container | None = None

    @property
    def settings(self) -> Settings:
        return self.container.settings()

    @property
    def container(self) -> Container:
        if self._container is None:
            self._container = build_container(settings_or_exit())
        return self._container

    def reload_settings(self) -> None:
        """Read the settings again (after this process changed its environment), before anything started."""
        if self._container is not None:
            self._container.shutdown_resources()
        self._container = None

    def database_url(self) -> str:
        """Start (or reach) the database and prove it answers; explain what to check if not."""
        container = self.container
        if self.settings.uses_embedded_database:
            console.print(f"Using the embedded PostgreSQL in [bold]{self.settings.data_dir / 'pgdata'}[/]")
        try:
            container.init_resources()
        except Exception as error:  # pgserver reports many kinds of failure
            fail(f"could not start the embedded PostgreSQL: {error}")
        url: str = container.database_url()
        self.run(check_connection(container.engine()))
        return url

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run one piece of async work; the engine's connections belong to its event loop, so they
        are closed before the loop ends and the next `run` opens fresh ones."""
        engine = self.container.engine()

        async def work() -> T:
            try:
                return await coroutine
            finally:
                await engine.dispose()

        try:
            return run_event_loop(work())
        except DatabaseUnavailable as error:
            fail(str(error))
        except DomainError as error:
            fail(error.message)

    def close(self) -> None:
        if self._container is not None:
            self._container.shutdown_resources()


pass_context = click.make_pass_decorator(CliContext, ensure=True)
