"""Health checks, the OpenAPI document, and the envelope on every answer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pywhatsapp.entrypoints.settings import Settings
from tests.integration.conftest import make_settings
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.postgres


async def test_healthz_and_readyz_answer_when_the_database_is_up(client: httpx.AsyncClient) -> None:
    alive = await client.get("/healthz")
    assert alive.json() == {"data": {"status": "alive"}, "message": "Success", "status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["data"]["database"] == "ok"


@pytest.fixture
def server_without_database() -> Iterator[LiveServer]:
    settings: Settings = make_settings("postgresql://postgres@127.0.0.1:1/nowhere")
    with LiveServer(settings) as server:
        yield server


async def test_without_a_database_the_app_is_alive_but_not_ready(server_without_database: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server_without_database.url, timeout=30) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "data": None,
            "message": "The database is unavailable; try again shortly",
            "status": "error",
        }
        login = await client.post("/api/v1/auth/login", json={"username": "admin", "password": "admin@123"})
        assert login.status_code == 503
        assert login.json()["status"] == "error" and "try again" in login.json()["message"]


async def test_the_openapi_document_describes_the_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    paths = spec["paths"]
    for path in (
        "/api/v1/auth/login",
        "/api/v1/messages",
        "/api/v1/conversations",
        "/api/conversations",
        "/api/v1/contacts",
        "/api/v1/groups",
        "/api/v1/templates",
        "/api/v1/campaigns",
        "/api/v1/webhooks",
        "/api/v1/channels",
        "/api/v1/audiences",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
    assert spec["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert paths["/api/v1/auth/login"]["post"]["security"] == [{}]  # no credential needed
    contacts = paths["/api/v1/contacts"]["get"]
    assert {p["name"] for p in contacts["parameters"]} >= {"limit", "offset"}
    assert "login" not in str(paths.get("/login", ""))  # HTML pages stay out of the API document
    ui = await client.get("/docs")
    assert ui.status_code == 200 and "swagger" in ui.text.lower()


async def test_unknown_routes_and_methods_answer_in_the_envelope(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["status"] == "error" and missing.json()["data"] is None
    wrong_method = await client.put("/healthz")
    assert wrong_method.status_code == 405 and wrong_method.json()["status"] == "error"
