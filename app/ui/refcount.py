"""Keep Python alive despite a PySide6 defect on CPython 3.11.

PySide6 6.12's abi3 wheels, on CPython 3.11, drop one reference to ``None`` on each call of a Qt
method that returns nothing, and one to ``True``/``False`` on each call that returns a bool
(``isVisible``, ``isChecked``...). Their counts drain and the process aborts ("Fatal Python error:
none_dealloc" / "bool_dealloc"), often at exit. CPython 3.12 made these objects immortal; on an
affected interpreter :func:`guard` gives them the same effective immortality. It probes first and
does nothing where the defect is absent. Applied once at start-up by :func:`app.ui.theme.apply_theme`
and by the schedule canvas before it paints.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

HEADROOM = 1 << 40
_PROBE_CALLS = 64
_done = False


def _raise(obj: object) -> None:
    count = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt: the first field of every object
    count.value += HEADROOM


def guard() -> list[str]:
    """Protect ``None``, ``True`` and ``False`` where Qt calls drain them; the names protected."""
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return []
    _done = True
    from PySide6.QtCore import QObject

    probe = QObject()
    protected = []
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
    if before - sys.getrefcount(None) >= _PROBE_CALLS // 2:
        # the bools drain through paths a cheap probe does not reach (seen: "bool_dealloc" at
        # exit after a session of screens); protect them together with None
        for value in (None, False, True):
            _raise(value)
            protected.append(str(value))
    if protected:
        log.info("raised the reference counts of %s (PySide6 drops references on this Python)",
                 ", ".join(protected))
    return protected


_collector: object | None = None
GC_INTERVAL_MS = 5_000


def collect_on_ui_thread(app: object) -> None:
    """Run Python's cyclic garbage collector only on the UI thread, every few seconds.

    Left automatic, a collection can start on the DB worker thread and free Qt wrappers that
    belong to the UI thread there, which crashes Qt (seen as a segfault inside "Garbage-collecting"
    on the worker). Anki does the same (``gc.disable()`` and collecting from the main thread).
    """
    global _collector
    import gc

    from PySide6.QtCore import QTimer

    if _collector is not None:
        return
    gc.disable()
    timer = QTimer(app)  # type: ignore[arg-type]
    timer.setInterval(GC_INTERVAL_MS)
    timer.timeout.connect(lambda: gc.collect())
    timer.start()
    _collector = timer
