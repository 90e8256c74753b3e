"""Meta's message QR codes (`/{phone-number-id}/message_qrdls`) through PyWA's async client, on the
gateway's per-channel clients; the image is read through the same client (and so the same transport)."""

from __future__ import annotations

from typing import Any

from pywa.types.others import Pagination, QRCodeImageType

from pywhatsapp.adapters.whatsapp.pywa_gateway import PywaGateway
from pywhatsapp.application.qr_codes.ports import MetaQrCode
from pywhatsapp.domain.channels.channel import Channel

PAGE_SIZE = 100
MAX_PAGES = 40
"""2,000 codes per phone number at most, at 100 a page."""


class ImageTooLarge(ValueError):
    pass


def _meta(qr: Any) -> MetaQrCode:
    return MetaQrCode(
        code=str(qr.code),
        prefilled_message=str(qr.prefilled_message or ""),
        deep_link_url=str(qr.deep_link_url or ""),
        qr_image_url=str(qr.qr_image_url) if getattr(qr, "qr_image_url", None) else None,
    )


class PywaQrCodes:
    def __init__(self, gateway: PywaGateway) -> None:
        self._gateway = gateway

    async def create(self, channel: Channel, *, prefilled_message: str, image_format: str) -> MetaQrCode:
        client = self._gateway.client_for(channel)
        qr = await self._gateway.call(
            "create_qr_code",
            client.create_qr_code(
                prefilled_message, QRCodeImageType(image_format), phone_id=channel.phone_number_id
            ),
        )
        return _meta(qr)

    async def update(self, channel: Channel, code: str, *, prefilled_message: str) -> MetaQrCode:
        client = self._gateway.client_for(channel)
        qr = await self._gateway.call(
            "update_qr_code",
            client.update_qr_code(code, prefilled_message, phone_id=channel.phone_number_id),
        )
        return _meta(qr)

    async def get(self, channel: Channel, code: str, *, image_format: str | None) -> MetaQrCode | None:
        client = self._gateway.client_for(channel)
        qr = await self._gateway.call(
            "get_qr_code",
            client.get_qr_code(
                code,
                image_type=QRCodeImageType(image_format) if image_format else None,
                phone_id=channel.phone_number_id,
            ),
        )
        return None if qr is None else _meta(qr)

    async def list(self, channel: Channel) -> list[MetaQrCode]:
        client = self._gateway.client_for(channel)
        page = await self._gateway.call(
            "get_qr_codes",
            client.get_qr_codes(phone_id=channel.phone_number_id, pagination=Pagination(limit=PAGE_SIZE)),
        )
        codes = [_meta(qr) for qr in page]
        for _ in range(MAX_PAGES):
            if not page.has_next:
                break
            page = await self._gateway.call("get_qr_codes", page.next())
            codes.extend(_meta(qr) for qr in page)
        return codes

    async def delete(self, channel: Channel, code: str) -> None:
        client = self._gateway.client_for(channel)
        await self._gateway.call(
            "delete_qr_code", client.delete_qr_code(code, phone_id=channel.phone_number_id)
        )

    async def download_image(self, channel: Channel, url: str, *, max_bytes: int) -> bytes:
        client = self._gateway.client_for(channel)
        return bytes(await self._gateway.call("qr_image", self._read(client, url, max_bytes)))

    @staticmethod
    async def _read(client: Any, url: str, max_bytes: int) -> bytes:
        chunks = bytearray()
        async for chunk in client.stream_media(url):
            chunks.extend(chunk)
            if len(chunks) > max_bytes:
                raise ImageTooLarge(f"the QR code image is larger than {max_bytes} bytes")
        return bytes(chunks)
