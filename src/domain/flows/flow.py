"""A WhatsApp Flow (Meta's multi-screen forms) as the tenant's copy of it, and the tenant's flow key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.ids import new_id

DRAFT = "DRAFT"
PUBLISHED = "PUBLISHED"
DEPRECATED = "DEPRECATED"
DELETED = "DELETED"
"""Not one of Meta's statuses: a flow deleted at Meta that a sync no longer finds."""


@dataclass(kw_only=True)
class Flow:
    tenant_id: UUID
    name: str
    id: UUID = field(default_factory=new_id)
    channel_id: UUID | None = None
    meta_flow_id: str | None = None
    status: str = DRAFT
    """DRAFT, PUBLISHED, DEPRECATED, BLOCKED or THROTTLED, as Meta reports it."""
    categories: list[str] = field(default_factory=list)
    validation_errors: list[dict[str, Any]] = field(default_factory=list)
    """Meta's errors about the last uploaded flow JSON, as Meta words them (error, message, line...)."""
    json_version: str | None = None
    data_api_version: str | None = None
    endpoint_uri: str | None = None
    flow_json: dict[str, Any] | None = None
    """The flow JSON last uploaded from here (Meta keeps the authoritative copy as an asset)."""
    preview_url: str | None = None
    preview_expires_at: datetime | None = None
    routes: dict[str, Any] = field(default_factory=dict)
    """The data endpoint's answers: screen (or INIT / BACK) -> {"next_screen", "data"}."""
    synced_at: datetime | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass(kw_only=True)
class FlowKey:
    """The RSA key pair Meta encrypts data-exchange requests to (Meta holds the public half)."""

    tenant_id: UUID
    private_key_pem: str
    """PKCS#8 PEM without a passphrase: the column itself is encrypted at rest."""
    public_key_pem: str
    id: UUID = field(default_factory=new_id)
    registered_at: datetime | None = None
    """When the public key was last set at Meta on the tenant's phone numbers."""
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
