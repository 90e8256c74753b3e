"""What flow management needs: the WABA's flows at Meta, the tenant's stored flows, and flow cryptography."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.flows.flow import Flow


@dataclass(frozen=True)
class RemoteFlow:
    """A flow as Meta describes it (GET /{flow-id} or a page of GET /{waba-id}/flows)."""

    meta_flow_id: str
    name: str
    status: str
    categories: list[str] = field(default_factory=list)
    validation_errors: list[dict[str, Any]] = field(default_factory=list)
    json_version: str | None = None
    data_api_version: str | None = None
    endpoint_uri: str | None = None
    preview_url: str | None = None
    preview_expires_at: datetime | None = None


@dataclass(frozen=True)
class CreatedFlow:
    meta_flow_id: str
    validation_errors: list[dict[str, Any]]


@dataclass(frozen=True)
class RemoteFlowPage:
    flows: list[RemoteFlow]
    after: str | None


class MetaFlows(Protocol):
    """A channel's WhatsApp Business Account flows, at Meta.

    Refusals are raised as `FlowRefused` (Meta's words), silence as `MetaUnreachable`."""

    async def create(
        self,
        channel: Channel,
        *,
        name: str,
        categories: list[str],
        flow_json: str | None,
        endpoint_uri: str | None,
        publish: bool,
    ) -> CreatedFlow: ...

    async def update_metadata(
        self,
        channel: Channel,
        meta_flow_id: str,
        *,
        name: str | None,
        categories: list[str] | None,
        endpoint_uri: str | None,
    ) -> None: ...

    async def upload_json(self, channel: Channel, meta_flow_id: str, flow_json: str) -> list[dict[str, Any]]:
        """Upload the flow JSON asset; Meta's validation errors (empty when valid)."""
        ...

    async def publish(self, channel: Channel, meta_flow_id: str) -> None: ...

    async def deprecate(self, channel: Channel, meta_flow_id: str) -> None: ...

    async def delete(self, channel: Channel, meta_flow_id: str) -> None: ...

    async def get(self, channel: Channel, meta_flow_id: str, *, invalidate_preview: bool) -> RemoteFlow: ...

    async def page(self, channel: Channel, *, after: str | None, limit: int) -> RemoteFlowPage: ...

    async def set_public_key(self, channel: Channel, public_key_pem: str) -> None:
        """Register the business public key on the channel's phone number (Meta encrypts to it)."""
        ...


@dataclass(frozen=True)
class FlowFilter:
    status: str | None = None
    name: str | None = None
    """A part of the name, case-insensitive."""


class FlowRegistry(Protocol):
    """The tenant's stored flows."""

    async def get(self, flow_id: UUID) -> Flow | None: ...

    async def find(self, meta_flow_id: str) -> Flow | None: ...

    async def save(self, flow: Flow) -> Flow: ...

    async def search(self, where: FlowFilter, *, limit: int, offset: int) -> tuple[Sequence[Flow], int]: ...

    async def every(self) -> Sequence[Flow]: ...

    async def remove(self, flow_id: UUID) -> None: ...


@dataclass(frozen=True)
class KeyPair:
    private_key_pem: str
    """PKCS#8 PEM, without a passphrase."""
    public_key_pem: str


@dataclass(frozen=True)
class DecryptedRequest:
    data: Any
    aes_key: bytes
    iv: bytes


class FlowCrypto(Protocol):
    """Meta's flow endpoint encryption: RSA-OAEP (SHA-256) wrapped AES-128-GCM keys."""

    def generate(self) -> KeyPair: ...

    def load(self, private_key_pem: str, passphrase: str | None) -> KeyPair:
        """Read an RSA private key (raises `InvalidInput` for anything else or a wrong passphrase)."""
        ...

    def decrypt(self, private_key_pem: str, body: Any) -> DecryptedRequest:
        """Decrypt `{"encrypted_flow_data", "encrypted_aes_key", "initial_vector"}` (raises
        `FlowRequestUnreadable`)."""
        ...

    def encrypt(self, response: dict[str, Any], request: DecryptedRequest) -> str: ...
