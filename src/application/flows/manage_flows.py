"""Create, upload, publish, deprecate, delete, preview, sync and list a tenant's WhatsApp Flows.

Each change acts at Meta first (the `MetaFlows` port) and stores the outcome after: a flow exists here only
with the id Meta gave it. Meta's validation errors of an uploaded flow JSON are stored and answered.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pywhatsapp.application.common.list_records import Page
from pywhatsapp.application.common.paging import check_page
from pywhatsapp.application.common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from pywhatsapp.application.common.waba_channel import waba_channel
from pywhatsapp.application.flows.ports import FlowFilter, MetaFlows, RemoteFlow
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import Conflict, InvalidInput, NotFound
from pywhatsapp.domain.flows.flow import DELETED, DEPRECATED, DRAFT, PUBLISHED, Flow
from pywhatsapp.domain.flows.rules import check_categories, check_name, check_routes, flow_json_text
from pywhatsapp.domain.identity.principal import Principal

SYNC_PAGE = 100
MAX_SYNC_PAGES = 100


@dataclass(frozen=True)
class FlowSyncReport:
    created: int
    updated: int
    removed: int
    at_meta: int
    channel_id: UUID


def _apply(flow: Flow, remote: RemoteFlow) -> Flow:
    flow.name = remote.name
    flow.meta_flow_id = remote.meta_flow_id
    flow.status = remote.status
    flow.categories = remote.categories or flow.categories
    flow.validation_errors = remote.validation_errors
    flow.json_version = remote.json_version
    flow.data_api_version = remote.data_api_version
    flow.endpoint_uri = remote.endpoint_uri
    if remote.preview_url:
        flow.preview_url = remote.preview_url
        flow.preview_expires_at = remote.preview_expires_at
    flow.synced_at = utc_now()
    flow.updated_at = utc_now()
    return flow


async def stored_flow(uow: UnitOfWork, flow_id: UUID) -> Flow:
    flow = await uow.flows.get(flow_id)
    if flow is None or flow.status == DELETED:
        raise NotFound(f"No flow {flow_id} in this tenant")
    return flow


async def flow_channel(uow: UnitOfWork, flow: Flow | None, channel_id: UUID | None) -> Channel:
    """The channel whose WABA holds the flow: the one asked for, the flow's own, else the default."""
    return await waba_channel(uow, flow.channel_id if flow is not None else None, channel_id)


