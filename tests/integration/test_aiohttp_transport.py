"""The Graph API transport keeps httpx's meaning of failures, on which "send again or not" rests: a request
that never left is a connect error (safe to send again); one the server took and never answered is a read
error (its status webhook settles it; sending again could message the customer twice)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from pywhatsapp.adapters.whatsapp.aiohttp_transport import AiohttpTransport
from tests.support.processes import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    return head + await reader.readexactly(length)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_answers_bodies_and_headers_come_through_unchanged(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await _read_request(reader))
        body = b'{"messages":[{"id":"wamid.1"}]}'
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Trace: a\r\nX-Trace: b\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        await writer.drain()
        writer.close()

    url = await serve(answer)
    async with httpx.AsyncClient(transport=AiohttpTransport(verify=False)) as client:
        response = await client.post(
            f"{url}/v20.0/1/messages", json={"to": "49"}, headers={"Authorization": "Bearer t"}
        )
    assert response.status_code == 200 and response.json() == {"messages": [{"id": "wamid.1"}]}
    assert response.headers.get_list("x-trace") == ["a", "b"]
    assert b'{"to":"49"}' in seen[0] and b"authorization: bearer t" in seen[0].lower()


async def test_a_refused_connection_is_a_connect_error() -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport(verify=False)) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(f"http://127.0.0.1:{free_port()}/v20.0/1/messages", json={})


async def test_a_request_taken_and_never_answered_is_a_read_error_not_a_connect_error(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.close()

    url = await serve(hang_up)
    async with httpx.AsyncClient(transport=AiohttpTransport(verify=False)) as client:
        with pytest.raises(httpx.HTTPError) as raised:
            await client.post(f"{url}/v20.0/1/messages", json={})
    assert not isinstance(raised.value, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


async def test_a_slow_answer_is_a_read_timeout(serve: Callable[[Handler], Awaitable[str]]) -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(2)
        writer.close()

    url = await serve(stall)
    async with httpx.AsyncClient(transport=AiohttpTransport(verify=False), timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(f"{url}/v20.0/1/messages", json={})
