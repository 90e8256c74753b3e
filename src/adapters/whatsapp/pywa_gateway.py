"""The WhatsApp gateway on PyWA's async client: one client per channel, pointed at GRAPH_API_URL."""

from __future__ import annotations

import hashlib
import logging
from typing import Any
from uuid import UUID

import httpx
from pywa.errors import WhatsAppError
from pywa_async import WhatsApp

from pywhatsapp.adapters.whatsapp.graph_transport import graph_http_client, load_request_machinery
from pywhatsapp.application.media.ports import FetchedMedia
from pywhatsapp.application.messaging.gateway import GatewayUnreachable, OutgoingMessage, RequestNotSent
from pywhatsapp.domain.channels.channel import Channel
from pywhatsapp.domain.media.inbound import MediaTooLarge
from pywhatsapp.domain.messaging.sending import SendRefused

logger = logging.getLogger(__name__)
# Failures before a single byte of the request left: Meta cannot have it, so trying again is safe.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class PywaGateway:
    def __init__(self, graph_api_url: str, *, timeout: float = 30.0) -> None:
        self._graph_api_url = graph_api_url
        self._timeout = timeout
        self._clients: dict[tuple[UUID, str], WhatsApp] = {}

    def _client(self, channel: Channel) -> WhatsApp:
        # Keyed by the token too: a channel whose token changed gets a fresh client.
        key = (channel.id, hashlib.sha256(channel.access_token.encode()).hexdigest())
        client = self._clients.get(key)
        if client is None:
            client = WhatsApp(
                phone_id=channel.phone_number_id,
                token=channel.access_token,
                waba_id=channel.waba_id,
                session=graph_http_client(self._graph_api_url, timeout=self._timeout),
            )
            self._clients[key] = client
        return client

    async def prepare(self, channel: Channel) -> None:
        """Build the channel's client ahead of a campaign: building it and a first request's imports take
        milliseconds, which would otherwise hold the first sends and let them reach Meta bunched."""
        load_request_machinery()
        self._client(channel)

    def client_for(self, channel: Channel) -> WhatsApp:
        """The channel's PyWA client, for adapters of other Graph API areas (templates) to share."""
        return self._client(channel)

    async def call(self, operation: str, coroutine: Any) -> Any:
        """Await a PyWA call with Meta's errors mapped as sends map them (other Graph API areas: groups)."""
        return await self._call(operation, coroutine)

    async def _call(self, operation: str, coroutine: Any) -> Any:
        try:
            return await coroutine
        except WhatsAppError as error:
            raise SendRefused(int(error.code), str(error.message)) from error
        except NOT_SENT as error:
            logger.warning(
                "Meta could not be reached", extra={"operation": operation, "error": type(error).__name__}
            )
            raise RequestNotSent(f"{operation}: {type(error).__name__}") from error
        except httpx.HTTPError as error:
            logger.warning(
                "Meta did not answer", extra={"operation": operation, "error": type(error).__name__}
            )
            raise GatewayUnreachable(f"{operation}: {type(error).__name__}") from error

    async def send(self, channel: Channel, message: OutgoingMessage) -> str:
        client = self._client(channel)
        answer = await self._call(
            "send",
            client.api.send_message(
                sender=channel.phone_number_id,
                to=message.to,
                recipient=None,
                recipient_type=message.recipient_type,
                typ=message.type,
                msg=message.payload,
                reply_to_message_id=message.context_wamid,
                biz_opaque_callback_data=message.callback_data,
            ),
        )
        return str(answer["messages"][0]["id"])

    async def mark_read(self, channel: Channel, wamid: str) -> None:
        client = self._client(channel)
        await self._call(
            "mark_read", client.api.mark_message_as_read(phone_id=channel.phone_number_id, message_id=wamid)
        )

    async def indicate_typing(self, channel: Channel, wamid: str) -> None:
        """Mark the message read and show "typing…" to the customer (PyWA's indicate_typing)."""
        client = self._client(channel)
        await self._call(
            "indicate_typing", client.indicate_typing(message_id=wamid, sender=channel.phone_number_id)
        )

    async def upload_media(self, channel: Channel, data: bytes, mime_type: str, filename: str) -> str:
        client = self._client(channel)
        answer = await self._call(
            "upload_media",
            client.api.upload_media(
                phone_id=channel.phone_number_id, media=data, mime_type=mime_type, filename=filename
            ),
        )
        return str(answer["id"])

    async def fetch_media(self, channel: Channel, media_id: str, *, max_bytes: int) -> FetchedMedia:
        client = self._client(channel)
        info = await self._call("media_url", client.get_media_url(media_id))
        declared = int(info.file_size or 0)
        if declared > max_bytes:
            raise MediaTooLarge(declared, max_bytes)  # refused without downloading it
        data = await self._call("download_media", self._read_limited(client, info.url, max_bytes))
        return FetchedMedia(data=data, mime_type=info.mime_type or None, sha256=info.sha256 or None)

    @staticmethod
    async def _read_limited(client: WhatsApp, url: str, max_bytes: int) -> bytes:
        # Streamed, so that a file larger than announced is cut off at the limit, not held in memory.
        chunks = bytearray()
        async for chunk in client.stream_media(url):
            chunks.extend(chunk)
            if len(chunks) > max_bytes:
                raise MediaTooLarge(len(chunks), max_bytes)
        return bytes(chunks)

    async def register_webhook(
        self,
        channel: Channel,
        *,
        app_id: str,
        app_secret: str,
        callback_url: str,
        verify_token: str,
        fields: tuple[str, ...],
    ) -> None:
        client = self._client(channel)
        token = await self._call("app_access_token", client.get_app_access_token(int(app_id), app_secret))
        await self._call(
            "register_webhook",
            client.set_app_callback_url(
                app_id=int(app_id),
                app_access_token=token,
                callback_url=callback_url,
                verify_token=verify_token,
                fields=fields,
            ),
        )

    async def close(self) -> None:
        for client in self._clients.values():
            session = getattr(getattr(client, "api", None), "_session", None)
            if isinstance(session, httpx.AsyncClient):
                await session.aclose()
        self._clients.clear()
