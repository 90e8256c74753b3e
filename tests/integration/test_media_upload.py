"""Uploading a file to send: checked before Meta is called, then sent by its media id."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from tests.integration.conftest import add_tenant_with_user, make_settings, token_for
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048


@pytest.fixture
def stack(database_url: str) -> Iterator[tuple[SimulatorServer, LiveServer]]:
    with (
        SimulatorServer(SimulatorSettings(app_secret="s3cret")) as simulator,
        LiveServer(make_settings(database_url, GRAPH_API_URL=simulator.url, WHATSAPP_TOKEN="x")) as app,
    ):
        simulator.control("POST", "config", json={"webhook_url": f"{app.url}/webhooks"})
        yield simulator, app


async def test_an_uploaded_image_is_sent_by_its_media_id_and_bad_files_never_reach_meta(
    stack: tuple[SimulatorServer, LiveServer], uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    simulator, app = stack
    member = await add_tenant_with_user(uow_factory, "acme")
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {await token_for(client, member.username)}"}
        channel = await client.post(
            "/api/v1/channels",
            headers=headers,
            json={"phone_number_id": "1122334455667", "access_token": "tok", "app_secret": "s3cret"},
        )
        assert channel.status_code == 201
        simulator.control(
            "POST", "customers/15551230000/messages", json={"type": "text", "text": {"body": "hi"}}
        )
        simulator.settle()

        uploaded = await client.post(
            "/api/v1/media", headers=headers, files={"data": ("cat.png", PNG, "image/png")}
        )
        assert uploaded.status_code == 201, uploaded.text
        media = uploaded.json()["data"]
        assert media["kind"] == "image" and media["size"] == len(PNG)
        stored = simulator.control("GET", "media").json()
        assert any(item["id"] == media["id"] for item in stored)

        sent = await client.post(
            "/api/v1/messages",
            headers=headers,
            json={"to": "15551230000", "type": "image", "image": {"id": media["id"], "caption": "A cat"}},
        )
        assert sent.status_code == 201, sent.text
        last = simulator.control("GET", "sent").json()[-1]
        assert last["type"] == "image" and last["body"]["image"]["id"] == media["id"]

        uploads_before = len(simulator.control("GET", "media").json())
        too_big = b"\x89PNG" + b"\x00" * (5 * 1024 * 1024 + 10)
        for files, expected in [
            ({"data": ("big.png", too_big, "image/png")}, "at most"),
            ({"data": ("virus.exe", b"MZ\x90", "application/x-msdownload")}, "does not accept"),
            ({"data": ("empty.png", b"", "image/png")}, "empty"),
        ]:
            refused = await client.post("/api/v1/media", headers=headers, files=files)
            assert refused.status_code == 422, refused.text
            assert expected in refused.json()["message"]
        assert len(simulator.control("GET", "media").json()) == uploads_before, "nothing reached Meta"
