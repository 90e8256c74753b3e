"""`/api/v1/flows`: the tenant's WhatsApp Flows, managed at Meta; `/flows/data/...`: their data endpoint.

Agents list and read flows and their previews; admins create, upload flow JSON (Meta's validation errors
come back and are stored), publish, deprecate, delete, sync, set the data endpoint's routes and the flow
key. Meta calls `POST /flows/data/{tenant_slug}[/{flow_id}]` with encrypted data-exchange requests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import MediaType, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from pywhatsapp.application.common.list_records import MAX_OFFSET, MAX_PAGE_SIZE
from pywhatsapp.application.flows.answer_flow_request import AnswerFlowRequest
from pywhatsapp.application.flows.flow_keys import ManageFlowKeys
from pywhatsapp.application.flows.manage_flows import ManageFlows
from pywhatsapp.application.flows.ports import FlowFilter
from pywhatsapp.domain.flows.errors import FlowRequestSignatureInvalid, FlowRequestUnreadable
from pywhatsapp.domain.flows.flow import Flow, FlowKey
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.entrypoints.http.dependencies import from_container
from pywhatsapp.entrypoints.http.envelope import Envelope, ListPage, error_body, ok
from pywhatsapp.entrypoints.http.routes.paging import list_page
from pywhatsapp.entrypoints.http.security import requires

PATH = "/api/v1/flows"
DATA_PATH = "/flows/data"
TAGS = ["flows"]
SERVICES = {
    "manage_flows": from_container("manage_flows"),
    "manage_flow_keys": from_container("manage_flow_keys"),
}
ADMIN = [requires(Role.ADMIN)]
AGENT = [requires(Role.AGENT)]
SIGNATURE_HEADER = "x-hub-signature-256"
UNREADABLE = 421
"""Meta's documented answer to a request that cannot be decrypted: the client re-fetches the public key."""
BAD_SIGNATURE = 432
"""Meta's documented answer to a request whose signature does not match."""
Json = dict[str, Any]
Category = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class FlowCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    categories: Annotated[list[Category], msgspec.Meta(min_length=1, max_length=8)]
    """SIGN_UP, SIGN_IN, APPOINTMENT_BOOKING, LEAD_GENERATION, CONTACT_US, CUSTOMER_SUPPORT, SURVEY, OTHER."""
    flow_json: Json | None = None
    """The flow JSON (`{"version": "7.1", "screens": [...]}`), uploaded with the creation."""
    endpoint_uri: Annotated[str, msgspec.Meta(min_length=8, max_length=2000)] | None = None
    """The data endpoint Meta calls (for flows with data exchange): `<this server>/flows/data/<tenant>`."""
    publish: bool = False
    routes: Json | None = None
    """The data endpoint's answers: screen (or INIT, BACK) -> {"next_screen", "data"}."""
    channel_id: UUID | None = None


class FlowUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    categories: Annotated[list[Category], msgspec.Meta(min_length=1, max_length=8)] | None = None
    endpoint_uri: Annotated[str, msgspec.Meta(min_length=8, max_length=2000)] | None = None


class FlowSyncRequest(msgspec.Struct, forbid_unknown_fields=True):
    channel_id: UUID | None = None


class FlowKeyUpload(msgspec.Struct, forbid_unknown_fields=True):
    private_key_pem: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
    passphrase: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    register: bool = True
    """Set the public key at Meta on every active phone number of the tenant."""


class FlowKeyGenerate(msgspec.Struct, forbid_unknown_fields=True):
    register: bool = True


class FlowDetail(msgspec.Struct):
    id: UUID
    name: str
    status: str
    categories: list[str]
    validation_errors: list[Json]
    meta_flow_id: str | None
    channel_id: UUID | None
    json_version: str | None
    data_api_version: str | None
    endpoint_uri: str | None
    preview_url: str | None
    preview_expires_at: datetime | None
    routes: Json
    flow_json: Json | None
    data_endpoint_path: str
    """Where this server answers the flow's data exchange (prefix it with the public URL)."""
    synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


class FlowPreview(msgspec.Struct):
    id: UUID
    meta_flow_id: str | None
    preview_url: str | None
    expires_at: datetime | None
    status: str
    validation_errors: list[Json]


