"""The baseline for benchmarks/webhook_ingest.py: a bare Litestar endpoint that only parses the body."""

from __future__ import annotations

import msgspec
from litestar import Litestar, Request, post


@post("/webhooks", status_code=200)
async def receive(request: Request) -> dict[str, str]:  # type: ignore[type-arg]
    msgspec.json.decode(await request.body())
    return {"status": "ok"}


app = Litestar(route_handlers=[receive], logging_config=None)
