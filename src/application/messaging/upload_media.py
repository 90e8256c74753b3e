"""Upload a file to Meta for sending (type and size checked first), returning the media id to send with; the
file is kept in the media storage too, so the messages sent with it show it (see media/outbound_media.py)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.media.outbound_media import KeepUploadedMedia
from pywhatsapp.application.messaging.channels import sending_channel
from pywhatsapp.application.messaging.gateway import WhatsAppGateway
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.messaging.media import check_media, media_kind


@dataclass(frozen=True)
class UploadedMedia:
    id: str
    kind: str
    mime_type: str
    size: int


class UploadMedia:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, gateway: WhatsAppGateway, keep: KeepUploadedMedia | None = None
    ) -> None:
        self._uow_factory = uow_factory
        self._gateway = gateway
        self._keep = keep

    async def execute(
        self,
        principal: Principal,
        *,
        data: bytes,
        mime_type: str,
        filename: str,
        kind: str | None = None,
        channel_id: UUID | None = None,
    ) -> UploadedMedia:
        kind = kind or media_kind(mime_type)
        check_media(kind, mime_type, len(data))
        async with self._uow_factory(principal.tenant_id) as uow:
            channel = await sending_channel(uow, channel_id)
        media_id = await self._gateway.upload_media(channel, data, mime_type.split(";")[0].strip(), filename)
        if self._keep is not None:
            await self._keep.keep(
                principal.tenant_id,
                channel_id=channel.id,
                media_id=media_id,
                kind=kind,
                mime_type=mime_type,
                filename=filename,
                data=data,
            )
        return UploadedMedia(id=media_id, kind=kind, mime_type=mime_type, size=len(data))
