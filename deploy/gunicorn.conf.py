"""gunicorn settings for PyWhatsApp (uvicorn workers), with Prometheus metrics added up across workers.

    gunicorn -c deploy/gunicorn.conf.py pywhatsapp.entrypoints.http.asgi:app

Workers, bind address and the rest can still be given on the command line (`-w 8 --bind ...`), which
wins over this file. Run `pywhatsapp setup` (or `pywhatsapp db upgrade`) once before: gunicorn does not
migrate. `PROMETHEUS_MULTIPROC_DIR` defaults to `<PYWHATSAPP_DATA_DIR>/metrics`; it is emptied at start.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8002")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
worker_class = "uvicorn.workers.UvicornWorker"
# uvicorn finishes in-flight requests and campaign sends record their results within this time.
graceful_timeout = 30
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Set here, in the master, before prometheus_client is imported anywhere: it picks its (multiprocess)
# storage at import, and the forked workers inherit the master's modules and environment.
os.environ.setdefault(
    MULTIPROC_ENV, str((Path(os.environ.get("PYWHATSAPP_DATA_DIR", ".pywhatsapp")) / "metrics").resolve())
)


def on_starting(server: Any) -> None:
    from pywhatsapp.adapters.metrics.prometheus import prepare_multiprocess_dir

    prepare_multiprocess_dir(os.environ[MULTIPROC_ENV])


def child_exit(server: Any, worker: Any) -> None:
    from pywhatsapp.adapters.metrics.prometheus import forget_worker

    forget_worker(worker.pid)
