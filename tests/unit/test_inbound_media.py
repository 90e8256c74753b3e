"""Inbound media's pure rules (hash check, back-off, ranges) and the download round on fakes."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from obstore.store import LocalStore, S3Store

from pywhatsapp.adapters.media.object_storage import ObjectMediaStorage
from pywhatsapp.application.media.fetch_inbound_media import FetchInboundMedia, storage_path
from pywhatsapp.application.media.ports import ClaimedMedia, FetchedMedia
from pywhatsapp.application.messaging.gateway import GatewayUnreachable
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.media.inbound import (
    InboundMedia,
    MediaReference,
    MediaState,
    MediaTooLarge,
    RangeNotSatisfiable,
    RetryPolicy,
    byte_range,
    hash_refusal,
    media_reference,
    sha256_hex,
    size_limit,
)
from pywhatsapp.domain.messaging.message import Direction, Message, MessageStatus
from pywhatsapp.domain.realtime.event import EventType
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.entrypoints.container import build_container
from pywhatsapp.entrypoints.settings import Settings, SettingsError, load_settings
from tests.unit.fakes import FakeUnitOfWorkFactory

DATA = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
DIGEST = hashlib.sha256(DATA).digest()
NOW = datetime(2026, 1, 1, tzinfo=UTC)


# --- the hash Meta announces ------------------------------------------------------------------------------


def test_sha256_is_read_as_hex_or_base64_as_meta_sends_it() -> None:
    assert sha256_hex(DIGEST.hex()) == DIGEST.hex()
    assert sha256_hex(DIGEST.hex().upper()) == DIGEST.hex()
    assert sha256_hex(base64.b64encode(DIGEST).decode()) == DIGEST.hex()
    assert sha256_hex(base64.urlsafe_b64encode(DIGEST).decode().rstrip("=")) == DIGEST.hex()
    assert sha256_hex("abc") is None
    assert sha256_hex(base64.b64encode(b"too short").decode()) is None
    assert sha256_hex(None) is None


@given(st.binary(max_size=64))
def test_any_file_matches_its_own_hash_in_both_encodings(data: bytes) -> None:
    digest = hashlib.sha256(data)
    assert hash_refusal(digest.hexdigest(), digest.hexdigest()) is None
    assert hash_refusal(base64.b64encode(digest.digest()).decode(), digest.hexdigest()) is None


def test_a_file_that_is_not_the_announced_one_is_refused_with_both_hashes() -> None:
    other = hashlib.sha256(b"something else").hexdigest()
    reason = hash_refusal(base64.b64encode(DIGEST).decode(), other)
    assert reason is not None and "mismatch" in reason and DIGEST.hex() in reason and other in reason
    assert "neither hex nor base64" in (hash_refusal("abc", other) or "")
    assert hash_refusal(None, other) is None  # nothing announced, nothing to check


# --- back-off --------------------------------------------------------------------------------------------


def test_back_off_doubles_from_the_first_delay_up_to_the_cap_and_gives_up_at_the_limit() -> None:
    policy = RetryPolicy(max_attempts=6, first_delay=timedelta(seconds=10), max_delay=timedelta(seconds=60))
    delays = [policy.delay_after(attempts).total_seconds() for attempts in range(1, 6)]
    assert delays == [10, 20, 40, 60, 60]
    assert policy.next_attempt(1, NOW) == NOW + timedelta(seconds=10)
    assert policy.next_attempt(5, NOW) == NOW + timedelta(seconds=60)
    assert policy.next_attempt(6, NOW) is None


@given(st.integers(min_value=0, max_value=10_000))
def test_back_off_never_exceeds_the_cap(attempts: int) -> None:
    policy = RetryPolicy(max_attempts=10_001)
    assert timedelta(0) < policy.delay_after(attempts) <= policy.max_delay


# --- what a message refers to ----------------------------------------------------------------------------


def test_media_messages_name_their_file_and_voice_follows_the_audio_rules() -> None:
    image = media_reference("image", {"id": "123", "mime_type": "image/jpeg", "sha256": "x", "caption": "c"})
    assert image == MediaReference(media_id="123", kind="image", mime_type="image/jpeg", sha256="x")
    voice = media_reference("voice", {"id": 77, "mime_type": "audio/ogg; codecs=opus"})
    assert voice is not None and voice.kind == "audio" and voice.media_id == "77"
    document = media_reference("document", {"id": "9", "filename": "offer.pdf"})
    assert document is not None and document.filename == "offer.pdf"
    assert media_reference("text", {"body": "hi"}) is None
    assert media_reference("image", {"link": "https://example.com/a.jpg"}) is None
    assert media_reference("image", {"id": True}) is None
    assert size_limit("sticker") == 500 * 1024 and size_limit("audio") == 16 * 1024 * 1024


# --- byte ranges -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=900-5000", (900, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=5-3", None),
        ("bytes=0-1,5-6", None),
        ("items=0-5", None),
        ("bytes=-", None),
    ],
)
def test_byte_ranges_follow_rfc_9110(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_a_range_past_the_end_is_not_satisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, 1000)


# --- the download round ----------------------------------------------------------------------------------


@dataclass
class FakeSource:
    data: bytes = DATA
    failures: int = 0
    declared_size: int | None = None
    calls: int = 0

    async def fetch_media(self, channel: Channel, media_id: str, *, max_bytes: int) -> FetchedMedia:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise GatewayUnreachable("download: ConnectError")
        if (self.declared_size or len(self.data)) > max_bytes:
            raise MediaTooLarge(self.declared_size or len(self.data), max_bytes)
        return FetchedMedia(self.data, "image/png", hashlib.sha256(self.data).hexdigest())


@dataclass
class FakeStorage:
    files: dict[str, bytes] = field(default_factory=dict)
    scheme: str = "memory"

    async def save(self, path: str, data: bytes, content_type: str) -> None:
        self.files[path] = data

    async def read(self, path: str, first: int | None = None, last: int | None = None) -> bytes:
        data = self.files[path]
        return data if first is None else data[first : (last or len(data) - 1) + 1]

    async def delete(self, path: str) -> None:
        self.files.pop(path, None)


@dataclass
class FakeClaims:
    factory: FakeUnitOfWorkFactory
    channel: Channel

    async def claim(self, limit: int, lease: timedelta) -> list[ClaimedMedia]:
        # What the SQL claim does: due pending files, their attempt counted, leased.
        claimed = []
        for media in self.factory.store.records["media_files"].values():
            if media.state is MediaState.PENDING and media.next_attempt_at <= datetime.now(UTC):
                media.attempts += 1
                media.next_attempt_at = datetime.now(UTC) + lease
                claimed.append(ClaimedMedia(InboundMedia(**vars(media)), self.channel))
        return claimed[:limit]


async def _queued(factory: FakeUnitOfWorkFactory, sha256: str | None, kind: str = "image") -> Message:
    tenant = factory.put_tenant(Tenant(name="Acme", slug="acme"))
    channel = Channel(tenant_id=tenant.id, phone_number_id="1", access_token="t")
    factory.put_record("channels", channel)
    message = Message(
        tenant_id=tenant.id, direction=Direction.INCOMING, type=kind, wa_id="15550001", wamid="wamid.1"
    )
    message.status = MessageStatus.RECEIVED
    async with factory(tenant.id) as uow:
        await uow.inbox.add_message(message)
        await uow.media_downloads.request(
            message.id,
            channel.id,
            MediaReference(media_id="m1", kind=kind, mime_type="image/png", sha256=sha256),
        )
        await uow.commit()
    return message


def _fetcher(factory: FakeUnitOfWorkFactory, source: FakeSource, storage: FakeStorage) -> FetchInboundMedia:
    channel = factory.committed("channels")[0]
    policy = RetryPolicy(max_attempts=4, first_delay=timedelta(0), max_delay=timedelta(0))
    return FetchInboundMedia(factory, lambda: FakeClaims(factory, channel), source, storage, policy)


async def _media(factory: FakeUnitOfWorkFactory) -> InboundMedia:
    (media,) = factory.committed("media_files")
    assert isinstance(media, InboundMedia)
    return media


async def test_a_queued_file_is_stored_once_with_its_facts_and_announced() -> None:
    factory, source, storage = FakeUnitOfWorkFactory(), FakeSource(failures=2), FakeStorage()
    message = await _queued(factory, base64.b64encode(DIGEST).decode())
    fetch = _fetcher(factory, source, storage)
    for _ in range(5):
        await fetch.run_once()
    media = await _media(factory)
    assert media.state is MediaState.STORED and media.attempts == 3 and source.calls == 3
    assert media.size == len(DATA) and media.sha256 == DIGEST.hex() and media.mime_type == "image/png"
    assert storage.files == {storage_path(media): DATA}
    (stored_message,) = factory.committed("messages")
    assert stored_message.id == message.id and stored_message.media_state == "stored"
    assert [e.type for e in factory.published] == [EventType.MESSAGE_STATUS]
    assert factory.published[0].data["media_state"] == "stored"


async def test_a_mismatched_hash_is_refused_and_says_why() -> None:
    factory, storage = FakeUnitOfWorkFactory(), FakeStorage()
    await _queued(factory, hashlib.sha256(b"another file").hexdigest())
    await _fetcher(factory, FakeSource(), storage).run_once()
    media = await _media(factory)
    assert media.state is MediaState.REFUSED and "mismatch" in (media.last_error or "")
    assert storage.files == {}
    assert "mismatch" in (factory.committed("messages")[0].media_error or "")


async def test_a_file_too_large_for_its_kind_is_refused_without_retries() -> None:
    factory, source = FakeUnitOfWorkFactory(), FakeSource(declared_size=600 * 1024)
    await _queued(factory, None, kind="sticker")
    fetch = _fetcher(factory, source, FakeStorage())
    await fetch.run_once()
    await fetch.run_once()
    media = await _media(factory)
    assert media.state is MediaState.REFUSED and "too large" in (media.last_error or "")
    assert source.calls == 1


async def test_downloads_that_keep_failing_are_given_up_and_a_new_request_queues_them_again() -> None:
    factory, source = FakeUnitOfWorkFactory(), FakeSource(failures=10)
    message = await _queued(factory, None)
    fetch = _fetcher(factory, source, FakeStorage())
    for _ in range(6):
        await fetch.run_once()
    media = await _media(factory)
    assert media.state is MediaState.FAILED and media.attempts == 4 and source.calls == 4
    assert "gave up after 4 attempts" in (media.last_error or "")
    async with factory(message.tenant_id) as uow:
        reference = MediaReference(media_id="m2", kind="image")
        assert await uow.media_downloads.request(message.id, uuid4(), reference)
        await uow.commit()
    media = await _media(factory)
    assert media.state is MediaState.PENDING and media.attempts == 0 and media.media_id == "m2"
    async with factory(message.tenant_id) as uow:
        assert not await uow.media_downloads.request(message.id, uuid4(), reference)  # already queued


# --- where files go --------------------------------------------------------------------------------------


def _settings(**env: str) -> Settings:
    return load_settings({"DATABASE_URL": "postgresql://u@127.0.0.1:1/db", **env}, env_file=None)


def test_files_go_under_the_data_dir_by_default_and_to_s3_by_configuration(tmp_path: Path) -> None:
    local = ObjectMediaStorage(_settings(PYWHATSAPP_DATA_DIR=str(tmp_path)).media_storage_url)
    assert local.scheme == "file" and isinstance(local.backend.fs, LocalStore)
    assert (tmp_path / "media").is_dir()

    settings = _settings(
        MEDIA_STORAGE_URL="s3://inbound-media/pywhatsapp",
        MEDIA_S3_ENDPOINT="http://127.0.0.1:9000",
        MEDIA_S3_REGION="eu-central-1",
        MEDIA_S3_ACCESS_KEY_ID="minio",
        MEDIA_S3_SECRET_ACCESS_KEY="minio-secret",
    )
    s3 = build_container(settings).media_storage()
    assert s3.scheme == "s3" and isinstance(s3.backend.fs, S3Store)
    assert s3.backend.fs.prefix == "pywhatsapp"
    assert s3.backend.fs.config == {
        "bucket": "inbound-media",
        "endpoint": "http://127.0.0.1:9000",
        "region": "eu-central-1",
        "access_key_id": "minio",
        "secret_access_key": "minio-secret",
    }


def test_a_storage_url_of_an_unknown_kind_stops_start_up_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="MEDIA_STORAGE_URL"):
        _settings(MEDIA_STORAGE_URL="ftp://files.example.com/media")
    with pytest.raises(SettingsError, match="MEDIA_RETRY_SECONDS"):
        _settings(MEDIA_RETRY_SECONDS="0")
    assert _settings(MEDIA_STORAGE_URL="relative/dir").media_storage_url.startswith("file:///")


async def test_local_storage_saves_reads_ranges_and_deletes(tmp_path: Path) -> None:
    storage = ObjectMediaStorage(f"file://{tmp_path}/media")
    await storage.save("tenant/message", DATA, "image/png")
    assert await storage.read("tenant/message") == DATA
    assert await storage.read("tenant/message", 10, 19) == DATA[10:20]
    await storage.delete("tenant/message")
    assert not (tmp_path / "media" / "tenant" / "message").exists()
