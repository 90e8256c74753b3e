"""Liveness and readiness, for load balancers and orchestrators (no authentication)."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncEngine

from pywhatsapp.adapters.persistence.database import check_connection
from pywhatsapp.entrypoints.http.envelope import Envelope, ok


@get("/healthz", tags=["health"], summary="The process is alive", exclude_from_auth=True, security=[{}])
async def healthz() -> Envelope[dict[str, str]]:
    return ok({"status": "alive"})


@get(
    "/readyz",
    tags=["health"],
    summary="The database is reachable (503 in the envelope when not)",
    exclude_from_auth=True,
    security=[{}],
)
async def readyz(engine: NamedDependency[AsyncEngine]) -> Envelope[dict[str, str]]:
    await check_connection(engine, timeout=3.0)  # DatabaseUnavailable becomes a 503 in errors.py
    return ok({"status": "ready", "database": "ok"})
