"""The media worker's round: download queued inbound files from Meta, check them, store them, retry with
back-off when Meta or the storage fails, refuse (and say why) what is too large or not what Meta announced."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import replace
from datetime import timedelta

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.media.ports import (
    ClaimedMedia,
    MediaClaimsFactory,
    MediaSource,
    MediaStorage,
)
from pywhatsapp.application.webhooks.apply_update import message_event_data
from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.media.inbound import (
    InboundMedia,
    MediaState,
    MediaTooLarge,
    RetryPolicy,
    hash_refusal,
    size_limit,
)
from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent

logger = logging.getLogger(__name__)
BATCH = 4
LEASE = timedelta(minutes=10)
"""A claimed download is not claimed again for this long (a worker that dies mid-download lets it go)."""
FAILED_ROUND_PAUSE = 5.0
MAX_ERROR_LENGTH = 500


def storage_path(media: InboundMedia) -> str:
    return f"{media.tenant_id}/{media.message_id}"


class FetchInboundMedia:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        claims: MediaClaimsFactory,
        source: MediaSource,
        storage: MediaStorage,
        policy: RetryPolicy,
    ) -> None:
        self._uow_factory = uow_factory
        self._claims = claims
        self._source = source
        self._storage = storage
        self._policy = policy

    async def run_once(self, limit: int = BATCH) -> int:
        """One round; the number of downloads attempted (0: nothing was due)."""
        try:
            claimed = await self._claims().claim(limit, LEASE)
        except Exception:
            logger.warning("media download round failed; retrying in a few seconds", exc_info=True)
            await asyncio.sleep(FAILED_ROUND_PAUSE)
            return 0
        await asyncio.gather(*(self._attempt(item) for item in claimed))
        return len(claimed)

    async def _attempt(self, item: ClaimedMedia) -> None:
        media = item.media
        try:
            outcome = await self._download(item)
        except Exception as error:  # Meta, the network or the storage failed: try again later
            outcome = self._failed(media, f"{type(error).__name__}: {error}")
        try:
            await self._record(outcome)
        except Exception:  # the lease runs out and the download is tried again
            logger.warning("could not record a media download", exc_info=True)

    async def _download(self, item: ClaimedMedia) -> InboundMedia:
        media = item.media
        if item.channel is None:
            return self._failed(media, "the message's channel no longer exists")
        limit = size_limit(media.kind)
        try:
            fetched = await self._source.fetch_media(item.channel, media.media_id, max_bytes=limit)
        except MediaTooLarge as error:
            return self._refused(media, f"too large: a {media.kind} may have at most {limit} bytes; {error}")
        digest = hashlib.sha256(fetched.data).hexdigest()
        refusal = hash_refusal(media.declared_sha256 or fetched.sha256, digest)
        if refusal is not None:
            return self._refused(media, refusal, size=len(fetched.data), sha256=digest)
        if not fetched.data:
            return self._failed(media, "Meta answered with an empty file")
        mime_type = media.declared_mime_type or fetched.mime_type or "application/octet-stream"
        path = storage_path(media)
        await self._storage.save(path, fetched.data, mime_type)
        logger.info(
            "inbound media stored",
            extra={"message_id": str(media.message_id), "bytes": len(fetched.data), "kind": media.kind},
        )
        return replace(
            media,
            state=MediaState.STORED,
            mime_type=mime_type,
            size=len(fetched.data),
            sha256=digest,
            storage_path=path,
            stored_at=utc_now(),
            last_error=None,
        )

    def _refused(
        self, media: InboundMedia, reason: str, *, size: int | None = None, sha256: str | None = None
    ) -> InboundMedia:
        logger.warning("inbound media refused", extra={"message_id": str(media.message_id), "reason": reason})
        return replace(
            media, state=MediaState.REFUSED, last_error=reason[:MAX_ERROR_LENGTH], size=size, sha256=sha256
        )

    def _failed(self, media: InboundMedia, error: str) -> InboundMedia:
        retry_at = self._policy.next_attempt(media.attempts, utc_now())
        if retry_at is None:
            logger.warning(
                "inbound media given up", extra={"message_id": str(media.message_id), "error": error}
            )
            error = f"gave up after {media.attempts} attempts; last: {error}"
            return replace(media, state=MediaState.FAILED, last_error=error[:MAX_ERROR_LENGTH])
        return replace(
            media, state=MediaState.PENDING, next_attempt_at=retry_at, last_error=error[:MAX_ERROR_LENGTH]
        )

    async def _record(self, media: InboundMedia) -> None:
        async with self._uow_factory(media.tenant_id) as uow:
            message = await uow.media_downloads.record(media)
            if message is not None and media.state is not MediaState.PENDING:
                # The inbox shows the file (or why there is none) as soon as it is settled.
                await uow.events.publish(
                    RealtimeEvent(EventType.MESSAGE_STATUS, media.tenant_id, message_event_data(message))
                )
            await uow.commit()
