"""Structured (JSON) logs to stdout and to `logs/whatspy.log`, as the seed's operators expect."""

from __future__ import annotations

import logging.config
from pathlib import Path

from pywhatsapp.entrypoints.settings import Settings

LOG_FILE_NAME = "whatspy.log"


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
            "handlers": {
                "stdout": {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stdout",
                    "formatter": "json",
                },
                "file": {
                    "class": "logging.handlers.WatchedFileHandler",
                    "filename": str(log_file),
                    "formatter": "json",
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
