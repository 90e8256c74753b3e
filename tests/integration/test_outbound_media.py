"""Media the business sends is kept like a customer's: a file uploaded for sending is stored once (bytes, mime
type, size, sha256), and each message sent with its media id records it as its stored file, so
`GET /api/v1/messages/{id}/media` gives it back (whole, by range, as a thumbnail) to its tenant only. Media
sent by link stays a link."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from PIL import Image

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from pywhatsapp.domain.media.inbound import MediaState
from tests.integration.conftest import add_tenant_with_user, make_settings, token_for
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres
APP_SECRET = "outbound-media-secret"
PHONE_NUMBER_ID = "1122334455667"
CUSTOMER = "15551230000"


def png_bytes() -> bytes:
    image = Image.new("RGB", (800, 600), (20, 90, 200))
    for x in range(0, 800, 8):
        image.putpixel((x, x % 600), (255, 255, 0))
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


PNG = png_bytes()
PDF = b"%PDF-1.4\n" + os.urandom(30_000) + b"\n%%EOF\n"


@dataclass
class Stack:
    simulator: SimulatorServer
    data_dir: Path
    client: httpx.AsyncClient
    headers: dict[str, str]
    tenant_id: UUID

    async def upload(self, name: str, data: bytes, mime_type: str) -> dict[str, Any]:
        answer = await self.client.post(
            "/api/v1/media", headers=self.headers, files={"data": (name, data, mime_type)}
        )
        assert answer.status_code == 201, answer.text
        uploaded: dict[str, Any] = answer.json()["data"]
        return uploaded

    async def send(self, typ: str, media: dict[str, Any]) -> dict[str, Any]:
        answer = await self.client.post(
            "/api/v1/messages", headers=self.headers, json={"to": CUSTOMER, "type": typ, typ: media}
        )
        assert answer.status_code == 201, answer.text
        message: dict[str, Any] = answer.json()["data"]
        return message

    async def media(self, message_id: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.get(f"/api/v1/messages/{message_id}/media", headers=headers, **kwargs)

    def stored_files(self) -> list[Path]:
        return [path for path in (self.data_dir / "media").rglob("*") if path.is_file()]


@pytest.fixture
def servers(database_url: str, tmp_path: Path) -> Iterator[tuple[SimulatorServer, LiveServer]]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET)) as simulator:
        settings = make_settings(
            database_url, GRAPH_API_URL=simulator.url, WHATSAPP_TOKEN="x", PYWHATSAPP_DATA_DIR=str(tmp_path)
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
        # The customer writes first: the 24-hour window is open for the files we send back.
        simulator.control(
            "POST", f"customers/{CUSTOMER}/messages", json={"type": "text", "text": {"body": "hi"}}
        )
        simulator.settle()
        yield Stack(simulator, tmp_path, client, headers, member.tenant_id)


async def test_an_uploaded_image_and_pdf_sent_by_media_id_are_served_back_to_their_tenant_only(
    stack: Stack, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    image = await stack.upload("shop.png", PNG, "image/png")
    pdf = await stack.upload("Angebot März.pdf", PDF, "application/pdf")
    assert (image["kind"], pdf["kind"]) == ("image", "document")
    assert len(stack.stored_files()) == 2, "one storage write per upload"

    sent_image = await stack.send("image", {"id": image["id"], "caption": "Our shop"})
    sent_pdf = await stack.send("document", {"id": pdf["id"], "filename": "Angebot März.pdf"})
    for message in (sent_image, sent_pdf):
        assert message["direction"] == "outgoing" and message["media_state"] == "stored", message
    meta = {
        m["body"][m["type"]]["id"]
        for m in stack.simulator.control("GET", "sent").json()
        if m["type"] != "text"
    }
    assert meta == {image["id"], pdf["id"]}, "Meta got the media ids, as before"

    for message, data, content_type in ((sent_image, PNG, "image/png"), (sent_pdf, PDF, "application/pdf")):
        served = await stack.media(message["id"])
        assert served.status_code == 200, served.text
        assert served.content == data
        assert served.headers["content-type"] == content_type
        assert served.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    pdf_answer = await stack.media(sent_pdf["id"])
    assert pdf_answer.headers["content-disposition"].startswith("attachment; filename=")
    assert "Angebot%20M%C3%A4rz.pdf" in pdf_answer.headers["content-disposition"]
    part = await stack.media(sent_pdf["id"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == PDF[100:200]

    thumbnail = await stack.media(sent_image["id"], params={"thumbnail": "1"})
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumbnail.content)) as small:
        assert small.format == "JPEG" and max(small.size) == 320

    # Recorded as an inbound file is: a stored media_files row with the facts, keyed by tenant and media id.
    async with uow_factory(stack.tenant_id) as uow:
        recorded = await uow.media_downloads.for_message(UUID(sent_image["id"]))
    assert recorded is not None and recorded.state is MediaState.STORED
    assert (recorded.media_id, recorded.kind, recorded.mime_type) == (image["id"], "image", "image/png")
    assert recorded.size == len(PNG) and recorded.sha256 == hashlib.sha256(PNG).hexdigest()
    assert recorded.storage_path == f"{stack.tenant_id}/uploads/{image['id']}"

    # The same media id sent again records the same file: no second copy.
    again = await stack.send("image", {"id": image["id"]})
    assert again["media_state"] == "stored"
    assert (await stack.media(again["id"])).content == PNG
    assert len(stack.stored_files()) == 2

    stranger = await add_tenant_with_user(uow_factory, "globex")
    other = {"Authorization": f"Bearer {await token_for(stack.client, stranger.username)}"}
    for message in (sent_image, sent_pdf):
        foreign = await stack.client.get(f"/api/v1/messages/{message['id']}/media", headers=other)
        assert foreign.status_code == 404 and foreign.json()["status"] == "error"
        thumb = await stack.client.get(
            f"/api/v1/messages/{message['id']}/media", headers=other, params={"thumbnail": "1"}
        )
        assert thumb.status_code == 404


async def test_media_sent_by_link_or_by_an_id_the_app_did_not_upload_stays_without_a_stored_file(
    stack: Stack,
) -> None:
    by_link = await stack.send("image", {"link": "https://example.com/cat.png"})
    assert by_link["media_state"] is None
    missing = await stack.media(by_link["id"])
    assert missing.status_code == 404 and "has no media" in missing.json()["message"]

    foreign_id = await stack.send("document", {"id": "998877665544", "filename": "x.pdf"})
    assert foreign_id["media_state"] is None
    assert (await stack.media(foreign_id["id"])).status_code == 404
    assert stack.stored_files() == []
