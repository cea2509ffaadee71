"""A guard against a PySide6 defect: on CPython 3.11, PySide6 6.12's abi3 wheels drop one
reference to ``None`` on every call of a Qt method that returns nothing (``setPen``, ``update``,
``setText``...), so ``None``'s count drains by one per call and the process aborts with
"Fatal Python error: none_dealloc" once it reaches zero (about 30,000 calls after start-up; a
painted schedule makes over a thousand such calls per paint).

CPython 3.12 made ``None`` immortal, which is why the wheels get away with it there. On an
affected interpreter :func:`guard_none_refcount` gives ``None`` the same effective immortality
(a count so large no session can drain it). It probes first and does nothing where the defect is
absent. The proper fix belongs at application start-up (or in the PySide6 pin); the schedule
applies it itself because it is the heaviest caller.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

#: added to None's reference count on an affected interpreter (CPython 3.12 uses about 2**32)
HEADROOM = 1 << 40
_PROBE_CALLS = 64
_done = False


def none_refcount_leaks() -> bool:
    """Whether a void Qt call takes a reference to None away (probed with a throwaway QObject)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
    return before - sys.getrefcount(None) >= _PROBE_CALLS // 2


def guard_none_refcount() -> bool:
    """Make None survive the defect on an affected interpreter; True when the guard was applied."""
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    _done = True
    if not none_refcount_leaks():
        return False
    count = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt: the first field of every object
    count.value += HEADROOM
    log.warning("PySide6 drops references to None on this Python; None's count was raised to keep it alive")
    return True
