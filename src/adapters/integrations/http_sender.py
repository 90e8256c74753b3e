"""Event deliveries over HTTP (httpx), timed; never raises: a failure is an attempt with an error."""

from __future__ import annotations

import time

import httpx

from pywhatsapp.application.integrations.ports import Attempt, DestinationGuard
from pywhatsapp.domain.errors import InvalidInput


class HttpEventSender:
    def __init__(self, timeout: float = 10.0, guard: DestinationGuard | None = None) -> None:
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._guard = guard

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
        started = time.perf_counter()
        try:
            if self._guard is not None:
                # Again at delivery: the host's DNS answer may have changed since the URL was registered.
                await self._guard.check(url)
        except InvalidInput as refused:
            return Attempt(status_code=None, latency_ms=0, error=f"refused: {refused.message}"[:500])
        try:
            answer = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            elapsed = int((time.perf_counter() - started) * 1000)
            return Attempt(
                status_code=None, latency_ms=elapsed, error=f"{type(error).__name__}: {error}"[:500]
            )
        elapsed = int((time.perf_counter() - started) * 1000)
        return Attempt(status_code=answer.status_code, latency_ms=elapsed)

    async def close(self) -> None:
        await self._client.aclose()
