"""Add or change a tenant's WhatsApp channel (its phone number at Meta and the credentials to use it)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.messaging.ports import ChannelDirectory
from pywhatsapp.domain.channels.channel import (
    DEFAULT_MESSAGES_PER_SECOND,
    Channel,
    validate_messages_per_second,
)
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.errors import Conflict, InvalidInput, NotFound


@dataclass(frozen=True)
class ChannelSettings:
    phone_number_id: str
    access_token: str | None = None
    name: str | None = None
    waba_id: str | None = None
    display_phone_number: str | None = None
    app_id: str | None = None
    app_secret: str | None = None
    verify_token: str | None = None
    messages_per_second: int | None = None
    is_active: bool | None = None


class ConfigureChannel:
    def __init__(self, uow_factory: UnitOfWorkFactory, directory: ChannelDirectory) -> None:
        self._uow_factory = uow_factory
        self._directory = directory

    async def execute(
        self, tenant_id: UUID, settings: ChannelSettings, channel_id: UUID | None = None
    ) -> Channel:
        """Create the channel, or update the one with `channel_id` (or with the same phone number id)."""
        async with self._uow_factory(tenant_id) as uow:
            current = await uow.channels.get(channel_id) if channel_id else None
        if channel_id and current is None:
            raise NotFound(f"No channel {channel_id} in this tenant")
        if current is not None and not settings.phone_number_id:
            settings = replace(settings, phone_number_id=current.phone_number_id)
        if not re.fullmatch(r"[0-9]{1,64}", settings.phone_number_id.strip()):
            raise InvalidInput("phone_number_id is the numeric id Meta shows for the phone number")
        if settings.messages_per_second is not None:
            validate_messages_per_second(settings.messages_per_second)
        owner = await self._directory.by_phone_number_id(settings.phone_number_id.strip(), fresh=True)
        if owner is not None and owner.tenant_id != tenant_id:
            raise Conflict("This phone number id belongs to another tenant's channel")
        if owner is not None and channel_id is not None and owner.id != channel_id:
            raise Conflict("Another channel of this tenant already has this phone number id")
        async with self._uow_factory(tenant_id) as uow:
            existing = await uow.channels.get(channel_id) if channel_id else None
            existing = existing or (owner if owner is not None and owner.tenant_id == tenant_id else None)
            if existing is None:
                if not settings.access_token:
                    raise InvalidInput("A new channel needs its access_token")
                channel = Channel(
                    tenant_id=tenant_id,
                    phone_number_id=settings.phone_number_id.strip(),
                    access_token=settings.access_token,
                    name=settings.name or "WhatsApp",
                    waba_id=settings.waba_id,
                    display_phone_number=settings.display_phone_number,
                    app_id=settings.app_id,
                    app_secret=settings.app_secret,
                    verify_token=settings.verify_token,
                    messages_per_second=settings.messages_per_second or DEFAULT_MESSAGES_PER_SECOND,
                )
                saved = await uow.channels.add(channel)
            else:
                for name in (
                    "access_token",
                    "name",
                    "waba_id",
                    "display_phone_number",
                    "app_id",
                    "app_secret",
                    "verify_token",
                    "messages_per_second",
                    "is_active",
                ):
                    value = getattr(settings, name)
                    if value is not None:
                        setattr(existing, name, value)
                existing.phone_number_id = settings.phone_number_id.strip()
                if settings.access_token:
                    existing.paused_reason = None  # a new token lifts a pause for an expired one
                existing.updated_at = utc_now()
                saved = await uow.channels.update(existing)
            await uow.commit()
        self._directory.forget()
        return saved
