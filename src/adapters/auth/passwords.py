"""Password hashes with bcrypt."""

from __future__ import annotations

import bcrypt

DEFAULT_ROUNDS = 12


class BcryptPasswordHasher:
    def __init__(self, rounds: int = DEFAULT_ROUNDS) -> None:
        self._rounds = rounds

    def hash(self, password: str) -> str:
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(self._rounds)).decode()

    def verify(self, password: str, password_hash: str) -> bool:
        try:
            return bcrypt.checkpw(password.encode()[:72], password_hash.encode())
        except ValueError:  # not a bcrypt hash at all
            return False
