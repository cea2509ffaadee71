"""The client record panel: nothing open, opening, the record (profile beside tabs), or an error."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme
from app.ui.patient_record import PatientRecord
from app.ui.record.client_record import ClientRecord
from app.ui.record.profile import ProfileColumn
from app.ui.record.tabs import RecordTabs
from app.ui.widgets import icon_label, label
from core.permissions import Permission

PROFILE_WIDTH = 380


class ClientRecordPanel(QStackedWidget):
    """``record`` is the header snapshot shown now (``None`` when none); ``client`` the whole record."""

    EMPTY, LOADING, RECORD, ERROR = range(4)
    back_requested = Signal()
    edit_requested = Signal(str)  # patient id

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DetailPanel")
        self.record: PatientRecord | None = None
        self.client: ClientRecord | None = None
        self.addWidget(placeholder("user", "No client open",
                                   "Search for a client, pick one with \u2191 \u2193 and press Enter."))
        self.addWidget(placeholder(None, "Opening the record\u2026", ""))
        self.addWidget(self._record_page(desk))
        self._error = placeholder("alert", "The record could not be opened", "")
        self.addWidget(self._error)
        self.setCurrentIndex(self.EMPTY)

    # --- states -------------------------------------------------------------------------------

    def show_empty(self) -> None:
        self.record = self.client = None
        self.tabs.messages.reset()
        self.unread.hide()
        self.setCurrentIndex(self.EMPTY)

    def show_loading(self) -> None:
        self.setCurrentIndex(self.LOADING)

    def show_error(self, message: str) -> None:
        self.record = self.client = None
        detail = self._error.findChild(QLabel, "PlaceholderDetail")
        if detail is not None:
            detail.setText(message)
        self.setCurrentIndex(self.ERROR)

    def show_record(self, client: ClientRecord) -> None:
        same = self.client is not None and self.client.id == client.id
        self.client, self.record = client, client.patient
        old = self._scroll.takeWidget()
        if old is not None:
            old.deleteLater()
        self._scroll.setWidget(ProfileColumn(client))
        self.tabs.show_record(client)
        self.merged_note.setVisible(client.merged_from is not None)
        if not same:
            self.tabs.setCurrentIndex(0)
        self.setCurrentIndex(self.RECORD)

    def _unread_changed(self, unread: int) -> None:
        self.unread.setText(f"{unread} unread message{'s' if unread != 1 else ''}")
        self.unread.setVisible(unread > 0)

    def _edit_clicked(self) -> None:
        if self.record is not None:
            self.edit_requested.emit(self.record.id)

    def visible_text(self) -> str:
        """What the panel shows now as one string: the profile's labels (for tests)."""
        page = self._scroll.widget() if self.currentIndex() == self.RECORD else self.currentWidget()
        if page is None:
            return ""
        return "\n".join(w.text() for w in page.findChildren(QLabel) if w.text())

    # --- pieces -------------------------------------------------------------------------------

    def _record_page(self, desk: Any) -> QWidget:
        page = QWidget()
        page.setObjectName("RecordView")
        self.back = QPushButton(theme.icon("back", "accent-strong"), "Clients")
        self.back.setProperty("kind", "ghost")
        self.back.setToolTip("Back to the search (Esc)")
        self.back.clicked.connect(self.back_requested.emit)
        self.edit = QPushButton(theme.icon("edit", "text2"), "Edit client")
        self.edit.setToolTip("Edit this client's details (Ctrl+E)")
        self.edit.clicked.connect(self._edit_clicked)
        self.edit.setVisible(desk.can(Permission.PATIENT_WRITE))
        self.unread = QPushButton(theme.icon("message", "accent-strong"), "")
        self.unread.setObjectName("RecordUnread")
        self.unread.setProperty("kind", "ghost")
        self.unread.setToolTip("Open the client's messages")
        self.unread.hide()
        self.merged_note = label("The record you opened was merged into this one; its history is here now.",
                                 kind="muted", name="MergedNote")
        self.merged_note.hide()
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.back)
        bar.addWidget(self.merged_note)
        bar.addStretch(1)
        bar.addWidget(self.unread)
        bar.addWidget(self.edit)
        self._scroll = QScrollArea()
        self._scroll.setObjectName("RecordScroll")
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setFixedWidth(PROFILE_WIDTH)
        self.tabs = RecordTabs(desk)
        self.tabs.messages.unread_changed.connect(self._unread_changed)
        self.unread.clicked.connect(lambda: self.tabs.select("Messages"))
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(24)
        body.addWidget(self._scroll)
        body.addWidget(self.tabs, 1)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(20, 12, 24, 16)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addLayout(body, 1)
        return page


def placeholder(icon: str | None, title: str, detail: str) -> QWidget:
    page = QWidget()
    page.setObjectName("Placeholder")
    layout = QVBoxLayout(page)
    layout.addStretch(2)
    if icon:
        layout.addWidget(icon_label(icon, size=40, color="icon-faint"), 0, Qt.AlignmentFlag.AlignHCenter)
    heading = label(title, name="PlaceholderTitle")
    heading.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    layout.addWidget(heading)
    text = label(detail, name="PlaceholderDetail", wrap=True)
    text.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    layout.addWidget(text)
    layout.addStretch(3)
    return page
