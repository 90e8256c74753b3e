"""A flow's data endpoint: Meta's encrypted data-exchange request in, the encrypted next screen out.

Meta calls the endpoint without any login: the tenant is named in the path, the request is signed with
the app secret (`X-Hub-Signature-256`, checked when the tenant's channels have one) and can only be read
with the tenant's private flow key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.flows.ports import FlowCrypto
from pywhatsapp.domain.errors import InvalidInput, NotFound
from pywhatsapp.domain.flows import data_exchange
from pywhatsapp.domain.flows.errors import FlowRequestSignatureInvalid, FlowRequestUnreadable
from pywhatsapp.domain.flows.flow import Flow
from pywhatsapp.domain.webhooks.signature import signature_matches


@dataclass(frozen=True)
class FlowAnswer:
    body: str
    """The encrypted answer, base64, as Meta expects it (text/plain)."""
    action: str


def _flow_of_token(token: object) -> UUID | None:
    """Flow tokens minted as `<flow id>.<random>` name their flow (see the flow message convenience)."""
    if not isinstance(token, str):
        return None
    try:
        return UUID(token.split(".", 1)[0])
    except ValueError:
        return None


class AnswerFlowRequest:
    def __init__(self, uow_factory: UnitOfWorkFactory, crypto: FlowCrypto) -> None:
        self._uow_factory = uow_factory
        self._crypto = crypto

    async def execute(
        self, tenant_slug: str, flow_id: UUID | None, raw_body: bytes, signature: str | None
    ) -> FlowAnswer:
        async with self._uow_factory() as uow:
            tenant = await uow.tenants.get_by_slug(tenant_slug)
        if tenant is None:
            raise NotFound(f"No flow endpoint {tenant_slug!r}")
        async with self._uow_factory(tenant.id) as uow:
            keys = await uow.flow_keys.list(limit=1)
            secrets = [c.app_secret for c in await uow.channels.list(limit=50) if c.app_secret]
            flow = await uow.flows.get(flow_id) if flow_id is not None else None
        if flow_id is not None and flow is None:
            raise NotFound(f"No flow {flow_id} at this endpoint")
        if secrets and not (signature and any(signature_matches(raw_body, signature, s) for s in secrets)):
            raise FlowRequestSignatureInvalid("the request's X-Hub-Signature-256 does not match")
        if not keys:
            raise FlowRequestUnreadable("this tenant has no flow key to decrypt the request with")
        try:
            body: Any = json.loads(raw_body)
        except ValueError as error:
            raise InvalidInput("the body is not JSON") from error
        request = self._crypto.decrypt(keys[0].private_key_pem, body)
        routes = flow.routes if flow is not None else await self._routes_of_token(tenant.id, request.data)
        answer = data_exchange.answer(request.data, routes)
        action = str(request.data.get("action")) if isinstance(request.data, dict) else "?"
        return FlowAnswer(body=self._crypto.encrypt(answer, request), action=action)

    async def _routes_of_token(self, tenant_id: UUID, data: Any) -> dict[str, Any] | None:
        flow_id = _flow_of_token(data.get("flow_token")) if isinstance(data, dict) else None
        if flow_id is None:
            return None
        async with self._uow_factory(tenant_id) as uow:
            flow: Flow | None = await uow.flows.get(flow_id)
        return flow.routes if flow is not None else None
