"""Tenant-scoped lists of every kind of record (`/api/v1/...`), a page at a time.

Each resource's own operations (sending, importing, syncing) join these routes as their features land.
"""

from typing import Annotated, Any

from litestar import get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import QueryParameter

from pywhatsapp.application.common.list_records import MAX_OFFSET, MAX_PAGE_SIZE, ListRecords
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.envelope import Envelope, ListPage, ok
from pywhatsapp.entrypoints.http.routes.paging import list_page
from pywhatsapp.entrypoints.http.schemas import (
    CampaignRead,
    ChannelRead,
    present,
)
from pywhatsapp.entrypoints.http.security import requires


def list_route(
    path: str, resource: str, shape: type[Any], use_case: str, *, operation: str = "", role: Role = Role.AGENT
) -> HTTPRouteHandler:
    """A GET route listing one kind of record; `role` is the least role that may see it."""

    async def list_records(
        records: NamedDependency[ListRecords[Any]],
        principal: NamedDependency[Principal],
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
    ) -> Envelope[ListPage[shape]]:  # type: ignore[valid-type]
        page = await records.execute(principal, limit=limit, offset=offset)
        return ok(list_page(page, lambda item: present(item, shape)))

    operation = operation or f"list_{resource}"
    list_records.__name__ = operation
    return get(
        path,
        tags=[resource],
        summary=f"List the tenant's {resource.replace('_', ' ')} ({role.value} role or above)",
        guards=[requires(role)],
        operation_id=operation,
        name=operation,
        dependencies={"records": from_container(use_case)},
    )(list_records)


ROUTES = [
    list_route("/api/v1/campaigns", "campaigns", CampaignRead, "list_campaigns"),
    # Channel settings and raw webhook bodies are for administrators.
    list_route("/api/v1/channels", "channels", ChannelRead, "list_channels", role=Role.ADMIN),
]
