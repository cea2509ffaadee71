"""The Clients screen: the search, and a client's whole record in its place once opened.

Enter on a result opens the record; Esc (or "Clients") goes back to the results as they were.
New client and Edit client open :class:`app.ui.patient_editor.PatientEditor`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPushButton, QStackedWidget, QVBoxLayout, QWidget

from app.ui import theme
from app.ui.errors import user_message
from app.ui.import_dialog import ImportDialog
from app.ui.operations import Op
from app.ui.patient_editor import PatientEditor
from app.ui.patient_record import PatientRecord
from app.ui.patient_search import PatientSearchPanel
from app.ui.record.client_record import ClientRecord
from app.ui.record.view import ClientRecordPanel
from core.permissions import Permission


class ClientsPage(QWidget):
    #: a record was shown (its patient id)
    record_shown = Signal(str)

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self.desk = desk
        self._record_op: Op | None = None
        self._generation = 0
        self.editor: PatientEditor | None = None
        self.search = PatientSearchPanel(desk)
        self.new_button = QPushButton(theme.icon("plus", "on-accent"), "New client")
        self.new_button.setObjectName("NewClientButton")
        self.new_button.setProperty("kind", "primary")
        self.new_button.setToolTip("Add a client (Ctrl+N)")
        self.new_button.clicked.connect(self.new_patient)
        self.new_button.setVisible(desk.can(Permission.PATIENT_WRITE))
        self.import_button = QPushButton(theme.icon("upload"), "Import\u2026")
        self.import_button.setObjectName("ImportClientsButton")
        self.import_button.setToolTip("Import a client list exported from another system (CSV)")
        self.import_button.clicked.connect(self.import_clients)
        self.import_button.setVisible(desk.can(Permission.PATIENT_IMPORT))
        self.import_dialog: ImportDialog | None = None
        self.search.title_row.addWidget(self.import_button)
        self.search.title_row.addWidget(self.new_button)
        self.detail = ClientRecordPanel(desk)
        self.detail.back_requested.connect(self.show_search)
        self.detail.edit_requested.connect(self.edit_patient)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.search)
        self.stack.addWidget(self.detail)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.search.open_requested.connect(self.open_patient)
        self.search.messages_requested.connect(lambda pid: self.open_patient(pid, tab="Messages"))
        self.search.escape_pressed.connect(self.close_record)

    # --- the record ---------------------------------------------------------------------------

    @property
    def showing_record(self) -> bool:
        return self.stack.currentWidget() is self.detail

    def open_patient(self, patient_id: str, tab: str | None = None) -> None:
        """Open a client's record (on the tab named ``tab``, e.g. "Messages")."""
        if self._record_op is not None and not self._record_op.done:
            self._record_op.cancel()
        self._generation += 1
        generation = self._generation
        if self.detail.record is None or self.detail.record.id != patient_id:
            self.detail.show_loading()
        self.stack.setCurrentWidget(self.detail)
        self._record_op = self.desk.open_patient(
            patient_id,
            on_success=lambda record: self._show_record(generation, record, tab),
            on_failure=lambda exc: self._record_failed(generation, exc),
            initiator=self,
        )

    def _show_record(self, generation: int, record: ClientRecord, tab: str | None = None) -> None:
        if generation == self._generation:
            self.detail.show_record(record)
            if tab:
                self.detail.tabs.select(tab)
            self.detail.setFocus()
            self.record_shown.emit(record.id)

    def _record_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.detail.show_error(user_message(exc))

    def refresh_record(self) -> None:
        """Read the open record again (after its data changed)."""
        if self.detail.record is not None and self.showing_record:
            self.open_patient(self.detail.record.id)

    def show_search(self) -> None:
        """Back to the results as they were (the record stays loaded until another is opened)."""
        self.stack.setCurrentWidget(self.search)
        self.search.focus_search()

    def close_record(self) -> None:
        self._generation += 1
        self.detail.show_empty()
        self.show_search()

    def focus_search(self) -> None:
        self.show_search()

    def reset(self) -> None:
        """Forget what was on screen (another person signed in, or the screen locked)."""
        if self._record_op is not None:
            self._record_op.cancel()
        self._generation += 1
        self.detail.show_empty()
        self.search.reset()
        self.stack.setCurrentWidget(self.search)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.showing_record:
            self.show_search()
            event.accept()
            return
        super().keyPressEvent(event)

    # --- import -------------------------------------------------------------------------------

    def import_clients(self) -> None:
        """The CSV import dialog (owners and managers)."""
        if not self.desk.can(Permission.PATIENT_IMPORT):
            return
        if self.import_dialog is not None:
            self.import_dialog.raise_()
            return
        dialog = ImportDialog(self.desk, self.window())
        dialog.destroyed.connect(lambda *_: setattr(self, "import_dialog", None))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.import_dialog = dialog
        dialog.open()

    # --- new and edit -------------------------------------------------------------------------

    def new_patient(self) -> None:
        if not self.desk.can(Permission.PATIENT_WRITE):
            return
        self._open_editor(None)

    def edit_current(self) -> None:
        if self.showing_record and self.detail.record is not None:
            self.edit_patient(self.detail.record.id)

    def edit_patient(self, patient_id: str) -> None:
        if not self.desk.can(Permission.PATIENT_WRITE):
            return
        self.desk.patient_for_edit(patient_id, on_success=self._open_editor,
                                   on_failure=lambda exc: self.detail.show_error(user_message(exc)))

    def _open_editor(self, record: PatientRecord | None) -> None:
        if self.editor is not None:
            self.editor.close()
        editor = PatientEditor(self.desk, record, self.window())
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.saved.connect(self.open_patient)
        editor.open_existing.connect(self.open_patient)
        editor.destroyed.connect(lambda *_: setattr(self, "editor", None))
        self.editor = editor
        editor.open()
