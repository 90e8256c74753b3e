"""Inbound media in S3-compatible storage, against a real S3 API server (moto's, on a local port): a simulated
customer's image and document land in the bucket as sent (read back from the server itself, not through the
app), are served back whole and by range to their tenant only, and a bucket that is missing for a while
delays a download instead of losing it.

moto is a declared test dependency (the `test` extra): if it is missing, this module fails to import."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import boto3  # type: ignore[import-untyped]  # no stubs; only a test reads the bucket with it
import httpx
import pytest
from moto.server import ThreadedMotoServer

from pywhatsapp.adapters.media.object_storage import ObjectMediaStorage
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.adapters.whatsapp.simulator import SimulatorSettings
from tests.integration.conftest import add_tenant_with_user, make_settings, token_for
from tests.integration.test_inbound_media import (
    APP_SECRET,
    PDF,
    PHONE_NUMBER_ID,
    PNG,
    VOICE,
    Stack,
)
from tests.support.live_server import LiveServer
from tests.support.simulator import SimulatorServer

pytestmark = pytest.mark.postgres
REGION = "us-east-1"
PREFIX = "media"
KEY_ID, SECRET = "test-key-id", "test-secret-key"


@dataclass
class S3Server:
    """moto's S3 server, spoken to with boto3: what is really in a bucket, not what the app says."""

    endpoint: str
    client: Any

    def create_bucket(self, bucket: str) -> None:
        self.client.create_bucket(Bucket=bucket)

    def delete_bucket(self, bucket: str) -> None:
        self.client.delete_bucket(Bucket=bucket)

    def keys(self, bucket: str) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def get(self, bucket: str, key: str) -> tuple[bytes, str] | None:
        """The object's bytes and content type; None if there is no such object."""
        try:
            found = self.client.get_object(Bucket=bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        return found["Body"].read(), found["ContentType"]


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    try:
        yield S3Server(endpoint, client)
    finally:
        client.close()
        server.stop()


@pytest.fixture
def bucket(s3: S3Server) -> str:
    """A bucket of this test's own, created empty."""
    name = f"inbound-{uuid4().hex[:12]}"
    s3.create_bucket(name)
    return name


def s3_settings(s3: S3Server, bucket: str) -> dict[str, str]:
    return {
        "MEDIA_STORAGE_URL": f"s3://{bucket}/{PREFIX}",
        "MEDIA_S3_ENDPOINT": s3.endpoint,
        "MEDIA_S3_REGION": REGION,
        "MEDIA_S3_ACCESS_KEY_ID": KEY_ID,
        "MEDIA_S3_SECRET_ACCESS_KEY": SECRET,
    }


@pytest.fixture
def servers(
    database_url: str, tmp_path: Path, s3: S3Server, bucket: str
) -> Iterator[tuple[SimulatorServer, LiveServer]]:
    with SimulatorServer(SimulatorSettings(app_secret=APP_SECRET)) as simulator:
        settings = make_settings(
            database_url,
            GRAPH_API_URL=simulator.url,
            WHATSAPP_TOKEN="x",
            PYWHATSAPP_DATA_DIR=str(tmp_path),
            MEDIA_RETRY_SECONDS="0.2",
            # Enough room (0.2 s doubling: about 25 s) for the missing-bucket test to create it in time.
            MEDIA_DOWNLOAD_ATTEMPTS="8",
            MEDIA_DOWNLOADS_IN_SERVE="true",
            **s3_settings(s3, bucket),
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


def key_of(stack: Stack, message_id: str) -> str:
    return f"{PREFIX}/{stack.tenant_id}/{UUID(message_id)}"


async def test_an_image_and_a_document_are_stored_in_the_bucket_and_served_back_as_sent(
    stack: Stack, s3: S3Server, bucket: str
) -> None:
    image = stack.send("image", {"mime_type": "image/png", "caption": "Our shop"}, PNG)
    document = stack.send("document", {"mime_type": "application/pdf", "filename": "Angebot März.pdf"}, PDF)

    keys = []
    for wamid, data, content_type in ((image, PNG, "image/png"), (document, PDF, "application/pdf")):
        message = await stack.settled(wamid)
        assert message["media_state"] == "stored" and message["media_error"] is None, message
        key = key_of(stack, message["id"])
        keys.append(key)

        in_bucket = s3.get(bucket, key)  # straight from the S3 server, not through the app
        assert in_bucket is not None, f"no object {key} in the bucket"
        assert in_bucket == (data, content_type)

        served = await stack.media(message["id"])
        assert served.status_code == 200, served.text
        assert served.content == data
        assert served.headers["content-type"] == content_type
        assert served.headers["accept-ranges"] == "bytes"
        # The sha256 the app recorded (its ETag) is that of the object in the bucket.
        assert served.headers["etag"] == f'"{hashlib.sha256(in_bucket[0]).hexdigest()}"'

    assert s3.keys(bucket) == sorted(keys), "one object per file, under the URL's prefix"
    assert not (stack.data_dir / "media").exists(), "nothing went to the local disk"

    pdf = await stack.media((await stack.message(document))["id"])
    assert "Angebot%20M%C3%A4rz.pdf" in pdf.headers["content-disposition"]
    thumbnail = await stack.media((await stack.message(image))["id"], params={"thumbnail": "1"})
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"


async def test_ranges_of_a_voice_note_in_the_bucket_and_another_tenant_gets_404(
    stack: Stack, s3: S3Server, bucket: str, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    wamid = stack.send("audio", {"mime_type": "audio/ogg; codecs=opus", "voice": True}, VOICE)
    message = await stack.settled(wamid)
    assert message["media_state"] == "stored", message
    assert s3.get(bucket, key_of(stack, message["id"])) == (VOICE, "audio/ogg; codecs=opus")

    part = await stack.media(message["id"], headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206, part.text
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(VOICE)}"
    assert part.content == VOICE[1000:2000] and part.headers["content-length"] == "1000"
    assert part.headers["content-type"] == "audio/ogg; codecs=opus"
    tail = await stack.media(message["id"], headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == VOICE[-100:]
    rest = await stack.media(message["id"], headers={"Range": f"bytes={len(VOICE) - 10}-"})
    assert rest.status_code == 206 and rest.content == VOICE[-10:]
    beyond = await stack.media(message["id"], headers={"Range": f"bytes={len(VOICE)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(VOICE)}"

    stranger = await add_tenant_with_user(uow_factory, "globex")
    other = {"Authorization": f"Bearer {await token_for(stack.client, stranger.username)}"}
    foreign = await stack.client.get(f"/api/v1/messages/{message['id']}/media", headers=other)
    assert foreign.status_code == 404 and foreign.json()["status"] == "error"
    assert VOICE[:100] not in foreign.content
    anonymous = await stack.client.get(f"/api/v1/messages/{message['id']}/media")
    assert anonymous.status_code == 401


async def test_a_missing_bucket_delays_the_download_until_it_exists(
    stack: Stack, s3: S3Server, bucket: str
) -> None:
    s3.delete_bucket(bucket)
    wamid = stack.send("document", {"mime_type": "application/pdf", "filename": "a.pdf"}, PDF)

    deadline = time.monotonic() + 20
    message = await stack.message(wamid)
    while message["media_error"] is None:  # until an attempt has met the missing bucket
        assert time.monotonic() < deadline, f"no attempt was made: {message}"
        await asyncio.sleep(0.05)
        message = await stack.message(wamid)
    assert message["media_state"] == "pending" and "NoSuchBucket" in message["media_error"], message
    s3.create_bucket(bucket)

    stored = await stack.settled(wamid, timeout=30)
    assert stored["media_state"] == "stored" and stored["media_error"] is None, stored
    assert s3.get(bucket, key_of(stack, stored["id"])) == (PDF, "application/pdf")
    assert (await stack.media(stored["id"])).content == PDF


async def test_the_adapter_saves_reads_any_range_and_deletes_in_the_bucket(s3: S3Server, bucket: str) -> None:
    storage = ObjectMediaStorage(
        f"s3://{bucket}/{PREFIX}",
        {"endpoint": s3.endpoint, "region": REGION, "access_key_id": KEY_ID, "secret_access_key": SECRET},
    )
    assert storage.scheme == "s3"
    await storage.save("tenant/message", PDF, "application/pdf")
    assert s3.get(bucket, f"{PREFIX}/tenant/message") == (PDF, "application/pdf")
    assert await storage.read("tenant/message") == PDF
    assert await storage.read("tenant/message", 10, 19) == PDF[10:20]
    assert await storage.read("tenant/message", len(PDF) - 5) == PDF[-5:]  # open-ended
    await storage.delete("tenant/message")
    assert s3.get(bucket, f"{PREFIX}/tenant/message") is None
    assert s3.keys(bucket) == []
