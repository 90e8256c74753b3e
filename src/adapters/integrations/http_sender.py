"""Event deliveries over HTTP (httpx), timed; never raises: a failure is an attempt with an error.

Only the start of an answer is read (ANSWER_BODY_LIMIT bytes, kept with the attempt): an endpoint that answers
with megabytes costs neither memory nor time."""

from __future__ import annotations

import time

import httpx

from pywhatsapp.application.integrations.ports import Attempt, DestinationGuard
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import InvalidInput
from pywhatsapp.domain.integrations.event_webhook import ANSWER_BODY_LIMIT


def answer_text(raw: bytes) -> str:
    """The start of an answer as text: invalid UTF-8 (or a character cut at the limit) replaced, and no NUL
    (PostgreSQL text cannot hold one)."""
    return raw[:ANSWER_BODY_LIMIT].decode("utf-8", errors="replace").replace("\x00", "")


class HttpEventSender:
    def __init__(self, timeout: float = 10.0, guard: DestinationGuard | None = None) -> None:
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._guard = guard

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
        started_at = utc_now()
        started = time.perf_counter()
        try:
            if self._guard is not None:
                # Again at delivery: the host's DNS answer may have changed since the URL was registered.
                await self._guard.check(url)
        except InvalidInput as refused:
            return Attempt(
                status_code=None,
                latency_ms=0,
                error=f"refused: {refused.message}"[:500],
                started_at=started_at,
            )
        try:
            # Raw bytes, not decompressed (no decompression bomb); identity asks the endpoint not to compress.
            sent_headers = {"Accept-Encoding": "identity", **headers}
            async with self._client.stream("POST", url, content=body, headers=sent_headers) as answer:
                kept = bytearray()
                async for chunk in answer.aiter_raw():
                    kept += chunk
                    if len(kept) >= ANSWER_BODY_LIMIT:
                        break  # the rest is not read: the connection is closed instead of reused
        except httpx.HTTPError as error:
            elapsed = int((time.perf_counter() - started) * 1000)
            return Attempt(
                status_code=None,
                latency_ms=elapsed,
                error=f"{type(error).__name__}: {error}"[:500],
                started_at=started_at,
            )
        elapsed = int((time.perf_counter() - started) * 1000)
        return Attempt(
            status_code=answer.status_code,
            latency_ms=elapsed,
            response_body=answer_text(bytes(kept)),
            started_at=started_at,
        )

    async def close(self) -> None:
        await self._client.aclose()
