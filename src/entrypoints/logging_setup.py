"""Structured (JSON) logs to stdout and to `logs/whatspy.log`, as the seed's operators expect."""

from __future__ import annotations

import logging
import logging.config
import re
from pathlib import Path

from pywhatsapp.entrypoints.settings import Settings

LOG_FILE_NAME = "whatspy.log"


class DropTerminalColours(logging.Filter):
    """uvicorn attaches an ANSI-coloured copy of its messages; JSON logs need only the plain one."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


# Query parameters that carry credentials: the WebSocket's `?token=`, Graph API `access_token`, app secrets.
_SECRET_PARAMETER = re.compile(
    r"(?i)([?&](?:token|access_token|client_secret|app_secret|appsecret_proof|fb_exchange_token|"
    r"hub\.verify_token|verify_token|api_key|key|password)=)[^&\s\"']*"
)


def redact(text: str) -> str:
    """The text with the values of credential query parameters replaced."""
    return _SECRET_PARAMETER.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    """Access logs print request paths with their query strings (`GET /ws?token=<JWT>`), and HTTP client
    logs print URLs; the credentials in them are replaced before any handler writes the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = redact(record.msg)
        return True


def configure_logging(settings: Settings) -> Path:
    log_dir = settings.log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / LOG_FILE_NAME
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "json": {
                    "()": "pythonjsonlogger.json.JsonFormatter",
                    "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
                    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
                },
            },
            "filters": {"plain": {"()": DropTerminalColours}, "redact": {"()": RedactSecrets}},
            "handlers": {
                "stdout": {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stdout",
                    "formatter": "json",
                    "filters": ["plain", "redact"],
                },
                "file": {
                    "class": "logging.handlers.WatchedFileHandler",
                    "filename": str(log_file),
                    "formatter": "json",
                    "filters": ["plain", "redact"],
                    "encoding": "utf-8",
                },
            },
            "root": {"level": settings.LOG_LEVEL, "handlers": ["stdout", "file"]},
            "loggers": {
                "uvicorn.access": {"level": "WARNING" if settings.is_production else "INFO"},
                "sqlalchemy.engine": {"level": "WARNING"},
                "httpx": {"level": "WARNING"},
                "pgserver": {"level": "WARNING"},
            },
        }
    )
    return log_file