class ManageFlows:
    def __init__(self, uow_factory: UnitOfWorkFactory, meta: MetaFlows) -> None:
        self._uow_factory = uow_factory
        self._meta = meta

    async def _open(self, principal: Principal, flow_id: UUID) -> tuple[Flow, Channel]:
        async with self._uow_factory(principal.tenant_id) as uow:
            flow = await stored_flow(uow, flow_id)
            if flow.meta_flow_id is None:
                raise Conflict("the flow has no id at Meta")
            return flow, await flow_channel(uow, flow, None)

    async def _store(self, principal: Principal, flow: Flow) -> Flow:
        async with self._uow_factory(principal.tenant_id) as uow:
            flow.updated_at = utc_now()
            saved = await uow.flows.save(flow)
            await uow.commit()
        return saved

    async def list(
        self, principal: Principal, where: FlowFilter, *, limit: int = 50, offset: int = 0
    ) -> Page[Flow]:
        check_page(limit, offset)
        async with self._uow_factory(principal.tenant_id) as uow:
            items, total = await uow.flows.search(where, limit=limit, offset=offset)
        return Page(items=list(items), total=total, limit=limit, offset=offset)

    async def get(self, principal: Principal, flow_id: UUID) -> Flow:
        async with self._uow_factory(principal.tenant_id) as uow:
            return await stored_flow(uow, flow_id)

    async def create(
        self,
        principal: Principal,
        *,
        name: str,
        categories: builtins.list[str],
        flow_json: dict[str, Any] | None = None,
        endpoint_uri: str | None = None,
        publish: bool = False,
        routes: dict[str, Any] | None = None,
        channel_id: UUID | None = None,
    ) -> Flow:
        name = check_name(name)
        chosen = check_categories(categories)
        text = flow_json_text(flow_json) if flow_json is not None else None
        if publish and text is None:
            raise InvalidInput("a flow is published on creation only with its flow JSON")
        checked_routes = check_routes(routes) if routes is not None else {}
        async with self._uow_factory(principal.tenant_id) as uow:
            channel = await flow_channel(uow, None, channel_id)
        created = await self._meta.create(
            channel, name=name, categories=chosen, flow_json=text, endpoint_uri=endpoint_uri, publish=publish
        )
        # Meta publishes on creation only a flow JSON without errors.
        published = publish and not created.validation_errors
        flow = Flow(
            tenant_id=principal.tenant_id,
            name=name,
            channel_id=channel.id,
            meta_flow_id=created.meta_flow_id,
            status=PUBLISHED if published else DRAFT,
            categories=chosen,
            validation_errors=created.validation_errors,
            endpoint_uri=endpoint_uri,
            flow_json=flow_json,
            json_version=str(flow_json.get("version")) if flow_json and flow_json.get("version") else None,
            routes=checked_routes,
        )
        return await self._store(principal, flow)

    async def update_metadata(
        self,
        principal: Principal,
        flow_id: UUID,
        *,
        name: str | None = None,
        categories: builtins.list[str] | None = None,
        endpoint_uri: str | None = None,
    ) -> Flow:
        name = check_name(name) if name is not None else None
        chosen = check_categories(categories) if categories is not None else None
        if name is None and chosen is None and endpoint_uri is None:
            raise InvalidInput("give at least one of name, categories, endpoint_uri")
        flow, channel = await self._open(principal, flow_id)
        assert flow.meta_flow_id is not None
        await self._meta.update_metadata(
            channel, flow.meta_flow_id, name=name, categories=chosen, endpoint_uri=endpoint_uri
        )
        flow.name = name or flow.name
        flow.categories = chosen or flow.categories
        flow.endpoint_uri = endpoint_uri or flow.endpoint_uri
        return await self._store(principal, flow)

    async def upload_json(self, principal: Principal, flow_id: UUID, flow_json: Any) -> Flow:
        """Upload the flow JSON (a draft's only); Meta's validation errors are stored with it."""
        text = flow_json_text(flow_json)
        flow, channel = await self._open(principal, flow_id)
        if flow.status != DRAFT:
            raise Conflict(f"the flow is {flow.status}: only a DRAFT flow's JSON can change (clone it)")
        assert flow.meta_flow_id is not None
        errors = await self._meta.upload_json(channel, flow.meta_flow_id, text)
        flow.flow_json = flow_json
        flow.validation_errors = errors
        flow.json_version = str(flow_json.get("version")) if flow_json.get("version") else None
        return await self._store(principal, flow)

    async def set_routes(self, principal: Principal, flow_id: UUID, routes: Any) -> Flow:
        checked = check_routes(routes)
        async with self._uow_factory(principal.tenant_id) as uow:
            flow = await stored_flow(uow, flow_id)
            flow.routes = checked
            flow.updated_at = utc_now()
            saved = await uow.flows.save(flow)
            await uow.commit()
        return saved

    async def publish(self, principal: Principal, flow_id: UUID) -> Flow:
        flow, channel = await self._open(principal, flow_id)
        if flow.status != DRAFT:
            raise Conflict(f"the flow is {flow.status}: only a DRAFT flow can be published")
        if flow.validation_errors:
            raise Conflict(
                f"the flow JSON has {len(flow.validation_errors)} validation errors; upload a fixed one first"
            )
        assert flow.meta_flow_id is not None
        await self._meta.publish(channel, flow.meta_flow_id)
        flow.status = PUBLISHED
        return await self._store(principal, flow)

    async def deprecate(self, principal: Principal, flow_id: UUID) -> Flow:
        flow, channel = await self._open(principal, flow_id)
        if flow.status == DRAFT or flow.status == DEPRECATED:
            raise Conflict(f"the flow is {flow.status}: only a published flow can be deprecated")
        assert flow.meta_flow_id is not None
        await self._meta.deprecate(channel, flow.meta_flow_id)
        flow.status = DEPRECATED
        return await self._store(principal, flow)

    async def delete(self, principal: Principal, flow_id: UUID) -> Flow:
        """Delete a DRAFT flow at Meta and here (Meta keeps published flows: deprecate those)."""
        flow, channel = await self._open(principal, flow_id)
        if flow.status != DRAFT:
            raise Conflict(f"the flow is {flow.status}: only a DRAFT flow can be deleted (deprecate it)")
        assert flow.meta_flow_id is not None
        await self._meta.delete(channel, flow.meta_flow_id)
        async with self._uow_factory(principal.tenant_id) as uow:
            await uow.flows.remove(flow.id)
            await uow.commit()
        flow.status = DELETED
        return flow

    async def preview(self, principal: Principal, flow_id: UUID, *, invalidate: bool = False) -> Flow:
        """Meta's web preview URL of the flow (and its expiry), read again from Meta; also refreshes the
        status and validation errors."""
        flow, channel = await self._open(principal, flow_id)
        assert flow.meta_flow_id is not None
        remote = await self._meta.get(channel, flow.meta_flow_id, invalidate_preview=invalidate)
        return await self._store(principal, _apply(flow, remote))

    async def sync(self, principal: Principal, *, channel_id: UUID | None = None) -> FlowSyncReport:
        """Every page of the WABA's flows at Meta into the stored copies; flows Meta no longer lists are
        removed here."""
        async with self._uow_factory(principal.tenant_id) as uow:
            channel = await flow_channel(uow, None, channel_id)
        remote: builtins.list[RemoteFlow] = []
        after: str | None = None
        for _ in range(MAX_SYNC_PAGES):
            page = await self._meta.page(channel, after=after, limit=SYNC_PAGE)
            remote.extend(page.flows)
            after = page.after
            if after is None:
                break
        created = updated = removed = 0
        async with self._uow_factory(principal.tenant_id) as uow:
            known = {f.meta_flow_id: f for f in await uow.flows.every() if f.meta_flow_id}
            for item in remote:
                flow = known.pop(item.meta_flow_id, None)
                if flow is None:
                    created += 1
                    flow = Flow(tenant_id=principal.tenant_id, name=item.name, channel_id=channel.id)
                else:
                    updated += 1
                await uow.flows.save(_apply(flow, item))
            for gone in known.values():
                if gone.channel_id in (None, channel.id):
                    removed += 1
                    await uow.flows.remove(gone.id)
            await uow.commit()
        return FlowSyncReport(
            created=created, updated=updated, removed=removed, at_meta=len(remote), channel_id=channel.id
        )
