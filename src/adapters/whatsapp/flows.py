"""A WABA's WhatsApp Flows at Meta, through the channel's PyWA async client.

Creating, uploading the flow JSON and reading flows go through PyWA's Graph layer (`client.api`): its raw
dicts keep Meta's validation errors whole (with their `pointers`), which PyWA's typed `FlowValidationError`
would cut down, and a flow missing a field PyWA's `FlowDetails` insists on is still read. Publishing,
deprecating, deleting, metadata and the business public key use PyWA's high-level methods.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pywhatsapp.adapters.whatsapp.pywa_gateway import PywaGateway
from pywhatsapp.adapters.whatsapp.waba_calls import call_meta, page_of, waba_id
from pywhatsapp.application.flows.ports import CreatedFlow, RemoteFlow, RemoteFlowPage
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.flows.errors import FlowRefused

logger = logging.getLogger(__name__)

NO_SUCH_OBJECT = (100, 33)
"""Meta's "object does not exist" (code, subcode): a flow already gone."""


def fields(*, invalidate_preview: bool) -> tuple[str, ...]:
    return (
        "id",
        "name",
        "status",
        "categories",
        "validation_errors",
        "json_version",
        "data_api_version",
        "endpoint_uri",
        f"preview.invalidate({'true' if invalidate_preview else 'false'})",
    )


def _expiry(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    return None


def _errors(items: object) -> list[dict[str, Any]]:
    return [e for e in items if isinstance(e, dict)] if isinstance(items, list) else []


def remote_flow(item: dict[str, Any]) -> RemoteFlow | None:
    if not item.get("id") or not item.get("name"):
        return None
    raw_preview = item.get("preview")
    preview: dict[str, Any] = raw_preview if isinstance(raw_preview, dict) else {}
    categories = item.get("categories")
    return RemoteFlow(
        meta_flow_id=str(item["id"]),
        name=str(item["name"]),
        status=str(item.get("status") or "DRAFT").upper(),
        categories=[str(c) for c in categories] if isinstance(categories, list) else [],
        validation_errors=_errors(item.get("validation_errors")),
        json_version=str(item["json_version"]) if item.get("json_version") else None,
        data_api_version=str(item["data_api_version"]) if item.get("data_api_version") else None,
        # Named `data_channel_uri` before Graph API v19.0.
        endpoint_uri=item.get("endpoint_uri") or item.get("data_channel_uri") or None,
        preview_url=str(preview["preview_url"]) if preview.get("preview_url") else None,
        preview_expires_at=_expiry(preview.get("expires_at")),
    )


class PywaFlows:
    def __init__(self, gateway: PywaGateway) -> None:
        self._gateway = gateway

    def _waba(self, channel: Channel) -> str:
        return waba_id(channel, to_manage="flows")

    async def _call(self, operation: str, coroutine: Any) -> Any:
        return await call_meta(operation, coroutine, refused=FlowRefused, logger=logger)

    async def create(
        self,
        channel: Channel,
        *,
        name: str,
        categories: list[str],
        flow_json: str | None,
        endpoint_uri: str | None,
        publish: bool,
    ) -> CreatedFlow:
        client = self._gateway.client_for(channel)
        answer = await self._call(
            "create flow",
            client.api.create_flow(
                waba_id=self._waba(channel),
                name=name,
                categories=tuple(categories),
                endpoint_uri=endpoint_uri,
                flow_json=flow_json,
                publish=publish if flow_json is not None and publish else None,
            ),
        )
        return CreatedFlow(
            meta_flow_id=str(answer["id"]), validation_errors=_errors(answer.get("validation_errors"))
        )

    async def update_metadata(
        self,
        channel: Channel,
        meta_flow_id: str,
        *,
        name: str | None,
        categories: list[str] | None,
        endpoint_uri: str | None,
    ) -> None:
        client = self._gateway.client_for(channel)
        await self._call(
            "update flow",
            client.update_flow_metadata(
                flow_id=meta_flow_id, name=name, categories=categories, endpoint_uri=endpoint_uri
            ),
        )

    async def upload_json(self, channel: Channel, meta_flow_id: str, flow_json: str) -> list[dict[str, Any]]:
        client = self._gateway.client_for(channel)
        answer = await self._call(
            "upload flow JSON", client.api.update_flow_json(flow_id=meta_flow_id, flow_json=flow_json)
        )
        return _errors(answer.get("validation_errors"))

    async def publish(self, channel: Channel, meta_flow_id: str) -> None:
        await self._call("publish flow", self._gateway.client_for(channel).publish_flow(meta_flow_id))

    async def deprecate(self, channel: Channel, meta_flow_id: str) -> None:
        await self._call("deprecate flow", self._gateway.client_for(channel).deprecate_flow(meta_flow_id))

    async def delete(self, channel: Channel, meta_flow_id: str) -> None:
        try:
            await self._call("delete flow", self._gateway.client_for(channel).delete_flow(meta_flow_id))
        except FlowRefused as refused:
            if (refused.code, refused.subcode) != NO_SUCH_OBJECT:
                raise
            # Already gone at Meta: the goal of the call is reached.

    async def get(self, channel: Channel, meta_flow_id: str, *, invalidate_preview: bool) -> RemoteFlow:
        client = self._gateway.client_for(channel)
        answer = await self._call(
            "read flow",
            client.api.get_flow(flow_id=meta_flow_id, fields=fields(invalidate_preview=invalidate_preview)),
        )
        flow = remote_flow(answer) if isinstance(answer, dict) else None
        if flow is None:
            raise FlowRefused(100, f"Meta's answer about flow {meta_flow_id} has no id or name")
        return flow

    async def page(self, channel: Channel, *, after: str | None, limit: int) -> RemoteFlowPage:
        client = self._gateway.client_for(channel)
        pagination = {"limit": str(limit), **({"after": after} if after else {})}
        answer = await self._call(
            "list flows",
            client.api.get_flows(
                waba_id=self._waba(channel),
                fields=fields(invalidate_preview=False),
                pagination=pagination,
            ),
        )
        items, cursor = page_of(answer)
        flows = [f for f in (remote_flow(i) for i in items) if f is not None]
        return RemoteFlowPage(flows=flows, after=cursor)

    async def set_public_key(self, channel: Channel, public_key_pem: str) -> None:
        client = self._gateway.client_for(channel)
        await self._call(
            "set business public key",
            client.set_business_public_key(public_key=public_key_pem, phone_id=channel.phone_number_id),
        )
