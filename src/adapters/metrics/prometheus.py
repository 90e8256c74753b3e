"""Prometheus metrics with prometheus_client, correct with several worker processes.

With `PROMETHEUS_MULTIPROC_DIR` set (by `pywhatsapp serve --workers N`, or by the operator for gunicorn),
prometheus_client writes every worker's counters to files in that directory and a scrape, answered by any
worker, adds them up. The directory must be empty when the server starts. Queue depths are not kept per
process: they are read from PostgreSQL at scrape time and added to that scrape only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Created once per process (prometheus_client refuses a second metric of the same name); labelled, so that
# nothing is written to the multiprocess directory before a value is counted.
WEBHOOK_EVENTS = Counter(
    "pywhatsapp_webhook_events",
    "Meta webhook events (messages, statuses, template and group updates...) by kind and outcome",
    ["kind", "outcome"],
)
SENDS = Counter(
    "pywhatsapp_sends",
    "Messages handed to Meta, by source (api, campaign) and result (sent, refused, unknown)",
    ["source", "result"],
)


class PrometheusMetrics:
    """The `Metrics` port on prometheus_client counters."""

    def webhook_events(self, kind: str, outcome: str, count: int = 1) -> None:
        if count > 0:
            WEBHOOK_EVENTS.labels(kind=kind, outcome=outcome).inc(count)

    def send(self, source: str, result: str) -> None:
        SENDS.labels(source=source, result=result).inc()


class RouteLabelledMiddleware(PrometheusMiddleware):
    """Litestar's Prometheus middleware, labelled by route template (`/api/v1/conversations/{id}`) rather
    than by path, so that ids do not make a new series per request."""

    def _get_default_labels(self, request: Any) -> dict[str, str | int | float]:
        return {
            "method": request.method,
            "route": request.scope.get("path_template") or "unmatched",
            "status_code": 200,
        }


def http_metrics_config() -> PrometheusConfig:
    """`pywhatsapp_http_requests_total{method,route,status_code}`, `pywhatsapp_http_request_duration_seconds`
    and friends, for HTTP requests (WebSocket connections are long-lived and not requests)."""
    return PrometheusConfig(
        app_name="pywhatsapp",
        prefix="pywhatsapp_http",
        scopes={ScopeType.HTTP},
        middleware_class=RouteLabelledMiddleware,
    )


class _Snapshot(Collector):
    def __init__(self, metrics: Iterable[Metric]) -> None:
        self._metrics = list(metrics)

    def collect(self) -> Iterable[Metric]:
        return self._metrics


def queue_depth_metric(depths: Mapping[str, int]) -> Metric:
    gauge = GaugeMetricFamily(
        "pywhatsapp_queue_depth", "Work waiting in PostgreSQL, all tenants, at scrape time", labels=["queue"]
    )
    for queue, depth in sorted(depths.items()):
        gauge.add_metric([queue], depth)
    return gauge


def render_metrics(queue_depths: Mapping[str, int] | None) -> bytes:
    """The text exposition of every worker's metrics (one process's without the multiprocess directory),
    plus the queue depths read for this scrape."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    if queue_depths is None:
        return counted
    extra = CollectorRegistry()
    extra.register(_Snapshot([queue_depth_metric(queue_depths)]))
    return counted + generate_latest(extra)


def prepare_multiprocess_dir(path: str) -> None:
    """Create the directory and empty it of a previous run's files (stale counts of dead workers)."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def forget_worker(pid: int) -> None:
    """A worker exited: its live gauges (requests in progress) no longer count (gunicorn's child_exit)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
