"""`GET /metrics`: Prometheus's scrape, all workers added up (see adapters/metrics/prometheus.py).

Open unless METRICS_TOKEN is set; then only `Authorization: Bearer <METRICS_TOKEN>` is answered. No
tenant's data is in it: counts by route template, webhook event kind, send result, and queue depths.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State

from pywhatsapp.adapters.metrics.prometheus import CONTENT_TYPE, render_metrics
from pywhatsapp.domain.errors import NotAuthenticated

logger = logging.getLogger(__name__)


@get("/metrics", include_in_schema=False, exclude_from_auth=True, security=[{}])
async def metrics(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    token = state.container.settings().METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise NotAuthenticated("/metrics needs Authorization: Bearer <METRICS_TOKEN>")
    try:
        depths: dict[str, int] | None = await state.container.queue_depths().pending()
    except Exception:  # a scrape still reports the counters when the database is away
        logger.warning("could not read the queue depths for /metrics", exc_info=True)
        depths = None
    return Response(render_metrics(depths), media_type=CONTENT_TYPE)
