"""Failed-login counters in a Litestar store (PostgreSQL-backed in the app, so every worker agrees)."""

from __future__ import annotations

from litestar.stores.base import Store


class StoreLoginAttempts:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def failures(self, key: str) -> int:
        value = await self._store.get(key)
        return int(value) if value else 0

    async def record_failure(self, key: str, *, window_seconds: int) -> int:
        count = await self.failures(key) + 1
        await self._store.set(key, str(count).encode(), expires_in=window_seconds)
        return count

    async def clear(self, key: str) -> None:
        await self._store.delete(key)
