"""Find a client as you type: name, phone digits, email or Instagram handle; keyboard first.

A keystroke with no query in flight runs the query at once (no debounce: results within one
query's time of the keystroke). Keystrokes that arrive while a query runs are coalesced: when it
answers, its now-stale results are dropped and one query for the latest text runs straight away.
An answer to an older query than the latest is never shown, so results do not flicker back.
Up/Down/PageUp/PageDown in the search field move through the results; Enter opens one.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLineEdit,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme
from app.ui.desk import SEARCH_LIMIT, Desk
from app.ui.errors import user_message
from app.ui.formatting import display_count
from app.ui.models.patient_list_model import Column, PatientListModel
from app.ui.operations import Op
from app.ui.unread_list import UnreadList
from app.ui.widgets import label, row

MIN_PHONE_DIGITS = 4
_PHONEISH = re.compile(r"^[\d\s().+\-/]+$")
_NAV_KEYS = {Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown}
_ENTER_KEYS = {Qt.Key.Key_Return, Qt.Key.Key_Enter}


def short_phone_query(text: str) -> bool:
    """Digits only, but fewer than a phone search needs (``415``)."""
    text = text.strip()
    return bool(_PHONEISH.match(text)) and sum(c.isdigit() for c in text) < MIN_PHONE_DIGITS


class ResultsTable(QTableView):
    """The results; Enter (or a double click) asks to open the current row."""

    open_requested = Signal(int)

    def __init__(self, model: PatientListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ResultsTable")
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(40)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((Column.PHONE, 128), (Column.EMAIL, 204), (Column.INSTAGRAM, 140),
                              (Column.VIP, 78)):
            self.setColumnWidth(column, width)
        self.doubleClicked.connect(lambda index: self.open_requested.emit(index.row()))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in _ENTER_KEYS and self.currentIndex().isValid():
            self.open_requested.emit(self.currentIndex().row())
            event.accept()
            return
        super().keyPressEvent(event)


class PatientSearchPanel(QWidget):
    """The search field, the result count and the results."""

    open_requested = Signal(str)  # patient id
    #: a client of the unread-messages list was chosen (open their Messages tab)
    messages_requested = Signal(str)
    #: Esc in an empty search field (the window closes the open record)
    escape_pressed = Signal()
    results_shown = Signal(int)

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SearchPanel")
        self._desk = desk
        self._generation = 0
        self._pending: Op | None = None
        self._stale = False  # the text changed while a query was in flight
        self._shown_text = ""
        self._open_when_shown = False

        self.field = QLineEdit()
        self.field.setObjectName("SearchField")
        self.field.setPlaceholderText("Search clients by name, phone, email or @instagram")
        self.field.setClearButtonEnabled(True)
        self.field.addAction(theme.icon("search", "muted"), QLineEdit.ActionPosition.LeadingPosition)
        self.field.installEventFilter(self)
        self.field.textChanged.connect(self._text_changed)

        self.model = PatientListModel(self, region=desk.region)
        self.table = ResultsTable(self.model)
        self.table.open_requested.connect(self._open_row)
        self.table.installEventFilter(self)

        self.count_label = label("", name="ResultCount")
        self.hint = label("", name="SearchHint", wrap=True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.unread = UnreadList()
        self.unread.open_requested.connect(self.messages_requested.emit)
        self._idle = QWidget()
        idle = QVBoxLayout(self._idle)
        idle.setContentsMargins(0, 0, 0, 0)
        idle.addWidget(self.hint)
        idle.addWidget(self.unread)
        idle.addStretch(1)
        self._pages = QStackedWidget()
        self._pages.addWidget(self._idle)
        self._pages.addWidget(self.table)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 12, 16)
        layout.setSpacing(12)
        self.title_row = row(label("Clients", name="PageTitle"))
        layout.addLayout(self.title_row)
        layout.addWidget(self.field)
        layout.addLayout(row(self.count_label))
        layout.addWidget(self._pages, 1)
        self._show_idle()

    # --- public -------------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    def refresh(self) -> None:
        """Run the current search again (after data changed)."""
        if self.field.text().strip():
            self._run_search()

    def set_unread(self, threads: Any, now: Any) -> None:
        """The unread threads shown under the hint while nothing is searched."""
        self.unread.set_threads(threads, now)
        self.unread.setVisible(self._shown_text == "" and bool(threads))

    def current_patient_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.patient_id(index.row()) if index.isValid() else None

    def open_current(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self._open_row(index.row())

    @property
    def in_flight(self) -> bool:
        return self._pending is not None and not self._pending.done

    @property
    def searching(self) -> bool:
        return self.in_flight or self._stale

    def reset(self) -> None:
        """Forget the search (another person signed in)."""
        self._cancel_pending()
        self._generation += 1
        self.field.blockSignals(True)
        self.field.clear()
        self.field.blockSignals(False)
        self._show_idle()

    # --- searching ----------------------------------------------------------------------------

    def _text_changed(self, text: str) -> None:
        self._open_when_shown = False
        if not text.strip():
            self._cancel_pending()
            self._generation += 1
            self._show_idle()
            return
        if self.in_flight:
            self._stale = True  # coalesce: one query for the latest text when this one answers
            return
        self._run_search()

    def _run_search(self) -> None:
        self._stale = False
        text = self.field.text().strip()
        if not text:
            return
        self._cancel_pending()
        self._generation += 1
        generation = self._generation
        self._pending = self._desk.search_patients(
            text, on_success=lambda hits: self._show_hits(generation, text, hits),
            on_failure=lambda exc: self._search_failed(generation, exc))

    def _cancel_pending(self) -> None:
        self._stale = False
        if self._pending is not None and not self._pending.done:
            self._pending.cancel()
        self._pending = None

    def _search_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        if self._stale:
            self._run_search()
            return
        self.model.clear()
        self.count_label.setText("")
        self._show_hint(user_message(exc))

    def _show_hits(self, generation: int, text: str, hits: list[Any]) -> None:
        if generation != self._generation:
            return  # an older query answered after a newer one was sent: drop it
        if self._stale or text != self.field.text().strip():
            self._run_search()  # typed on while it ran: these results are already stale
            return
        keep = self.current_patient_id() if text == self._shown_text else None
        self._shown_text = text
        self.model.set_hits(hits)
        if not hits:
            self.count_label.setText("")
            if short_phone_query(text):
                self._show_hint(f"Type at least {MIN_PHONE_DIGITS} digits to search by phone.")
            else:
                self._show_hint(f"No clients match \u201c{text}\u201d.\nCheck the spelling, or try a phone "
                                "number, email or Instagram handle.")
        else:
            more = len(hits) >= SEARCH_LIMIT
            self.count_label.setText(
                f"Showing the first {len(hits)} matches \u2014 keep typing to narrow down" if more
                else display_count(len(hits), "match", "matches"))
            self._pages.setCurrentWidget(self.table)
            row_index = max(self.model.row_of(keep), 0) if keep else 0
            self.table.selectRow(row_index)
            self.table.scrollTo(self.model.index(row_index, 0))
        self.results_shown.emit(len(hits))
        if self._open_when_shown:
            self._open_when_shown = False
            self.open_current()

    def _show_idle(self) -> None:
        self._shown_text = ""
        self.model.clear()
        self.count_label.setText("")
        self._show_hint("Start typing to find a client.\nA name, the last 4+ digits of a phone number, "
                        "an email or an @instagram handle.")

    def _show_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.unread.setVisible(self._shown_text == "" and self.unread.model.rowCount() > 0)
        self._pages.setCurrentWidget(self._idle)

    def _open_row(self, row_index: int) -> None:
        patient_id = self.model.patient_id(row_index)
        if patient_id:
            self.open_requested.emit(patient_id)

    # --- keyboard -----------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return super().eventFilter(watched, event)
        key = event.key()
        if watched is self.field:
            if key in _NAV_KEYS and self.model.rowCount():
                QApplication.sendEvent(self.table, QKeyEvent(event.type(), key, event.modifiers()))
                return True
            if key in _ENTER_KEYS:
                if self.searching:
                    self._run_search_then_open()
                else:
                    self.open_current()
                return True
            if key == Qt.Key.Key_Escape:
                if self.field.text():
                    self.field.clear()
                else:
                    self.escape_pressed.emit()
                return True
        elif watched is self.table and key == Qt.Key.Key_Escape:
            self.focus_search()
            return True
        return super().eventFilter(watched, event)

    def _run_search_then_open(self) -> None:
        """Enter pressed before the results caught up with the typing: open the first fresh hit."""
        self._open_when_shown = True
