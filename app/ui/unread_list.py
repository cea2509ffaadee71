"""The Clients screen's "Unread messages": every client whose thread has messages nobody on the
team has read yet, newest first, with how many and on which channel (names only, no text).
Enter or a double click opens the client's Messages tab."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.services.messaging import UnreadThread
from app.ui.formatting import display_ago
from app.ui.models.table_model import Col, RowTableModel
from app.ui.models.thread_model import CHANNELS
from app.ui.tables import RowTable
from app.ui.widgets import label, row

COLUMNS = (
    Col("Client", lambda t: t.name, None, bold=True),
    Col("Channel", lambda t: CHANNELS.get(t.channel, t.channel), 130, muted=True),
    Col("Unread", lambda t: f"{t.unread} new", 90, tone=lambda _t: "accent"),
    Col("Last message", lambda t: t.ago, 130, muted=True, right=True),
)


class _Line:
    __slots__ = ("id", "name", "channel", "unread", "ago")

    def __init__(self, t: UnreadThread, now: datetime) -> None:
        self.id, self.name, self.channel, self.unread = t.patient_id, t.name, t.channel, t.unread
        self.ago = f"{display_ago(t.last_at, now)} ago" if display_ago(t.last_at, now) != "just now" else "just now"


class UnreadList(QWidget):
    open_requested = Signal(str)  # patient id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("UnreadList")
        self.model = RowTableModel(COLUMNS, self)
        self.table = RowTable(self.model, name="UnreadTable", row_height=36)
        self.table.activated_row.connect(self._open)
        self.title = label("Unread messages", name="DialogTitle")
        self.note = label("", kind="muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(row(self.title, self.note))
        layout.addWidget(self.table, 1)
        self.hide()

    def set_threads(self, threads: Sequence[UnreadThread], now: datetime) -> None:
        self.model.set_rows([_Line(t, now) for t in threads])
        total = sum(t.unread for t in threads)
        self.note.setText(f"{total} from {len(threads)} client{'s' if len(threads) != 1 else ''}" if threads else "")
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setFixedHeight(min(len(threads), 8) * 36 + header + 4)

    def patient_ids(self) -> list[str]:
        return [line.id for line in self.model.rows()]

    def _open(self, index: int) -> None:
        line: Any = self.model.row(index)
        if line is not None:
            self.open_requested.emit(line.id)
