"""Meta signs each webhook body: `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body, app secret>`."""

from __future__ import annotations

import hashlib
import hmac


def sign(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, header: str, app_secret: str) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII text, and a header is whatever a client sent.
    return hmac.compare_digest(sign(body, app_secret).encode(), header.strip().encode("utf-8", "replace"))
