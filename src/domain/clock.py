"""Time in one place, so that rules about windows and expiry read the same everywhere."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
