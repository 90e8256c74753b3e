"""httpx's interface (what PyWA speaks) over aiohttp's connection pool.

A campaign keeps hundreds of requests to the Graph API in flight. httpx's own pool checks every connection
on each request, so its cost grows with the requests in flight (measured here: 2 ms and more of CPU per
request, where aiohttp spends 0.2-0.4 ms): the sender ran out of CPU long before the channel's cap. PyWA
stays the client; only the layer that moves the bytes changes.

Errors keep httpx's meaning, which the gateway relies on to tell a request that never left (safe to send
again) from one whose answer was lost (reconciled from its status webhook, never resent):
connection failures and connect or pool timeouts are `ConnectError`/`ConnectTimeout`; a connection the
server closed after the request was written, a read timeout or a broken answer are read errors.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx

CHUNK_BYTES = 64 * 1024


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except aiohttp.ClientConnectorError as error:  # no connection: nothing was sent
        raise httpx.ConnectError(str(error)) from error
    except aiohttp.ConnectionTimeoutError as error:  # waiting for a connection (or the pool): not sent
        raise httpx.ConnectTimeout(str(error) or "connect timeout") from error
    except aiohttp.SocketTimeoutError as error:
        raise httpx.ReadTimeout(str(error) or "read timeout") from error
    except aiohttp.ServerDisconnectedError as error:
        raise httpx.RemoteProtocolError(str(error) or "server disconnected") from error
    except aiohttp.InvalidURL as error:
        raise httpx.UnsupportedProtocol(str(error)) from error
    except (aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as error:
        raise httpx.ReadError(str(error)) from error
    except aiohttp.ClientError as error:
        raise httpx.ReadError(f"{type(error).__name__}: {error}") from error
    except TimeoutError as error:  # aiohttp's total timeout, after the request may have left
        raise httpx.ReadTimeout("timed out") from error


class _AnswerStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._response.content.iter_chunked(CHUNK_BYTES):
                yield chunk

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, verify: bool = True, max_connections: int = 256) -> None:
        self._ssl: ssl.SSLContext | bool = ssl.create_default_context() if verify else False
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use: aiohttp binds its session to the running event loop.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        body = await request.aread()
        # aiohttp frames the body it is given itself.
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "transfer-encoding"]
        with _as_httpx_errors():
            response = await self._open().request(
                request.method,
                str(request.url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeouts.get("pool"),
                    sock_connect=timeouts.get("connect"),
                    sock_read=timeouts.get("read"),
                ),
            )
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_AnswerStream(response),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
