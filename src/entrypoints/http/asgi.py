"""The ASGI app for `uvicorn pywhatsapp.entrypoints.http.asgi:app` (and gunicorn's uvicorn workers).

Configuration comes from the environment and `.env`, as for `pywhatsapp serve`.
"""

from __future__ import annotations

from litestar import Litestar

from pywhatsapp.entrypoints.container import build_container
from pywhatsapp.entrypoints.http.app import create_app
from pywhatsapp.entrypoints.logging_setup import configure_logging
from pywhatsapp.entrypoints.settings import SettingsError, load_settings


def app_from_environment() -> Litestar:
    try:
        settings = load_settings()
    except SettingsError as error:
        raise SystemExit(f"Configuration error: {error}") from None
    configure_logging(settings)
    return create_app(build_container(settings))


app = app_from_environment()
