"""`/api/v1/event-webhooks`: integrations register URLs for the tenant's events (admin role).

Deliveries are JSON `{"id", "created_at", "type", "tenant_id", "data"}` signed with the endpoint's secret in
`X-PyWhatsApp-Signature: sha256=<HMAC-SHA256 of the raw body>`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from pywhatsapp.application.integrations.manage_endpoints import ManageEventEndpoints
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.integrations.event_webhook import EventEndpoint
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.envelope import Envelope, ListPage, ok
from pywhatsapp.entrypoints.http.routes.paging import whole_list
from pywhatsapp.entrypoints.http.security import requires

ADMIN = [requires(Role.ADMIN)]


class EndpointCreate(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=8, max_length=2000)]
    events: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(min_length=1, max_length=20)
    ]
    description: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class EndpointRead(msgspec.Struct):
    id: UUID
    url: str
    events: list[str]
    description: str | None
    is_active: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime


class EndpointCreated(EndpointRead):
    secret: str = ""
    """Signs every delivery; shown this once."""


class DeliveryRead(msgspec.Struct):
    id: UUID
    event_type: str
    state: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_latency_ms: int | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any]


def _read(endpoint: EventEndpoint) -> EndpointRead:
    return EndpointRead(
        id=endpoint.id,
        url=endpoint.url,
        events=endpoint.events,
        description=endpoint.description,
        is_active=endpoint.is_active,
        disabled_reason=endpoint.disabled_reason,
        consecutive_failures=endpoint.consecutive_failures,
        created_at=endpoint.created_at,
    )


@post(
    "/api/v1/event-webhooks",
    tags=["event_webhooks"],
    status_code=201,
    guards=ADMIN,
    summary="Register an endpoint for events; the signing secret is in this answer only",
)
async def create_event_webhook(
    data: JSONBody[EndpointCreate],
    principal: NamedDependency[Principal],
    manage_event_endpoints: NamedDependency[ManageEventEndpoints],
) -> Envelope[EndpointCreated]:
    endpoint = await manage_event_endpoints.create(
        principal, url=data.url, events=data.events, description=data.description
    )
    return ok(
        EndpointCreated(**msgspec.structs.asdict(_read(endpoint)), secret=endpoint.secret),
        message="Store the secret now: it is not shown again",
    )


@get("/api/v1/event-webhooks", tags=["event_webhooks"], guards=ADMIN, summary="The tenant's event endpoints")
async def list_event_webhooks(
    principal: NamedDependency[Principal], manage_event_endpoints: NamedDependency[ManageEventEndpoints]
) -> Envelope[ListPage[EndpointRead]]:
    return ok(whole_list([_read(e) for e in await manage_event_endpoints.list(principal)]))


@get(
    "/api/v1/event-webhooks/{endpoint_id:uuid}/deliveries",
    tags=["event_webhooks"],
    guards=ADMIN,
    summary="An endpoint's delivery log, newest first: attempts, answers, latency",
)
async def event_webhook_deliveries(
    endpoint_id: UUID,
    principal: NamedDependency[Principal],
    manage_event_endpoints: NamedDependency[ManageEventEndpoints],
) -> Envelope[ListPage[DeliveryRead]]:
    found = await manage_event_endpoints.deliveries(principal, endpoint_id)
    items = [
        DeliveryRead(
            id=d.id,
            event_type=d.event_type,
            state=d.state.value,
            attempts=d.attempts,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            last_latency_ms=d.last_latency_ms,
            next_attempt_at=d.next_attempt_at,
            delivered_at=d.delivered_at,
            created_at=d.created_at,
            payload=d.payload,
        )
        for d in found.deliveries
    ]
    return ok(whole_list(items))


@post(
    "/api/v1/event-webhooks/{endpoint_id:uuid}/enable",
    tags=["event_webhooks"],
    status_code=200,
    guards=ADMIN,
    summary="Re-enable an endpoint that was disabled after failures",
)
async def enable_event_webhook(
    endpoint_id: UUID,
    principal: NamedDependency[Principal],
    manage_event_endpoints: NamedDependency[ManageEventEndpoints],
) -> Envelope[EndpointRead]:
    return ok(_read(await manage_event_endpoints.enable(principal, endpoint_id)), message="Enabled")


@delete(
    "/api/v1/event-webhooks/{endpoint_id:uuid}",
    tags=["event_webhooks"],
    status_code=200,
    guards=ADMIN,
    summary="Stop sending events to an endpoint",
)
async def remove_event_webhook(
    endpoint_id: UUID,
    principal: NamedDependency[Principal],
    manage_event_endpoints: NamedDependency[ManageEventEndpoints],
) -> Envelope[EndpointRead]:
    return ok(_read(await manage_event_endpoints.remove(principal, endpoint_id)), message="Removed")
