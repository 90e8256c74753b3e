"""Point PyWA's HTTP client at another Graph API host, such as the Cloud API simulator.

PyWA has no base-URL option: `GraphAPI.__init__` overwrites the session's `base_url` with
`https://graph.facebook.com/v{api_version}` and every call is a relative path under it (media downloads
use the absolute URL Meta returned). So instead of changing the URL PyWA builds, the transport underneath
rewrites every request's scheme, host and port (and Host header) to the target and keeps path and query:

    session = graph_http_client("http://127.0.0.1:8181")
    wa = pywa_async.WhatsApp(phone_id="1122334455667", token="any-token", session=session)
"""

from __future__ import annotations

import importlib

import httpx

from pywhatsapp.adapters.whatsapp.aiohttp_transport import AiohttpTransport

GRAPH_API_URL = "https://graph.facebook.com"
MAX_CONNECTIONS = 512
"""Per channel: a campaign at 1,000 sends a second, Meta answering in 0.1-0.4 s, keeps ~400 in flight."""


class RewritingTransport(httpx.AsyncBaseTransport):
    """Sends every request to `target_base_url`, keeping its path and query.

    A path in the target (`http://proxy:8080/graph`) is put in front of the request's path.
    """

    def __init__(self, target_base_url: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        target = httpx.URL(target_base_url)
        if target.scheme not in ("http", "https") or not target.host:
            raise ValueError(f"not an http(s) base URL: {target_base_url!r}")
        self._scheme = target.scheme
        self._host = target.host
        self._port = target.port
        self._netloc = target.netloc.decode("ascii")
        self._prefix = target.raw_path.split(b"?", 1)[0].rstrip(b"/")
        # Every request goes to the target, so TLS settings only matter for an https target (and loading
        # the CA bundle for a plain-http simulator would be wasted time).
        self._inner = (
            inner if inner is not None else httpx.AsyncHTTPTransport(verify=target.scheme == "https")
        )

    @property
    def target(self) -> str:
        return f"{self._scheme}://{self._netloc}{self._prefix.decode('ascii')}"

    def rewrite(self, url: httpx.URL) -> httpx.URL:
        return url.copy_with(
            scheme=self._scheme, host=self._host, port=self._port, raw_path=self._prefix + url.raw_path
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = self.rewrite(request.url)
        request.headers["Host"] = self._netloc
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


# What a first request imports (tens of milliseconds): loaded ahead of a campaign, so that the first sends
# are not held back and then reach Meta bunched together.
FIRST_REQUEST_MODULES = ("aiohttp.client_reqrep", "aiohttp.connector", "aiohttp.http_parser")


def load_request_machinery() -> None:
    for module in FIRST_REQUEST_MODULES:
        importlib.import_module(module)


def is_meta_graph_api(graph_api_url: str) -> bool:
    url = httpx.URL(graph_api_url)
    return url.scheme == "https" and url.host == "graph.facebook.com" and url.port in (None, 443)


def graph_http_client(graph_api_url: str, *, timeout: float = 30) -> httpx.AsyncClient:
    """The `session` to give `pywa_async.WhatsApp`: plain for Meta, rewritten to any other Graph API URL,
    moving its bytes through aiohttp's pool (see `aiohttp_transport`).

    Each WhatsApp client needs a client of its own (PyWA refuses a session that already carries a token).
    """
    # TLS is verified for an https target; a plain-http simulator skips loading the CA bundle.
    inner = AiohttpTransport(
        verify=httpx.URL(graph_api_url).scheme == "https", max_connections=MAX_CONNECTIONS
    )
    if is_meta_graph_api(graph_api_url):
        return httpx.AsyncClient(timeout=timeout, transport=inner)
    return httpx.AsyncClient(timeout=timeout, transport=RewritingTransport(graph_api_url, inner))
