"""`/ws`: the tenant's live events for the inbox, from every worker (see adapters/realtime)."""

from __future__ import annotations

import logging

from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.datastructures import State
from litestar.exceptions import WebSocketDisconnect

from pywhatsapp.adapters.realtime.pg_notify import tenant_channel
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.entrypoints.http.security import BEARER_SUBPROTOCOL

logger = logging.getLogger(__name__)


@websocket("/ws")
async def events_socket(socket: WebSocket[Principal, str, State], channels: ChannelsPlugin) -> None:
    """Authenticated by the session cookie, `?token=<JWT>`, or the subprotocols `bearer, <JWT>`.

    Each event is a JSON object {"type", "tenant_id", "data"}. A client that reads too slowly loses its
    oldest undelivered events (never slows anyone else); a closed socket is unsubscribed at once.
    """
    offered = socket.scope.get("subprotocols") or []
    await socket.accept(subprotocols=BEARER_SUBPROTOCOL if BEARER_SUBPROTOCOL in offered else None)
    principal: Principal = socket.user

    async def forward(event: bytes) -> None:
        await socket.send_text(event.decode())

    async with (
        channels.start_subscription([tenant_channel(principal.tenant_id)]) as subscriber,
        subscriber.run_in_background(forward, join=False),
    ):
        try:
            while True:
                message = await socket.receive_data(mode="text")
                if message == "ping":
                    await socket.send_text('{"type":"pong"}')
        except WebSocketDisconnect:
            logger.debug("socket closed", extra={"tenant_id": str(principal.tenant_id)})
