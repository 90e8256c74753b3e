"""`GET /webhooks` (Meta's subscription challenge) and `POST /webhooks` (Meta's updates)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_403_FORBIDDEN

from pywhatsapp.application.messaging.ports import ChannelDirectory
from pywhatsapp.application.webhooks.ingest_webhook import IngestWebhook
from pywhatsapp.entrypoints.http.envelope import Envelope, error_body, ok
from pywhatsapp.entrypoints.settings import Settings

SIGNATURE_HEADER = "x-hub-signature-256"
WEBHOOK_MAX_BODY_BYTES = 4 * 1024 * 1024
"""Meta's webhook bodies reach 3 MB (a batch of changes); above the app-wide 2 MB limit, with room."""


@get(
    "/webhooks",
    tags=["webhooks"],
    summary="Meta's webhook verification challenge (echoes hub.challenge as text)",
    exclude_from_auth=True,
    security=[{}],
    media_type=MediaType.TEXT,
)
async def verify_subscription(
    channel_directory: NamedDependency[ChannelDirectory],
    settings: NamedDependency[Settings],
    mode: Annotated[str | None, QueryParameter(query="hub.mode", max_length=50)] = None,
    token: Annotated[str | None, QueryParameter(query="hub.verify_token", max_length=500)] = None,
    challenge: Annotated[str | None, QueryParameter(query="hub.challenge", max_length=500)] = None,
) -> Response[str]:
    tokens = await channel_directory.verify_tokens()
    if settings.VERIFY_TOKEN:
        tokens.add(settings.VERIFY_TOKEN)
    if mode == "subscribe" and token and token in tokens and challenge is not None:
        return Response(challenge, media_type="text/plain", status_code=HTTP_200_OK)
    message = (
        "Verification failed: hub.mode must be 'subscribe' and hub.verify_token a channel's verify token"
    )
    # The error envelope, as JSON, on the same route.
    refusal: Response[Any] = Response(
        error_body(message), status_code=HTTP_403_FORBIDDEN, media_type=MediaType.JSON
    )
    return refusal


@post(
    "/webhooks",
    tags=["webhooks"],
    summary="Receive Meta's webhook updates",
    exclude_from_auth=True,
    security=[{}],
    status_code=HTTP_200_OK,
    request_max_body_size=WEBHOOK_MAX_BODY_BYTES,
)
async def receive_updates(
    request: Request[Any, Any, Any], ingest_webhook: NamedDependency[IngestWebhook]
) -> Envelope[dict[str, Any]]:
    raw = await request.body()
    report = await ingest_webhook.execute(raw, request.headers.get(SIGNATURE_HEADER))
    return ok({"outcome": report.outcome.value, "updates": report.updates}, message="Received")
