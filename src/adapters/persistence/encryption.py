"""Encryption at rest for tenant secrets (WhatsApp access tokens, app secrets, verify tokens).

The key is configured once at start-up (`configure_secret_key`); the column type reads it lazily, so the
models can be imported (by Alembic, say) before any key is known.
"""

from __future__ import annotations

from advanced_alchemy.types import EncryptedString

_key: bytes | None = None


def configure_secret_key(key: str | bytes) -> None:
    global _key
    _key = key.encode() if isinstance(key, str) else key


def secret_key() -> bytes:
    if _key is None:
        raise RuntimeError("The encryption key for stored secrets was never configured")
    return _key


def Secret() -> EncryptedString:  # noqa: N802 - reads like a column type where it is used
    return EncryptedString(key=secret_key)