class FlowSyncResult(msgspec.Struct):
    created: int
    updated: int
    removed: int
    at_meta: int
    channel_id: UUID


class FlowKeyRead(msgspec.Struct):
    public_key_pem: str
    """Register it at Meta (done for you when `registered_at` is set)."""
    registered_at: datetime | None
    updated_at: datetime


def _detail(flow: Flow, slug: str) -> FlowDetail:
    return FlowDetail(
        id=flow.id,
        name=flow.name,
        status=flow.status,
        categories=flow.categories,
        validation_errors=flow.validation_errors,
        meta_flow_id=flow.meta_flow_id,
        channel_id=flow.channel_id,
        json_version=flow.json_version,
        data_api_version=flow.data_api_version,
        endpoint_uri=flow.endpoint_uri,
        preview_url=flow.preview_url,
        preview_expires_at=flow.preview_expires_at,
        routes=flow.routes,
        flow_json=flow.flow_json,
        data_endpoint_path=f"{DATA_PATH}/{slug}/{flow.id}",
        synced_at=flow.synced_at,
        created_at=flow.created_at,
        updated_at=flow.updated_at,
    )


def _key(key: FlowKey) -> FlowKeyRead:
    return FlowKeyRead(
        public_key_pem=key.public_key_pem, registered_at=key.registered_at, updated_at=key.updated_at
    )


def _slug(principal: Principal) -> str:
    return principal.tenant_slug


@get(
    PATH,
    guards=AGENT,
    tags=TAGS,
    dependencies=SERVICES,
    operation_id="list_flows",
    summary="The tenant's flows",
)
async def list_flows(
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
    status: Annotated[str | None, QueryParameter(max_length=32, description="DRAFT, PUBLISHED...")] = None,
    name: Annotated[str | None, QueryParameter(max_length=200, description="A part of the name")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="Page size")] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
) -> Envelope[ListPage[FlowDetail]]:
    page = await manage_flows.list(
        principal, FlowFilter(status=status, name=name), limit=limit, offset=offset
    )
    slug = _slug(principal)
    return ok(list_page(page, lambda flow: _detail(flow, slug)))


@get(
    f"{PATH}/{{flow_id:uuid}}",
    guards=AGENT,
    tags=TAGS,
    dependencies=SERVICES,
    operation_id="get_flow",
    summary="One flow, with its status and validation errors",
)
async def get_flow(
    flow_id: FromPath[UUID], principal: NamedDependency[Principal], manage_flows: NamedDependency[ManageFlows]
) -> Envelope[FlowDetail]:
    return ok(_detail(await manage_flows.get(principal, flow_id), _slug(principal)))


