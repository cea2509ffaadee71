"""The guard that keeps None alive where PySide6 drops a reference to it on every void call."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject

from app.ui.schedule.refcount_guard import guard_none_refcount, none_refcount_leaks


def test_a_long_session_of_void_qt_calls_survives(qapp):
    guard_none_refcount()
    if none_refcount_leaks():
        assert sys.getrefcount(None) > 1 << 39  # the guard is in place on this interpreter
    probe = QObject()
    for _ in range(200_000):  # several times what None starts with: unguarded, this aborts the process
        probe.setObjectName("x")
    assert guard_none_refcount() is False  # once per process
