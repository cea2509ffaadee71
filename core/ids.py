"""UUIDv7 identifiers (RFC 9562): time-ordered, made where the row is created."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def uuid7(*, unix_ms: int | None = None) -> uuid.UUID:
    """Return a new UUIDv7.

    Within one process ids are strictly increasing even when many are made in the same
    millisecond: the 12-bit ``rand_a`` field is used as a counter seeded randomly each
    millisecond (RFC 9562 section 6.2, method 1); on overflow the timestamp is advanced.
    """
    global _last_ms, _counter
    with _lock:
        ms = unix_ms if unix_ms is not None else time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:
                ms += 1
                _counter = int.from_bytes(os.urandom(2), "big") & 0x7FF
        else:
            _counter = int.from_bytes(os.urandom(2), "big") & 0x7FF
        _last_ms = ms
        counter = _counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= rand_b
    return uuid.UUID(int=value)


def new_id() -> str:
    """A new UUIDv7 as its canonical 36-character string (the form stored and sent on the wire)."""
    return str(uuid7())


def uuid7_unix_ms(value: uuid.UUID | str) -> int:
    """The creation time (Unix milliseconds) embedded in a UUIDv7."""
    u = value if isinstance(value, uuid.UUID) else uuid.UUID(value)
    if u.version != 7:
        raise ValueError("not a UUIDv7")
    return u.int >> 80
