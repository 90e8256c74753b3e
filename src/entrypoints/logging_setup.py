"""Structured (JSON) logs to stdout and to `logs/whatspy.log`, as the seed's operators expect."""

from __future__ import annotations

import logging
import logging.config
from pathlib import Path

from pywhatsapp.entrypoints.settings import Settings

LOG_FILE_NAME = "whatspy.log"


class DropTerminalColours(logging.Filter):
    """uvicorn attaches an ANSI-coloured copy of its messages; JSON logs need only the plain one."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
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
            "filters": {"plain": {"()": DropTerminalColours}},
            "handlers": {
                "stdout": {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stdout",
                    "formatter": "json",
                    "filters": ["plain"],
                },
                "file": {
                    "class": "logging.handlers.WatchedFileHandler",
                    "filename": str(log_file),
                    "formatter": "json",
                    "filters": ["plain"],
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
