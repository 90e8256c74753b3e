"""`/api/v1/event-webhooks`: integrations register URLs for the tenant's events (admin role).

Deliveries are JSON `{"id", "created_at", "type", "tenant_id", "data"}` signed with the endpoint's secret in
`X-PyWhatsApp-Signature: sha256=<HMAC-SHA256 of the raw body>`. Every attempt of a delivery is logged (when,
the status answered or the network error, the first KB of the answer, latency) and kept for 30 days.
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
from pywhatsapp.domain.integrations.event_webhook import DeliveryAttempt, EventDelivery, EventEndpoint
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


class AttemptRead(msgspec.Struct):
    number: Annotated[int, msgspec.Meta(description="1 for the delivery's first attempt")]
    attempted_at: Annotated[datetime, msgspec.Meta(description="When the request went out")]
    status_code: Annotated[
        int | None, msgspec.Meta(description="The endpoint's HTTP status; null when no answer came")
    ]
    error: Annotated[
        str | None,
        msgspec.Meta(description="Why no answer came: network error, timeout, refused destination"),
    ]
    response_body: Annotated[
        str | None, msgspec.Meta(description="The first KB of the endpoint's answer, as text")
    ]
    latency_ms: Annotated[int, msgspec.Meta(description="Until the answer's status and first KB arrived")]


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
    attempt_log: Annotated[
        list[AttemptRead],
        msgspec.Meta(
            description=(
                "The delivery's attempts, oldest first: in an endpoint's delivery log its 20 most recent, "
                "for one delivery all of them. Kept for 30 days; `attempts` counts every attempt made."
            )
        ),
    ]


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


def _attempt(attempt: DeliveryAttempt) -> AttemptRead:
    return AttemptRead(
        number=attempt.number,
        attempted_at=attempt.attempted_at,
        status_code=attempt.status_code,
        error=attempt.error,
        response_body=attempt.response_body,
        latency_ms=attempt.latency_ms,
    )


def _delivery(delivery: EventDelivery, attempts: list[DeliveryAttempt]) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id,
        event_type=delivery.event_type,
        state=delivery.state.value,
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        last_latency_ms=delivery.last_latency_ms,
        next_attempt_at=delivery.next_attempt_at,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
        payload=delivery.payload,
        attempt_log=[_attempt(a) for a in attempts],
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
    description=(
        "The endpoint's 100 newest deliveries; each with its 20 most recent attempts in `attempt_log` "
        "(oldest first). Attempts are kept for 30 days."
    ),
)
async def event_webhook_deliveries(
    endpoint_id: UUID,
    principal: NamedDependency[Principal],
    manage_event_endpoints: NamedDependency[ManageEventEndpoints],
) -> Envelope[ListPage[DeliveryRead]]:
    found = await manage_event_endpoints.deliveries(principal, endpoint_id)
    return ok(whole_list([_delivery(d, found.attempts.get(d.id, [])) for d in found.deliveries]))


@get(
    "/api/v1/event-webhooks/{endpoint_id:uuid}/deliveries/{delivery_id:uuid}",
    tags=["event_webhooks"],
    guards=ADMIN,
    summary="One delivery with every attempt: when, status or error, the start of the answer, latency",
    description="Every attempt kept (30 days) in `attempt_log`, oldest first; 404 for another tenant's.",
)
async def event_webhook_delivery(
    endpoint_id: UUID,
    delivery_id: UUID,
    principal: NamedDependency[Principal],
    manage_event_endpoints: NamedDependency[ManageEventEndpoints],
) -> Envelope[DeliveryRead]:
    found = await manage_event_endpoints.delivery(principal, endpoint_id, delivery_id)
    return ok(_delivery(found.delivery, found.attempts))


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
