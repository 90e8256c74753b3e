"""`/api/v1/api-keys`: tenant keys for server-to-server use (`Authorization: Bearer <key>` or `X-API-Key`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from pywhatsapp.application.identity.api_keys import ManageApiKeys
from pywhatsapp.domain.identity.api_key import ApiKey
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.envelope import Envelope, ListPage, ok
from pywhatsapp.entrypoints.http.routes.paging import whole_list
from pywhatsapp.entrypoints.http.security import requires


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    role: Role = Role.AGENT
    expires_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    """With a time zone (e.g. 2027-01-01T00:00:00Z)."""


class ApiKeyRead(msgspec.Struct):
    id: UUID
    name: str
    role: str
    prefix: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class ApiKeyCreated(ApiKeyRead):
    key: str = ""
    """The whole key: shown this once, never again."""


def _read(key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead(
        id=key.id,
        name=key.name,
        role=key.role.value,
        prefix=key.prefix,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
        created_at=key.created_at,
    )


@post(
    "/api/v1/api-keys",
    tags=["api_keys"],
    status_code=201,
    guards=[requires(Role.ADMIN)],
    summary="Create an API key (admin role); the key is in this answer only",
)
async def create_api_key(
    data: JSONBody[ApiKeyCreate],
    principal: NamedDependency[Principal],
    manage_api_keys: NamedDependency[ManageApiKeys],
) -> Envelope[ApiKeyCreated]:
    created = await manage_api_keys.create(
        principal, name=data.name, role=data.role, expires_at=data.expires_at
    )
    shown = msgspec.structs.asdict(_read(created.key))
    return ok(ApiKeyCreated(**shown, key=created.secret), message="Store this key now: it is not shown again")


@get("/api/v1/api-keys", tags=["api_keys"], guards=[requires(Role.ADMIN)], summary="The tenant's API keys")
async def list_api_keys(
    principal: NamedDependency[Principal], manage_api_keys: NamedDependency[ManageApiKeys]
) -> Envelope[ListPage[ApiKeyRead]]:
    return ok(whole_list([_read(key) for key in await manage_api_keys.list(principal)]))


@delete(
    "/api/v1/api-keys/{key_id:uuid}",
    tags=["api_keys"],
    status_code=200,
    guards=[requires(Role.ADMIN)],
    summary="Revoke an API key",
)
async def revoke_api_key(
    key_id: UUID, principal: NamedDependency[Principal], manage_api_keys: NamedDependency[ManageApiKeys]
) -> Envelope[ApiKeyRead]:
    return ok(_read(await manage_api_keys.revoke(principal, key_id)), message="Revoked")
