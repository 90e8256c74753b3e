"""Inbound media files in an object store through advanced-alchemy's file-object storage (obstore): a local
directory by default, S3-compatible storage (or GCS, Azure, memory) by URL."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import obstore
from advanced_alchemy.types.file_object import FileObject
from advanced_alchemy.types.file_object.backends.obstore import ObstoreBackend
from obstore.store import LocalStore

STORAGE_KEY = "pywhatsapp-inbound-media"
S3_SCHEMES = ("s3://", "s3a://")


def storage_backend(url: str, options: dict[str, str] | None = None) -> ObstoreBackend:
    """The backend for MEDIA_STORAGE_URL: `file:///path` (created if missing), `s3://bucket/prefix` with
    `options` (endpoint, region, access_key_id, secret_access_key), `memory:///`..."""
    if url.startswith("file://"):
        root = Path(url.removeprefix("file://"))
        root.mkdir(parents=True, exist_ok=True)
        return ObstoreBackend(key=STORAGE_KEY, fs=LocalStore(prefix=root))
    kwargs: dict[str, Any] = {key: value for key, value in (options or {}).items() if value}
    if url.startswith(S3_SCHEMES) and str(kwargs.get("endpoint", "")).startswith("http://"):
        kwargs["client_options"] = {"allow_http": True}  # a local MinIO or similar
    return ObstoreBackend(key=STORAGE_KEY, fs=url, **kwargs)


class ObjectMediaStorage:
    """Built on first use, so that a process that never touches media creates no directory."""

    def __init__(self, url: str, options: dict[str, str] | None = None) -> None:
        self._url = url
        self._options = options

    @cached_property
    def backend(self) -> ObstoreBackend:
        return storage_backend(self._url, self._options)

    @property
    def _backend(self) -> ObstoreBackend:
        return self.backend

    @property
    def scheme(self) -> str:
        return str(self.backend.protocol)

    async def save(self, path: str, data: bytes, content_type: str) -> None:
        await FileObject(
            backend=self._backend, filename=path, content_type=content_type, content=data
        ).save_async()

    async def read(self, path: str, first: int | None = None, last: int | None = None) -> bytes:
        if first is None:
            return await self._backend.get_content_async(path)
        if last is None:  # from `first` to the end (get_range_async needs an end)
            rest = await obstore.get_async(self._backend.fs, path, options={"range": {"offset": first}})
            return bytes(await rest.bytes_async())
        part = await obstore.get_range_async(self._backend.fs, path, start=first, end=last + 1)
        return bytes(part)

    async def delete(self, path: str) -> None:
        await self._backend.delete_object_async(path)
