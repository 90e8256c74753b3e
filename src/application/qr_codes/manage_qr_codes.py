"""Message QR codes through Meta's QR code endpoint: create, list (and sync), update, delete, and the
image, downloaded once and kept.

Meta is called outside any transaction; what it answers is then stored. A refusal is Meta's error
(`SendRefused`, a 4xx); silence is `MetaUnreachable` (502): the caller may retry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWork, UnitOfWorkFactory
from pywhatsapp.application.groups.manage_groups import from_meta
from pywhatsapp.application.messaging.channels import sending_channel
from pywhatsapp.application.messaging.gateway import GatewayUnreachable
from pywhatsapp.application.qr_codes.ports import MetaQrCode, QrCodeGateway
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.errors import NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.sending import MetaRefusal, SendRefused
from pywhatsapp.domain.qr_codes.qr_code import (
    MAX_CODES_PER_NUMBER,
    MAX_IMAGE_BYTES,
    QrCode,
    TooManyQrCodes,
    image_format,
    prefilled_message,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QrCodePage:
    items: list[QrCode]
    total: int


@dataclass(frozen=True)
class SyncReport:
    created: int
    updated: int
    removed: int


async def stored_qr_code(uow: UnitOfWork, code: str) -> QrCode:
    qr_code = await uow.qr_codes.by_code(code)
    if qr_code is None:
        raise NotFound(f"No QR code {code} in this tenant")
    return qr_code


async def _channel_of(uow: UnitOfWork, qr_code: QrCode) -> Channel:
    channel = await uow.channels.get(qr_code.channel_id)
    if channel is None:
        raise NotFound(f"The channel of QR code {qr_code.code} is gone")
    return channel


class ManageQrCodes:
    def __init__(self, uow_factory: UnitOfWorkFactory, gateway: QrCodeGateway) -> None:
        self._uow_factory = uow_factory
        self._gateway = gateway

    async def create(
        self, principal: Principal, *, message: str, fmt: str = "PNG", channel_id: UUID | None = None
    ) -> QrCode:
        text, kind = prefilled_message(message), image_format(fmt)
        async with self._uow_factory(principal.tenant_id) as uow:
            channel = await sending_channel(uow, channel_id)
            if await uow.qr_codes.total(channel_id=channel.id) >= MAX_CODES_PER_NUMBER:
                raise TooManyQrCodes()
        made = await from_meta(
            "create_qr_code", self._gateway.create(channel, prefilled_message=text, image_format=kind)
        )
        image = await self._image(channel, made.qr_image_url)
        async with self._uow_factory(principal.tenant_id) as uow:
            stored = await uow.qr_codes.add(
                QrCode(
                    tenant_id=principal.tenant_id,
                    channel_id=channel.id,
                    code=made.code,
                    prefilled_message=made.prefilled_message or text,
                    deep_link_url=made.deep_link_url,
                    image_format=kind,
                    image=image,
                )
            )
            await uow.commit()
        return stored

    async def _image(self, channel: Channel, url: str | None) -> bytes | None:
        """The image at Meta's URL; None (fetched again when asked for) if it cannot be had now."""
        if not url:
            return None
        try:
            return await self._gateway.download_image(channel, url, max_bytes=MAX_IMAGE_BYTES)
        except (GatewayUnreachable, SendRefused, ValueError):
            logger.warning("could not download a QR code image", exc_info=True)
            return None

    async def list(self, principal: Principal, *, limit: int, offset: int) -> QrCodePage:
        async with self._uow_factory(principal.tenant_id) as uow:
            items = list(await uow.qr_codes.page(limit=limit, offset=offset))
            return QrCodePage(items=items, total=await uow.qr_codes.total())

    async def get(self, principal: Principal, code: str, *, refresh: bool = False) -> QrCode:
        async with self._uow_factory(principal.tenant_id) as uow:
            qr_code = await stored_qr_code(uow, code)
            channel = await _channel_of(uow, qr_code) if refresh else None
        if channel is None:
            return qr_code
        meta = await from_meta("get_qr_code", self._gateway.get(channel, code, image_format=None))
        if meta is None:
            raise NotFound(f"Meta no longer has QR code {code} (deleted in WhatsApp Manager?)")
        return await self._save(principal, replace(qr_code, prefilled_message=meta.prefilled_message))

    async def update(self, principal: Principal, code: str, *, message: str) -> QrCode:
        text = prefilled_message(message)
        async with self._uow_factory(principal.tenant_id) as uow:
            qr_code = await stored_qr_code(uow, code)
            channel = await _channel_of(uow, qr_code)
        meta = await from_meta("update_qr_code", self._gateway.update(channel, code, prefilled_message=text))
        changed = replace(
            qr_code,
            prefilled_message=meta.prefilled_message or text,
            deep_link_url=meta.deep_link_url or qr_code.deep_link_url,
        )
        return await self._save(principal, changed)

    async def _save(self, principal: Principal, qr_code: QrCode) -> QrCode:
        async with self._uow_factory(principal.tenant_id) as uow:
            saved = await uow.qr_codes.update(qr_code)
            await uow.commit()
        return saved

    async def delete(self, principal: Principal, code: str) -> QrCode:
        async with self._uow_factory(principal.tenant_id) as uow:
            qr_code = await stored_qr_code(uow, code)
            channel = await _channel_of(uow, qr_code)
        try:
            await from_meta("delete_qr_code", self._gateway.delete(channel, code))
        except SendRefused as refused:
            # Meta does not know the code (deleted in WhatsApp Manager): it is gone there, so here too.
            if refused.refusal is not MetaRefusal.INVALID_REQUEST:
                raise
        async with self._uow_factory(principal.tenant_id) as uow:
            await uow.qr_codes.remove(qr_code.id)
            await uow.commit()
        return qr_code

    async def image(self, principal: Principal, code: str) -> tuple[bytes, str]:
        """The image and its content type; downloaded from Meta now if it was not kept."""
        async with self._uow_factory(principal.tenant_id) as uow:
            qr_code = await stored_qr_code(uow, code)
            channel = await _channel_of(uow, qr_code) if qr_code.image is None else None
        if channel is not None:
            meta = await from_meta(
                "get_qr_code", self._gateway.get(channel, code, image_format=qr_code.image_format)
            )
            image = await self._image(channel, meta.qr_image_url if meta else None)
            if image is None:
                raise NotFound(f"Meta gives no image for QR code {code} now; try again later")
            qr_code = await self._save(principal, replace(qr_code, image=image))
        assert qr_code.image is not None
        return qr_code.image, qr_code.image_content_type

    async def sync(self, principal: Principal, *, channel_id: UUID | None = None) -> SyncReport:
        """Take Meta's list of the phone number's codes as the truth: new ones (made in WhatsApp Manager)
        are stored, changed messages updated, codes Meta no longer has removed."""
        async with self._uow_factory(principal.tenant_id) as uow:
            channel = await sending_channel(uow, channel_id)
        at_meta: dict[str, MetaQrCode] = {
            item.code: item for item in await from_meta("list_qr_codes", self._gateway.list(channel))
        }
        created = updated = removed = 0
        async with self._uow_factory(principal.tenant_id) as uow:
            stored = {
                qr.code: qr
                for qr in await uow.qr_codes.page(
                    limit=MAX_CODES_PER_NUMBER * 2, offset=0, channel_id=channel.id
                )
            }
            for code, meta in at_meta.items():
                known = stored.get(code)
                if known is None:
                    await uow.qr_codes.add(
                        QrCode(
                            tenant_id=principal.tenant_id,
                            channel_id=channel.id,
                            code=code,
                            prefilled_message=meta.prefilled_message,
                            deep_link_url=meta.deep_link_url,
                        )
                    )
                    created += 1
                elif known.prefilled_message != meta.prefilled_message:
                    await uow.qr_codes.update(replace(known, prefilled_message=meta.prefilled_message))
                    updated += 1
            for code, known in stored.items():
                if code not in at_meta:
                    await uow.qr_codes.remove(known.id)
                    removed += 1
            await uow.commit()
        return SyncReport(created=created, updated=updated, removed=removed)
