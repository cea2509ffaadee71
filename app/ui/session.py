"""Idle lock: watch the person's input anywhere in the app and say when it has been idle too long.

An application-wide event filter notes the time of each keyboard, mouse, wheel or touch event
(a cheap timestamp, no timer restart per event); a coarse timer compares it with the timeout.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

DEFAULT_IDLE_MINUTES = 5
_INPUT = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
    QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TabletPress, QEvent.Type.ShortcutOverride,
})


class IdleWatch(QObject):
    """``went_idle`` once the app has had no input for ``timeout_ms`` while running."""

    went_idle = Signal()

    def __init__(self, parent: QObject | None = None, *, timeout_ms: int = DEFAULT_IDLE_MINUTES * 60_000) -> None:
        super().__init__(parent)
        self._timeout_ms = timeout_ms
        self._last_input = time.monotonic()
        self._check = QTimer(self)
        self._check.timeout.connect(self._tick)
        self._running = False
        self._installed = False

    @property
    def timeout_ms(self) -> int:
        return self._timeout_ms

    @property
    def running(self) -> bool:
        return self._running

    def set_timeout_ms(self, timeout_ms: int) -> None:
        self._timeout_ms = max(int(timeout_ms), 50)
        self._check.setInterval(min(1000, max(self._timeout_ms // 5, 10)))

    def start(self) -> None:
        app = QApplication.instance()
        if app is not None and not self._installed:
            app.installEventFilter(self)
            self._installed = True
        self._last_input = time.monotonic()
        self._running = True
        self.set_timeout_ms(self._timeout_ms)
        self._check.start()

    def stop(self) -> None:
        self._running = False
        self._check.stop()

    def poke(self) -> None:
        """Count as input now."""
        self._last_input = time.monotonic()

    def idle_ms(self) -> float:
        return (time.monotonic() - self._last_input) * 1000

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT:
            self._last_input = time.monotonic()
        return False

    def _tick(self) -> None:
        if self._running and self.idle_ms() >= self._timeout_ms:
            self.stop()
            self.went_idle.emit()

    def shutdown(self) -> None:
        self.stop()
        app = QApplication.instance()
        if app is not None and self._installed:
            app.removeEventFilter(self)
            self._installed = False
