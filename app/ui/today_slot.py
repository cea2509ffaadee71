"""The Today screen's place in the window: the schedule (``app.ui.schedule.TodayView``) when it is
in this build, otherwise a plain placeholder saying the schedule is not here."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.ui.record.tabs import not_yet
from app.ui.widgets import label

log = logging.getLogger(__name__)


def make_today(desk: Any, parent: QWidget | None = None) -> QWidget:
    """``TodayView(desk, parent)`` if the schedule is importable, else a placeholder page."""
    try:
        from app.ui.schedule import TodayView  # type: ignore[attr-defined]
    except ImportError:
        log.info("the schedule is not in this build; showing the Today placeholder")
        return TodayPlaceholder(parent)
    view: QWidget = TodayView(desk, parent)
    return view


class TodayPlaceholder(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(8)
        layout.addWidget(label("Today", name="PageTitle"))
        layout.addWidget(not_yet("calendar", "The schedule is not in this build",
                                 "Today's appointments, per provider or per room, will show here."))
        layout.addStretch(1)