@post(
    PATH,
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=201,
    operation_id="create_flow",
    summary="Create a flow at Meta (optionally with its flow JSON, optionally published)",
)
async def create_flow(
    data: JSONBody[FlowCreate],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Envelope[FlowDetail]:
    flow = await manage_flows.create(
        principal,
        name=data.name,
        categories=data.categories,
        flow_json=data.flow_json,
        endpoint_uri=data.endpoint_uri,
        publish=data.publish,
        routes=data.routes,
        channel_id=data.channel_id,
    )
    return ok(_detail(flow, _slug(principal)), message=f"Created at Meta: {flow.status}")


@patch(
    f"{PATH}/{{flow_id:uuid}}",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    operation_id="update_flow",
    summary="Change a flow's name, categories or data endpoint at Meta",
)
async def update_flow(
    flow_id: FromPath[UUID],
    data: JSONBody[FlowUpdate],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Envelope[FlowDetail]:
    flow = await manage_flows.update_metadata(
        principal, flow_id, name=data.name, categories=data.categories, endpoint_uri=data.endpoint_uri
    )
    return ok(_detail(flow, _slug(principal)), message="Updated at Meta")


@put(
    f"{PATH}/{{flow_id:uuid}}/json",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=200,
    operation_id="upload_flow_json",
    summary="Upload the flow JSON (the body) to Meta; Meta's validation errors are stored and answered",
)
async def upload_flow_json(
    flow_id: FromPath[UUID],
    data: JSONBody[Json],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Envelope[FlowDetail]:
    flow = await manage_flows.upload_json(principal, flow_id, data)
    errors = len(flow.validation_errors)
    message = f"Uploaded; Meta found {errors} validation errors" if errors else "Uploaded; valid"
    return ok(_detail(flow, _slug(principal)), message=message)


@put(
    f"{PATH}/{{flow_id:uuid}}/routes",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=200,
    operation_id="set_flow_routes",
    summary="The data endpoint's answers: screen (or INIT, BACK) -> next screen and its data",
)
async def set_flow_routes(
    flow_id: FromPath[UUID],
    data: JSONBody[Json],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
) -> Envelope[FlowDetail]:
    return ok(_detail(await manage_flows.set_routes(principal, flow_id, data), _slug(principal)))


@post(
    f"{PATH}/{{flow_id:uuid}}/publish",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=200,
    operation_id="publish_flow",
    summary="Publish a draft flow at Meta (irreversible)",
)
async def publish_flow(
    flow_id: FromPath[UUID], principal: NamedDependency[Principal], manage_flows: NamedDependency[ManageFlows]
) -> Envelope[FlowDetail]:
    return ok(_detail(await manage_flows.publish(principal, flow_id), _slug(principal)), message="Published")


@post(
    f"{PATH}/{{flow_id:uuid}}/deprecate",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=200,
    operation_id="deprecate_flow",
    summary="Deprecate a published flow at Meta (it can no longer be sent or opened)",
)
async def deprecate_flow(
    flow_id: FromPath[UUID], principal: NamedDependency[Principal], manage_flows: NamedDependency[ManageFlows]
) -> Envelope[FlowDetail]:
    return ok(
        _detail(await manage_flows.deprecate(principal, flow_id), _slug(principal)), message="Deprecated"
    )


@delete(
    f"{PATH}/{{flow_id:uuid}}",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=200,
    operation_id="delete_flow",
    summary="Delete a draft flow at Meta and here",
)
async def delete_flow(
    flow_id: FromPath[UUID], principal: NamedDependency[Principal], manage_flows: NamedDependency[ManageFlows]
) -> Envelope[FlowDetail]:
    return ok(_detail(await manage_flows.delete(principal, flow_id), _slug(principal)), message="Deleted")


@get(
    f"{PATH}/{{flow_id:uuid}}/preview",
    guards=AGENT,
    tags=TAGS,
    dependencies=SERVICES,
    operation_id="preview_flow",
    summary="Meta's web preview URL of the flow (read from Meta, with its expiry)",
)
async def preview_flow(
    flow_id: FromPath[UUID],
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
    invalidate: Annotated[bool, QueryParameter(description="Ask Meta for a new preview link")] = False,
) -> Envelope[FlowPreview]:
    flow = await manage_flows.preview(principal, flow_id, invalidate=invalidate)
    return ok(
        FlowPreview(
            id=flow.id,
            meta_flow_id=flow.meta_flow_id,
            preview_url=flow.preview_url,
            expires_at=flow.preview_expires_at,
            status=flow.status,
            validation_errors=flow.validation_errors,
        )
    )


@post(
    f"{PATH}/sync",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=200,
    operation_id="sync_flows",
    summary="Bring the stored flows in line with the WABA's flows at Meta (every page)",
)
async def sync_flows(
    principal: NamedDependency[Principal],
    manage_flows: NamedDependency[ManageFlows],
    data: JSONBody[FlowSyncRequest | None] = None,
) -> Envelope[FlowSyncResult]:
    report = await manage_flows.sync(principal, channel_id=data.channel_id if data is not None else None)
    return ok(
        FlowSyncResult(
            created=report.created,
            updated=report.updated,
            removed=report.removed,
            at_meta=report.at_meta,
            channel_id=report.channel_id,
        ),
        message=f"{report.at_meta} flows at Meta",
    )


@get(
    f"{PATH}/keys",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    operation_id="get_flow_key",
    summary="The tenant's flow public key",
)
async def get_flow_key(
    principal: NamedDependency[Principal], manage_flow_keys: NamedDependency[ManageFlowKeys]
) -> Envelope[FlowKeyRead]:
    return ok(_key(await manage_flow_keys.current(principal)))


@put(
    f"{PATH}/keys",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=200,
    operation_id="upload_flow_key",
    summary="Upload the RSA private key (PEM, with its passphrase) that decrypts flow data requests",
)
async def upload_flow_key(
    data: JSONBody[FlowKeyUpload],
    principal: NamedDependency[Principal],
    manage_flow_keys: NamedDependency[ManageFlowKeys],
) -> Envelope[FlowKeyRead]:
    key = await manage_flow_keys.upload(
        principal, data.private_key_pem, data.passphrase, register=data.register
    )
    return ok(
        _key(key), message="Stored (encrypted)" + ("; public key set at Meta" if key.registered_at else "")
    )


@post(
    f"{PATH}/keys/generate",
    guards=ADMIN,
    tags=TAGS,
    dependencies=SERVICES,
    status_code=200,
    operation_id="generate_flow_key",
    summary="Generate a 2048-bit RSA key pair here; the public key is set at Meta and answered",
)
async def generate_flow_key(
    principal: NamedDependency[Principal],
    manage_flow_keys: NamedDependency[ManageFlowKeys],
    data: JSONBody[FlowKeyGenerate | None] = None,
) -> Envelope[FlowKeyRead]:
    key = await manage_flow_keys.generate(principal, register=data.register if data is not None else True)
    return ok(_key(key), message="Generated" + ("; public key set at Meta" if key.registered_at else ""))


async def _answer(
    request: Request[Any, Any, Any],
    answer_flow_request: AnswerFlowRequest,
    tenant_slug: str,
    flow_id: UUID | None,
) -> Response[Any]:
    try:
        answer = await answer_flow_request.execute(
            tenant_slug, flow_id, await request.body(), request.headers.get(SIGNATURE_HEADER)
        )
    except FlowRequestUnreadable as error:
        return Response(error_body(error.message), status_code=UNREADABLE, media_type=MediaType.JSON)
    except FlowRequestSignatureInvalid as error:
        return Response(error_body(error.message), status_code=BAD_SIGNATURE, media_type=MediaType.JSON)
    return Response(answer.body, media_type=MediaType.TEXT, status_code=200)


DATA_SERVICES = {"answer_flow_request": from_container("answer_flow_request")}
DATA_RESPONSES = "The answer encrypted with the request's AES key (base64 text)"


@post(
    f"{DATA_PATH}/{{tenant_slug:str}}",
    tags=TAGS,
    dependencies=DATA_SERVICES,
    exclude_from_auth=True,
    security=[{}],
    status_code=200,
    media_type=MediaType.TEXT,
    operation_id="flow_data_exchange",
    summary="Meta's encrypted flow data-exchange request (ping, INIT, data_exchange, BACK); no login",
    description=f"{DATA_RESPONSES}. 421 when it cannot be decrypted, 432 when the signature does not match.",
)
async def flow_data_exchange(
    tenant_slug: FromPath[str],
    request: Request[Any, Any, Any],
    answer_flow_request: NamedDependency[AnswerFlowRequest],
) -> Response[Any]:
    return await _answer(request, answer_flow_request, tenant_slug, None)


@post(
    f"{DATA_PATH}/{{tenant_slug:str}}/{{flow_id:uuid}}",
    tags=TAGS,
    dependencies=DATA_SERVICES,
    exclude_from_auth=True,
    security=[{}],
    status_code=200,
    media_type=MediaType.TEXT,
    operation_id="flow_data_exchange_of_flow",
    summary="Meta's encrypted data-exchange request for one flow (its routes answer); no login",
    description=f"{DATA_RESPONSES}. 421 when it cannot be decrypted, 432 when the signature does not match.",
)
async def flow_data_exchange_of_flow(
    tenant_slug: FromPath[str],
    flow_id: FromPath[UUID],
    request: Request[Any, Any, Any],
    answer_flow_request: NamedDependency[AnswerFlowRequest],
) -> Response[Any]:
    return await _answer(request, answer_flow_request, tenant_slug, flow_id)


ROUTES = [
    list_flows,
    sync_flows,
    get_flow_key,
    upload_flow_key,
    generate_flow_key,
    get_flow,
    create_flow,
    update_flow,
    upload_flow_json,
    set_flow_routes,
    publish_flow,
    deprecate_flow,
    delete_flow,
    preview_flow,
    flow_data_exchange,
    flow_data_exchange_of_flow,
]
