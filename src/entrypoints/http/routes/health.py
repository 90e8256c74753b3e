"""Liveness and readiness, for load balancers and orchestrators (no authentication)."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.ext.asyncio import AsyncEngine

from pywhatsapp.adapters.persistence.database import DatabaseUnavailable, check_connection
from pywhatsapp.entrypoints.http.envelope import Envelope, error_body, ok


@get("/healthz", tags=["health"], summary="The process is alive", exclude_from_auth=True, security=[{}])
async def healthz() -> Envelope[dict[str, str]]:
    return ok({"status": "alive"})


@get("/readyz", tags=["health"], summary="The database is reachable", exclude_from_auth=True, security=[{}])
async def readyz(
    engine: NamedDependency[AsyncEngine],
) -> Response[Envelope[dict[str, str]] | dict[str, object]]:
    try:
        await check_connection(engine, timeout=3.0)
    except DatabaseUnavailable:
        return Response(error_body("The database is unreachable"), status_code=HTTP_503_SERVICE_UNAVAILABLE)
    return Response(ok({"status": "ready", "database": "ok"}), status_code=HTTP_200_OK)
