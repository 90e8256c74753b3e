"""Inbound media that is never lost: a simulated customer's image, voice note and document are downloaded
after the webhook is answered, checked, stored and served back (whole, by range, as a thumbnail), through
failures of Meta's media endpoint, replays, refusals and tenants."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from click.testing import CliRunner
from PIL import Image

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from pywhatsapp.domain.media.inbound import MediaState
from pywhatsapp.entrypoints.cli.main import cli
from pywhatsapp.entrypoints.container import build_container
from tests.integration.conftest import add_tenant_with_user, make_settings, token_for
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres
APP_SECRET = "media-app-secret"
PHONE_NUMBER_ID = "1122334455667"
CUSTOMER = "15551230000"
MAX_ATTEMPTS = 4


def png_bytes() -> bytes:
    image = Image.new("RGB", (640, 480), (200, 30, 90))
    for x in range(0, 640, 16):
        image.putpixel((x, x % 480), (0, 255, 0))
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


PNG = png_bytes()
VOICE = os.urandom(48_000)
PDF = b"%PDF-1.4\n" + os.urandom(20_000) + b"\n%%EOF\n"


@dataclass
class Stack:
    simulator: SimulatorServer
    app: LiveServer
    data_dir: Path
    client: httpx.AsyncClient
    headers: dict[str, str]
    tenant_id: UUID

    def send(self, typ: str, media: dict[str, Any], data: bytes) -> str:
        """A simulated customer sends a file; the wamid."""
        body = {"type": typ, typ: {**media, "data_base64": base64.b64encode(data).decode()}, "name": "Ana"}
        answer = self.simulator.control("POST", f"customers/{CUSTOMER}/messages", json=body)
        answer.raise_for_status()
        assert answer.json()["delivered"], answer.text
        wamid: str = answer.json()["wamid"]
        return wamid

    async def message(self, wamid: str) -> dict[str, Any]:
        answer = await self.client.get("/api/v1/messages", headers=self.headers, params={"wa_id": CUSTOMER})
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = next(m for m in answer.json()["data"]["items"] if m["wamid"] == wamid)
        return found

    async def settled(self, wamid: str, timeout: float = 20.0) -> dict[str, Any]:
        """The message once its file is stored, refused or given up."""
        deadline = time.monotonic() + timeout
        while True:
            message = await self.message(wamid)
            if message["media_state"] != MediaState.PENDING:
                return message
            assert time.monotonic() < deadline, f"media still pending: {message}"
            await asyncio.sleep(0.1)

    async def media(self, message_id: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.get(f"/api/v1/messages/{message_id}/media", headers=headers, **kwargs)

    def stored_files(self) -> list[Path]:
        return [path for path in (self.data_dir / "media").rglob("*") if path.is_file()]


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[tuple[SimulatorServer, LiveServer]]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET)) as simulator:
        settings = make_settings(
            database_url,
            GRAPH_API_URL=simulator.url,
            WHATSAPP_TOKEN="x",
            PYWHATSAPP_DATA_DIR=str(tmp_path),
            MEDIA_RETRY_SECONDS="0.2",
            MEDIA_DOWNLOAD_ATTEMPTS=str(MAX_ATTEMPTS),
            MEDIA_DOWNLOADS_IN_SERVE="true",
        )
        with LiveServer(settings) as app:
            simulator.control("POST", "config", json={"webhook_url": f"{app.url}/webhooks"})
            yield simulator, app


@pytest.fixture
async def stack(
    servers: tuple[SimulatorServer, LiveServer], uow_factory: SqlAlchemyUnitOfWorkFactory, tmp_path: Path
) -> AsyncIterator[Stack]:
    simulator, app = servers
    member = await add_tenant_with_user(uow_factory, "acme")
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {await token_for(client, member.username)}"}
        channel = await client.post(
            "/api/v1/channels",
            headers=headers,
            json={"phone_number_id": PHONE_NUMBER_ID, "access_token": "tok", "app_secret": APP_SECRET},
        )
        assert channel.status_code == 201, channel.text
        app.container.channel_directory().forget()
        yield Stack(simulator, app, tmp_path, client, headers, member.tenant_id)


async def test_an_image_a_voice_note_and_a_document_are_stored_and_served_back_as_sent(stack: Stack) -> None:
    image = stack.send("image", {"mime_type": "image/png", "caption": "Our shop"}, PNG)
    voice = stack.send("audio", {"mime_type": "audio/ogg; codecs=opus", "voice": True}, VOICE)
    document = stack.send("document", {"mime_type": "application/pdf", "filename": "Angebot März.pdf"}, PDF)

    for wamid, data, content_type in (
        (image, PNG, "image/png"),
        (voice, VOICE, "audio/ogg; codecs=opus"),
        (document, PDF, "application/pdf"),
    ):
        message = await stack.settled(wamid)
        assert message["media_state"] == "stored" and message["media_error"] is None, message
        served = await stack.media(message["id"])
        assert served.status_code == 200, served.text
        assert served.content == data
        assert served.headers["content-type"] == content_type
        assert served.headers["accept-ranges"] == "bytes"
        assert served.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert len(stack.stored_files()) == 3

    pdf = await stack.media((await stack.message(document))["id"])
    assert pdf.headers["content-disposition"].startswith("attachment; filename=")
    assert "Angebot%20M%C3%A4rz.pdf" in pdf.headers["content-disposition"]

    thumbnail = await stack.media((await stack.message(image))["id"], params={"thumbnail": "1"})
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumbnail.content)) as small:
        assert small.format == "JPEG" and max(small.size) == 320
    not_an_image = await stack.media((await stack.message(voice))["id"], params={"thumbnail": "1"})
    assert not_an_image.status_code == 422 and "images" in not_an_image.json()["message"]


async def test_a_download_that_fails_twice_is_retried_and_stored_once(
    stack: Stack, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    stack.simulator.control("POST", "faults", json={"kind": "http_500", "count": 2, "match": "attachments"})
    wamid = stack.send("image", {"mime_type": "image/png"}, PNG)

    message = await stack.settled(wamid)
    assert message["media_state"] == "stored", message
    assert stack.simulator.control("GET", "faults").json()["pending"] == [], "both faults were met"
    async with uow_factory(stack.tenant_id) as uow:
        media = await uow.media_downloads.for_message(UUID(message["id"]))
    assert media is not None and media.attempts == 3 and media.size == len(PNG)
    assert len(stack.stored_files()) == 1
    assert (await stack.media(message["id"])).content == PNG


async def test_a_replayed_webhook_fetches_media_that_was_given_up(stack: Stack) -> None:
    stack.simulator.control(
        "POST", "faults", json={"kind": "http_500", "count": MAX_ATTEMPTS, "match": "attachments"}
    )
    wamid = stack.send("audio", {"mime_type": "audio/ogg", "voice": True}, VOICE)

    given_up = await stack.settled(wamid)
    assert given_up["media_state"] == "failed", given_up
    assert f"gave up after {MAX_ATTEMPTS} attempts" in given_up["media_error"]
    missing = await stack.media(given_up["id"])
    assert missing.status_code == 404
    assert missing.json()["status"] == "error" and "state: failed" in missing.json()["message"]
    assert stack.stored_files() == []

    log = await stack.client.get("/api/v1/webhooks", headers=stack.headers)
    entry = next(
        e
        for e in log.json()["data"]["items"]
        if e["body"]["entry"][0]["changes"][0]["value"]["messages"][0]["id"] == wamid
    )
    replayed = await stack.client.post(f"/api/v1/webhooks/{entry['id']}/replay", headers=stack.headers)
    assert replayed.status_code == 200, replayed.text

    message = await stack.settled(wamid)
    assert message["media_state"] == "stored" and message["id"] == given_up["id"], message
    assert (await stack.media(message["id"])).content == VOICE
    # A replay of a message whose file is stored changes nothing.
    again = await stack.client.post(f"/api/v1/webhooks/{entry['id']}/replay", headers=stack.headers)
    assert again.status_code == 200
    assert (await stack.message(wamid))["media_state"] == "stored"
    assert len(stack.stored_files()) == 1


async def test_a_mismatched_hash_and_an_oversized_file_are_refused_and_recorded(stack: Stack) -> None:
    wrong_hash = base64.b64encode(hashlib.sha256(b"not this file").digest()).decode()
    forged = stack.send("image", {"mime_type": "image/png", "sha256": wrong_hash}, PNG)
    oversized = stack.send("sticker", {"mime_type": "image/webp"}, os.urandom(600 * 1024))

    refused = await stack.settled(forged)
    assert refused["media_state"] == "refused" and "sha256 mismatch" in refused["media_error"], refused
    too_big = await stack.settled(oversized)
    assert too_big["media_state"] == "refused" and "too large" in too_big["media_error"], too_big
    for message in (refused, too_big):
        answer = await stack.media(message["id"])
        assert answer.status_code == 404 and "state: refused" in answer.json()["message"]
    assert stack.stored_files() == []


async def test_ranges_answer_206_with_the_slice_and_another_tenant_gets_404(
    stack: Stack, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    wamid = stack.send("audio", {"mime_type": "audio/ogg; codecs=opus", "voice": True}, VOICE)
    message = await stack.settled(wamid)
    assert message["media_state"] == "stored"

    part = await stack.media(message["id"], headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(VOICE)}"
    assert part.content == VOICE[1000:2000] and part.headers["content-length"] == "1000"
    tail = await stack.media(message["id"], headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == VOICE[-100:]
    beyond = await stack.media(message["id"], headers={"Range": f"bytes={len(VOICE)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(VOICE)}"
    assert beyond.json()["status"] == "error"

    stranger = await add_tenant_with_user(uow_factory, "globex")
    other = {"Authorization": f"Bearer {await token_for(stack.client, stranger.username)}"}
    foreign = await stack.client.get(f"/api/v1/messages/{message['id']}/media", headers=other)
    assert foreign.status_code == 404 and foreign.json()["status"] == "error"
    unknown = await stack.media("00000000-0000-0000-0000-000000000001")
    assert unknown.status_code == 404 and "No message" in unknown.json()["message"]
    anonymous = await stack.client.get(f"/api/v1/messages/{message['id']}/media")
    assert anonymous.status_code == 401

    text = stack.simulator.control(
        "POST", f"customers/{CUSTOMER}/messages", json={"type": "text", "text": {"body": "hi"}}
    ).json()["wamid"]
    without = await stack.media((await stack.message(text))["id"])
    assert without.status_code == 404 and "has no media" in without.json()["message"]


def test_pywhatsapp_worker_downloads_queued_media_without_the_web_server(
    empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with SimulatorServer(SimulatorSettings()) as simulator:
        overrides = {
            "WHATSAPP_TOKEN": "tok",
            "WHATSAPP_PHONE_ID": PHONE_NUMBER_ID,
            "GRAPH_API_URL": simulator.url,
            "PYWHATSAPP_DATA_DIR": str(tmp_path / "data"),
            "VALIDATE_UPDATES": "false",
        }
        settings = make_settings(empty_database, **overrides)
        env = {
            "DATABASE_URL": empty_database,
            "PASSWORD_HASH_ROUNDS": "4",
            "SESSION_SECRET_KEY": settings.SESSION_SECRET_KEY,
            **overrides,
        }
        assert CliRunner().invoke(cli, ["setup"], env=env, catch_exceptions=False).exit_code == 0
        # The customer's message reaches no server: its webhook body is ingested here, as the app would.
        document = {
            "mime_type": "application/pdf",
            "filename": "a.pdf",
            "data_base64": base64.b64encode(PDF).decode(),
        }
        body = {"type": "document", "document": document}
        answer = simulator.control("POST", f"customers/{CUSTOMER}/messages", json=body).json()

        async def ingest() -> None:
            container = build_container(settings)
            container.init_resources()
            await container.ingest_webhook().execute(json.dumps(answer["payload"]).encode(), None)
            await container.engine().dispose()
            container.shutdown_resources()

        asyncio.run(ingest())
        result = CliRunner().invoke(cli, ["worker", "--once"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "and 1 media downloads" in result.output
    (stored,) = [path for path in (tmp_path / "data" / "media").rglob("*") if path.is_file()]
    assert stored.read_bytes() == PDF
