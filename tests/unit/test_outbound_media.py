"""Outbound media with fakes: an uploaded file is kept once, and each message sent with its media id records
it as its stored file; media sent by link, or by an id the app did not keep, records none; a storage failure
does not fail the upload."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest

from pywhatsapp.application.media.outbound_media import KeepUploadedMedia
from pywhatsapp.application.messaging.send_message import SendMessage, SendRequest
from pywhatsapp.application.messaging.upload_media import UploadMedia
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.media.inbound import InboundMedia, MediaState
from pywhatsapp.domain.media.outbound import sent_media_id, upload_storage_path
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.domain.tenancy.tenant import Tenant
from tests.unit.fakes import FakeUnitOfWorkFactory
from tests.unit.test_template_parameters import TENANT, RecordingGateway, seeded

CUSTOMER = "15551234567"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@dataclass
class FakeStorage:
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    saves: int = 0
    broken: bool = False
    scheme: str = "memory"

    async def save(self, path: str, data: bytes, content_type: str) -> None:
        if self.broken:
            raise OSError("disk full")
        self.saves += 1
        self.files[path] = (data, content_type)

    async def read(self, path: str, first: int | None = None, last: int | None = None) -> bytes:
        return self.files[path][0]

    async def delete(self, path: str) -> None:
        self.files.pop(path, None)


class UploadingGateway(RecordingGateway):
    def __init__(self) -> None:
        super().__init__()
        self.uploads = 0

    async def upload_media(self, channel: object, data: bytes, mime_type: str, filename: str) -> str:  # type: ignore[override]
        self.uploads += 1
        return f"9100{self.uploads}"


def principal() -> Principal:
    return Principal(
        user_id=uuid4(),
        username="ann",
        tenant_id=TENANT,
        tenant_slug="acme",
        tenant_name="Acme",
        role=Role.ADMIN,
    )


def world(storage: FakeStorage) -> tuple[FakeUnitOfWorkFactory, UploadMedia, SendMessage]:
    factory = FakeUnitOfWorkFactory()
    factory.put_tenant(Tenant(id=TENANT, name="Acme", slug="acme"))
    seeded(factory)
    factory.put_record("contacts", Contact(tenant_id=TENANT, wa_id=CUSTOMER, last_inbound_at=utc_now()))
    gateway = UploadingGateway()
    upload = UploadMedia(factory, gateway, KeepUploadedMedia(factory, storage))  # type: ignore[arg-type]
    return factory, upload, SendMessage(factory, gateway)  # type: ignore[arg-type]


def files_of(factory: FakeUnitOfWorkFactory) -> dict[UUID, InboundMedia]:
    return {media.message_id: media for media in factory.committed("media_files")}


async def test_an_uploaded_file_is_kept_once_and_recorded_on_every_message_sent_with_its_id() -> None:
    storage = FakeStorage()
    factory, upload, send = world(storage)
    uploaded = await upload.execute(principal(), data=PNG, mime_type="image/png", filename="shop.png")
    path = upload_storage_path(TENANT, uploaded.id)
    assert storage.files == {path: (PNG, "image/png")} and storage.saves == 1

    first = await send.execute(
        principal(), SendRequest(to=CUSTOMER, type="image", payload={"id": uploaded.id, "caption": "Hi"})
    )
    second = await send.execute(
        principal(), SendRequest(to=CUSTOMER, type="image", payload={"id": uploaded.id})
    )
    assert first.message.media_state == second.message.media_state == MediaState.STORED.value
    recorded = files_of(factory)
    for outcome in (first, second):
        media = recorded[outcome.message.id]
        assert media.state is MediaState.STORED and media.storage_path == path
        assert (media.kind, media.mime_type, media.size) == ("image", "image/png", len(PNG))
        assert media.sha256 == hashlib.sha256(PNG).hexdigest() and media.filename == "shop.png"
    assert storage.saves == 1, "sending writes nothing to the storage"


async def test_media_by_link_or_by_an_id_the_app_did_not_keep_records_no_file() -> None:
    factory, _, send = world(FakeStorage())
    by_link = await send.execute(
        principal(), SendRequest(to=CUSTOMER, type="image", payload={"link": "https://example.com/a.png"})
    )
    unknown = await send.execute(
        principal(), SendRequest(to=CUSTOMER, type="document", payload={"id": "123", "filename": "a.pdf"})
    )
    assert by_link.message.media_state is None and unknown.message.media_state is None
    assert files_of(factory) == {}


async def test_a_storage_failure_still_answers_the_upload_and_its_messages_carry_no_file() -> None:
    storage = FakeStorage(broken=True)
    factory, upload, send = world(storage)
    uploaded = await upload.execute(principal(), data=PNG, mime_type="image/png", filename="shop.png")
    assert uploaded.id and storage.files == {}
    sent = await send.execute(
        principal(), SendRequest(to=CUSTOMER, type="image", payload={"id": uploaded.id})
    )
    assert sent.delivered_to_meta and sent.message.media_state is None
    assert files_of(factory) == {}


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("image", {"id": "42"}, "42"),
        ("sticker", {"id": 42}, "42"),
        ("document", {"id": " 7 ", "filename": "a.pdf"}, "7"),
        ("image", {"link": "https://example.com/a.png"}, None),
        ("image", {"id": "42", "link": "https://example.com/a.png"}, None),
        ("text", {"body": "42"}, None),
        ("image", {"id": True}, None),
        ("image", [], None),
    ],
)
def test_the_media_id_a_send_refers_to(kind: str, payload: dict[str, object], expected: str | None) -> None:
    assert sent_media_id(kind, payload) == expected


def test_uploaded_files_are_kept_beside_the_tenants_inbound_files_under_a_safe_key() -> None:
    assert upload_storage_path(TENANT, "123") == f"{TENANT}/uploads/123"
    assert upload_storage_path(TENANT, "../x y") == f"{TENANT}/uploads/___x_y"
