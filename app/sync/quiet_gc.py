"""Hold off Python's cyclic garbage collector while a pull page is parsed and applied.

A 5,000-row page is a few hundred thousand small dicts, lists and tuples with no reference
cycles; the collector's generation-0 threshold (700 allocations) makes it run hundreds of
times per page and rescan the growing older generations, which measured ~35 % of the time of
parsing a page. Reference counting still frees everything as usual; the collector is paused
only while at least one page is being parsed or applied (the pipeline does both at once, on
two threads, hence the count) and runs again as soon as none is.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = True


@contextmanager
def quiet_gc() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
