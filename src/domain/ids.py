"""Time-ordered ids (UUID version 7): rows created later sort later, which breaks ties between messages
that share a timestamp (Meta's are whole seconds) in the order they were stored."""

from __future__ import annotations

import os
import threading
import time
from uuid import UUID

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> UUID:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a per-process counter within the same
    millisecond (so ids made in one process are strictly increasing), then random bits."""
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            _counter += 1
            if _counter > 0xFFF:  # more than 4,096 ids in one millisecond: borrow the next one
                _last_ms += 1
                _counter = 0
            now_ms = _last_ms
        else:
            _last_ms, _counter = now_ms, int.from_bytes(os.urandom(2), "big") & 0x1FF
        counter = _counter
    random_bits = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (now_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | random_bits
    return UUID(int=value)
