"""`/api/v1/channels`: a tenant's WhatsApp phone numbers and their credentials (admin role).

Tokens and secrets go in and are never sent back: answers say only which ones are set.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import patch, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from pywhatsapp.application.channels.configure_channel import ChannelSettings, ConfigureChannel
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.envelope import Envelope, ok
from pywhatsapp.entrypoints.http.schemas import ChannelRead, present
from pywhatsapp.entrypoints.http.security import requires

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[0-9]+$")]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Rate = Annotated[int, msgspec.Meta(ge=1, le=1000)]


class ChannelCreate(msgspec.Struct, forbid_unknown_fields=True):
    phone_number_id: Id
    access_token: Secret
    name: Name | None = None
    waba_id: Id | None = None
    display_phone_number: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    app_id: Id | None = None
    app_secret: Secret | None = None
    verify_token: Secret | None = None
    messages_per_second: Rate | None = None


class ChannelUpdate(msgspec.Struct, forbid_unknown_fields=True):
    phone_number_id: Id | None = None
    access_token: Secret | None = None
    name: Name | None = None
    waba_id: Id | None = None
    display_phone_number: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    app_id: Id | None = None
    app_secret: Secret | None = None
    verify_token: Secret | None = None
    messages_per_second: Rate | None = None
    is_active: bool | None = None


@post(
    "/api/v1/channels",
    tags=["channels"],
    summary="Add a WhatsApp channel (admin role)",
    guards=[requires(Role.ADMIN)],
    status_code=201,
)
async def create_channel(
    data: JSONBody[ChannelCreate],
    principal: NamedDependency[Principal],
    configure_channel: NamedDependency[ConfigureChannel],
) -> Envelope[ChannelRead]:
    channel = await configure_channel.execute(
        principal.tenant_id, ChannelSettings(**msgspec.structs.asdict(data))
    )
    return ok(present(channel, ChannelRead), message="Channel saved")


@patch(
    "/api/v1/channels/{channel_id:uuid}",
    tags=["channels"],
    summary="Change a channel: credentials, messages per second, active (admin role)",
    guards=[requires(Role.ADMIN)],
)
async def update_channel(
    channel_id: UUID,
    data: JSONBody[ChannelUpdate],
    principal: NamedDependency[Principal],
    configure_channel: NamedDependency[ConfigureChannel],
) -> Envelope[ChannelRead]:
    fields = msgspec.structs.asdict(data)
    existing_id = fields.pop("phone_number_id")
    channel = await configure_channel.execute(
        principal.tenant_id,
        ChannelSettings(phone_number_id=existing_id or "", **fields),
        channel_id=channel_id,
    )
    return ok(present(channel, ChannelRead), message="Channel saved")
