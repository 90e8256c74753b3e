"""Password hashes with bcrypt, computed in a worker thread so that the event loop keeps serving."""

from __future__ import annotations

import asyncio

import bcrypt

DEFAULT_ROUNDS = 12


class BcryptPasswordHasher:
    def __init__(self, rounds: int = DEFAULT_ROUNDS) -> None:
        self._rounds = rounds

    def hash_now(self, password: str) -> str:
        return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(self._rounds)).decode()

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hash_now, password)

    async def verify(self, password: str, password_hash: str) -> bool:
        return await asyncio.to_thread(self._check, password, password_hash)

    @staticmethod
    def _check(password: str, password_hash: str) -> bool:
        try:
            return bcrypt.checkpw(password.encode()[:72], password_hash.encode())
        except ValueError:  # not a bcrypt hash at all
            return False
