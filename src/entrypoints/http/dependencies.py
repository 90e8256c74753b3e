"""The container's services as Litestar dependencies (plain `Provide` functions, see the brief's pitfalls).

A handler names what it needs by the container's provider name (`log_in: LogIn`), and gets a fresh
instance built by the container for each request.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from pywhatsapp.domain.identity.principal import Principal


def from_container(name: str) -> Provide:
    def provide(state: State) -> Any:
        return getattr(state.container, name)()

    provide.__name__ = f"provide_{name}"
    return Provide(provide, sync_to_thread=False)


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.user
    return principal


DEPENDENCIES = {
    "principal": Provide(provide_principal, sync_to_thread=False),
    "engine": from_container("engine"),
    "log_in": from_container("log_in"),
    "list_tenants": from_container("list_tenants"),
    "settings": from_container("settings"),
    "channel_directory": from_container("channel_directory"),
    "ingest_webhook": from_container("ingest_webhook"),
    "configure_channel": from_container("configure_channel"),
    "inbox_reader": from_container("inbox_reader"),
    "replay_webhook": from_container("replay_webhook"),
    "mark_conversation_read": from_container("mark_conversation_read"),
    "send_message": from_container("send_message"),
    "upload_media": from_container("upload_media"),
    "read_message_media": from_container("read_message_media"),
    "manage_api_keys": from_container("manage_api_keys"),
    "manage_campaigns": from_container("manage_campaigns"),
    "manage_event_endpoints": from_container("manage_event_endpoints"),
}
