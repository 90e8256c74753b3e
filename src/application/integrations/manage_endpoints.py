"""Register, list, re-enable and remove a tenant's event webhook endpoints, and read their delivery log with
every attempt (admin role)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from pywhatsapp.application.integrations.ports import DestinationGuard
from pywhatsapp.domain.errors import NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.integrations.event_webhook import (
    RECENT_ATTEMPTS,
    DeliveryAttempt,
    EventDelivery,
    EventEndpoint,
    new_secret,
    validate_events,
    validate_url,
)
from pywhatsapp.domain.tenancy.membership import Role


@dataclass(frozen=True)
class EndpointDeliveries:
    endpoint: EventEndpoint
    deliveries: list[EventDelivery]
    attempts: dict[UUID, list[DeliveryAttempt]]
    """Per delivery id, its most recent RECENT_ATTEMPTS attempts, oldest first."""


@dataclass(frozen=True)
class DeliveryHistory:
    endpoint: EventEndpoint
    delivery: EventDelivery
    attempts: list[DeliveryAttempt]
    """Every attempt still kept (see ATTEMPT_RETENTION), oldest first."""


class ManageEventEndpoints:
    def __init__(self, uow_factory: UnitOfWorkFactory, destinations: DestinationGuard | None = None) -> None:
        self._uow_factory = uow_factory
        self._destinations = destinations

    async def create(
        self, principal: Principal, *, url: str, events: list[str], description: str | None = None
    ) -> EventEndpoint:
        principal.require(Role.ADMIN)
        url = validate_url(url)
        if self._destinations is not None:
            await self._destinations.check(url)
        endpoint = EventEndpoint(
            tenant_id=principal.tenant_id,
            url=url,
            events=validate_events(events),
            secret=new_secret(),
            description=description,
        )
        async with self._uow_factory(principal.tenant_id) as uow:
            stored = await uow.event_endpoints.add(endpoint)
            await uow.commit()
        return stored

    async def list(self, principal: Principal) -> list[EventEndpoint]:
        principal.require(Role.ADMIN)
        async with self._uow_factory(principal.tenant_id) as uow:
            return list(await uow.event_endpoints.list(limit=200))

    async def enable(self, principal: Principal, endpoint_id: UUID) -> EventEndpoint:
        principal.require(Role.ADMIN)
        async with self._uow_factory(principal.tenant_id) as uow:
            endpoint = await self._get(uow, endpoint_id)
            endpoint.is_active, endpoint.disabled_reason, endpoint.consecutive_failures = True, None, 0
            stored = await uow.event_endpoints.update(endpoint)
            await uow.commit()
        return stored

    async def deliveries(
        self, principal: Principal, endpoint_id: UUID, *, limit: int = 100
    ) -> EndpointDeliveries:
        principal.require(Role.ADMIN)
        async with self._uow_factory(principal.tenant_id) as uow:
            endpoint = await self._get(uow, endpoint_id)
            recent = list(await uow.event_deliveries.recent_for(endpoint_id, limit=limit))
            attempts = await uow.event_deliveries.attempts_of([d.id for d in recent], recent=RECENT_ATTEMPTS)
        return EndpointDeliveries(endpoint, recent, attempts)

    async def delivery(self, principal: Principal, endpoint_id: UUID, delivery_id: UUID) -> DeliveryHistory:
        principal.require(Role.ADMIN)
        async with self._uow_factory(principal.tenant_id) as uow:
            endpoint = await self._get(uow, endpoint_id)
            delivery = await uow.event_deliveries.get_for(endpoint_id, delivery_id)
            if delivery is None:
                raise NotFound(f"No delivery {delivery_id} of event webhook endpoint {endpoint_id}")
            attempts = await uow.event_deliveries.attempts_of([delivery_id])
        return DeliveryHistory(endpoint, delivery, attempts[delivery_id])

    async def remove(self, principal: Principal, endpoint_id: UUID) -> EventEndpoint:
        principal.require(Role.ADMIN)
        async with self._uow_factory(principal.tenant_id) as uow:
            endpoint = await self._get(uow, endpoint_id)
            endpoint.is_active, endpoint.disabled_reason = False, "removed"
            stored = await uow.event_endpoints.update(endpoint)
            await uow.commit()
        return stored

    @staticmethod
    async def _get(uow: UnitOfWork, endpoint_id: UUID) -> EventEndpoint:
        endpoint = await uow.event_endpoints.get(endpoint_id)
        if endpoint is None:
            raise NotFound(f"No event webhook endpoint {endpoint_id} in this tenant")
        return endpoint
