"""``--self-test``: open the main window, search on the DB worker, check the answers, one line."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from app.ui.desk import Desk, StoreSummary
from app.ui.formatting import display_count
from app.ui.main_window import MainWindow
from app.ui.sync_controller import SyncController

#: single letters tried in turn until one finds clients (any name has one of them)
PROBES = ("a", "e", "m", "s", "j", "l", "r", "c", "d", "k", "n", "t", "b")
TIMEOUT_MS = 60_000


class SelfTest(QObject):
    """Runs the checks through the event loop and calls ``on_done(ok, line)`` exactly once."""

    def __init__(self, desk: Desk, *, on_done: Callable[[bool, str], None]) -> None:
        super().__init__()
        self._desk = desk
        self._on_done = on_done
        self._finished = False
        self.window: MainWindow | None = None
        self.window_ms = 0.0
        self.search_ms = 0.0
        self.patients = 0
        self._probes = list(PROBES)
        self._probe_hits = 0
        self._watchdog = QTimer(self)
        self._watchdog.setSingleShot(True)
        self._watchdog.timeout.connect(lambda: self._fail(f"no answer within {TIMEOUT_MS // 1000} s"))

    def start(self) -> None:
        self._watchdog.start(TIMEOUT_MS)
        self._desk.ops.operation_did_fail.connect(lambda label, message: self._fail(f"{label}: {message}"))
        started = time.perf_counter()
        desk = self._desk  # a check, not a workday: show the sync state, never sync
        self.window = MainWindow(desk, sync=SyncController(desk.ops, desk.workspace, background=False))
        self.window.show()
        self.window.grab()  # forces a full layout and paint
        QApplication.processEvents()
        self.window_ms = (time.perf_counter() - started) * 1000
        if self._desk.clinic.name not in self.window.windowTitle():
            self._fail("the main window does not name the clinic")
            return
        self._desk.summarize_store(on_success=self._got_summary)

    def _got_summary(self, summary: StoreSummary) -> None:
        if not summary.encrypted:
            self._fail("the store is not encrypted")
            return
        self.patients = summary.patients
        self._probe()

    def _probe(self) -> None:
        text = self._probes.pop(0)
        started = time.perf_counter()
        self._desk.search_patients(text, on_success=lambda hits: self._probed(text, started, hits))

    def _probed(self, text: str, started: float, hits: list[object]) -> None:
        self.search_ms = (time.perf_counter() - started) * 1000
        if not hits and self.patients and self._probes:
            self._probe()
            return
        if self.patients and not hits:
            self._fail(f"searches over {self.patients:,} patients found nobody")
            return
        self._probe_hits = len(hits)
        self._type_into_window(text)

    def _type_into_window(self, text: str) -> None:
        """The same search through the window: debounce, worker, model, table."""
        assert self.window is not None
        panel = self.window.search
        panel.results_shown.connect(self._window_showed)
        panel.field.setText(text)

    def _window_showed(self, count: int) -> None:
        if count != self._probe_hits:
            self._fail(f"the window showed {count} results where the search found {self._probe_hits}")
            return
        self._finish(True, (
            f"self-test ok: store encrypted, {display_count(self.patients, 'patient')}, "
            f"search {self.search_ms:.0f} ms, window {self.window_ms:.0f} ms"
        ))

    def _fail(self, reason: str) -> None:
        self._finish(False, f"self-test failed: {reason}")

    def _finish(self, ok: bool, line: str) -> None:
        if self._finished:
            return
        self._finished = True
        self._watchdog.stop()
        if self.window is not None:
            self.window.close()
        self._on_done(ok, line)
