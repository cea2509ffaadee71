"""The main window: the clinic's header, the client search beside the open record, the store state."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme
from app.ui.actions import ActionId, Actions
from app.ui.desk import PATIENT, Desk, StoreSummary
from app.ui.errors import user_message
from app.ui.formatting import display_count
from app.ui.operations import Op
from app.ui.patient_detail import PatientDetailPanel
from app.ui.patient_record import PatientRecord
from app.ui.patient_search import PatientSearchPanel
from app.ui.widgets import chip, icon_label, label
from core.permissions import Role

ABOUT_TEXT = (
    "Glowdesk \u2014 the operating system of a medical spa.\n\n"
    "Client data on this workstation is kept in an encrypted database."
)


def role_label(role: str | None) -> str:
    try:
        return Role(role).label if role else ""
    except ValueError:
        return str(role)


class MainWindow(QMainWindow):
    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.setObjectName("MainWindow")
        self.setWindowTitle(f"{desk.clinic.name} \u2014 Glowdesk")
        self.setWindowIcon(theme.icon("glowdesk", color=None))
        self.resize(1280, 800)
        self.setMinimumSize(900, 560)
        self._record_op: Op | None = None
        self._record_generation = 0
        self.summary: StoreSummary | None = None
        self.last_error: str | None = None

        self.action_registry = Actions(self)
        self.action_registry.apply_role(desk.actor_role)
        self.action_registry.fill_menu_bar(self.menuBar())

        self.search = PatientSearchPanel(desk)
        self.detail = PatientDetailPanel()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("MainSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.search)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([800, 480])
        self.detail.setMinimumWidth(400)

        central = QWidget()
        central.setObjectName("Central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._header())
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self._build_status_bar()

        self.action_registry.on(ActionId.FIND, self.search.focus_search)
        self.action_registry.on(ActionId.OPEN_RECORD, self.search.open_current)
        self.action_registry.on(ActionId.CLOSE_RECORD, self.close_record)
        self.action_registry.on(ActionId.REFRESH, self.refresh)
        self.action_registry.on(ActionId.QUIT, self.close)
        self.action_registry.on(ActionId.ABOUT, self._about)
        self.search.open_requested.connect(self.open_patient)
        self.search.escape_pressed.connect(self.close_record)
        desk.ops.changes_did_happen.connect(self._changes_did_happen)
        desk.ops.operation_did_fail.connect(self._operation_did_fail)

        self.search.field.setFocus()
        self.refresh_summary()

    # --- the record ---------------------------------------------------------------------------

    def open_patient(self, patient_id: str) -> None:
        if self._record_op is not None and not self._record_op.done:
            self._record_op.cancel()
        self._record_generation += 1
        generation = self._record_generation
        self.detail.show_loading()
        self._record_op = self.desk.open_patient(
            patient_id,
            on_success=lambda record: self._show_record(generation, record),
            on_failure=lambda exc: self._record_failed(generation, exc),
            initiator=self,
        )

    def _show_record(self, generation: int, record: PatientRecord) -> None:
        if generation == self._record_generation:
            self.detail.show_record(record)

    def _record_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._record_generation:
            self.detail.show_error(user_message(exc))

    def close_record(self) -> None:
        self._record_generation += 1
        self.detail.show_empty()
        self.search.focus_search()

    # --- keeping up to date -------------------------------------------------------------------

    def refresh(self) -> None:
        self.search.refresh()
        self.refresh_summary()

    def refresh_summary(self) -> None:
        self.desk.summarize_store(on_success=self._show_summary)

    def _show_summary(self, summary: StoreSummary) -> None:
        self.summary = summary
        state = "Encrypted store" if summary.encrypted else "Store NOT encrypted"
        self.store_label.setText(f"{state} \u00b7 {display_count(summary.patients, 'patient')}")

    def _changes_did_happen(self, changes: set[str], initiator: Any) -> None:
        if PATIENT in changes:
            self.search.refresh()
            self.refresh_summary()

    def _operation_did_fail(self, label_text: str, message: str) -> None:
        self.last_error = message
        self.statusBar().showMessage(message, 10_000)
        box = QMessageBox(QMessageBox.Icon.Warning, "Glowdesk", message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not modal-blocking: the app keeps running

    # --- chrome -------------------------------------------------------------------------------

    def _header(self) -> QWidget:
        bar = QFrame()
        bar.setObjectName("HeaderBar")
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(20, 10, 20, 10)
        layout.setSpacing(10)
        layout.addWidget(icon_label("glowdesk", size=28, color=None))
        layout.addWidget(label(self.desk.clinic.name, name="ClinicName"))
        if self.desk.is_demo:
            layout.addWidget(chip("Demo clinic", tone="accent"))
        layout.addStretch(1)
        layout.addWidget(icon_label("user", size=18))
        who = self.desk.actor_name + (f" \u00b7 {role_label(self.desk.actor_role)}" if self.desk.actor_role else "")
        layout.addWidget(label(who, name="ActorName"))
        return bar

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setObjectName("StatusBar")
        bar.setSizeGripEnabled(False)
        box = QWidget()
        line = QHBoxLayout(box)
        line.setContentsMargins(12, 0, 0, 0)
        line.setSpacing(6)
        line.addWidget(icon_label("lock", size=14, color=theme.OK))
        self.store_label = label("Encrypted store \u00b7 counting patients\u2026", name="StoreState")
        line.addWidget(self.store_label)
        bar.addWidget(box)
        clinic = self.desk.clinic
        bar.addPermanentWidget(label(f"{clinic.timezone.replace('_', ' ')} \u00b7 {clinic.currency}",
                                     name="ClinicFacts"))

    def _about(self) -> None:
        QMessageBox.about(self, "About Glowdesk", ABOUT_TEXT)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._record_op is not None:
            self._record_op.cancel()
        super().closeEvent(event)
