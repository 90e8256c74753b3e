"""The tenant's flow key pair: uploaded (PEM and passphrase) or generated here, the private half stored
encrypted, the public half registered at Meta on the tenant's phone numbers."""

from __future__ import annotations

import logging
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.flows.ports import FlowCrypto, KeyPair, MetaFlows
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import NotFound
from pywhatsapp.domain.flows.flow import FlowKey
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.sending import NoChannel

logger = logging.getLogger(__name__)


class ManageFlowKeys:
    def __init__(self, uow_factory: UnitOfWorkFactory, meta: MetaFlows, crypto: FlowCrypto) -> None:
        self._uow_factory = uow_factory
        self._meta = meta
        self._crypto = crypto

    async def current(self, principal: Principal) -> FlowKey:
        async with self._uow_factory(principal.tenant_id) as uow:
            keys = await uow.flow_keys.list(limit=1)
        if not keys:
            raise NotFound("this tenant has no flow key; PUT /api/v1/flows/keys or POST .../keys/generate")
        return keys[0]

    async def upload(
        self, principal: Principal, private_key_pem: str, passphrase: str | None, *, register: bool = True
    ) -> FlowKey:
        return await self._keep(principal, self._crypto.load(private_key_pem, passphrase), register=register)

    async def generate(self, principal: Principal, *, register: bool = True) -> FlowKey:
        return await self._keep(principal, self._crypto.generate(), register=register)

    async def _keep(self, principal: Principal, pair: KeyPair, *, register: bool) -> FlowKey:
        registered = await self._register(principal.tenant_id, pair.public_key_pem) if register else False
        async with self._uow_factory(principal.tenant_id) as uow:
            existing = await uow.flow_keys.list(limit=1)
            key = (
                existing[0]
                if existing
                else FlowKey(tenant_id=principal.tenant_id, private_key_pem="", public_key_pem="")
            )
            key.private_key_pem = pair.private_key_pem
            key.public_key_pem = pair.public_key_pem
            key.registered_at = utc_now() if registered else None
            key.updated_at = utc_now()
            saved = await (uow.flow_keys.update(key) if existing else uow.flow_keys.add(key))
            await uow.commit()
        return saved

    async def _register(self, tenant_id: UUID, public_key_pem: str) -> bool:
        """Set the public key on every active phone number of the tenant (Meta keeps one per number)."""
        async with self._uow_factory(tenant_id) as uow:
            channels = [c for c in await uow.channels.list(limit=50) if c.is_active]
        if not channels:
            raise NoChannel()
        for channel in channels:
            await self._meta.set_public_key(channel, public_key_pem)
        return True
