"""Import a client list (CSV) from another system: check it, fix the column mapping, import.

Owners and managers (``patient.import`` in core's permission table) open it from Clients.

1. Choose the file; **Check file** runs the dry run (:func:`app.services.csv_import.plan_import`)
   on the DB worker, with Cancel: nothing is written.
2. The report: how many clients would be created, every problem row with its line number and the
   reason, every duplicate with what it matches; the columns found and the field each one goes
   to, which can be changed (the file is then checked again with that mapping).
3. **Import N clients** creates them in one transaction (:func:`run_import`) with a progress bar
   and Cancel. All or nothing: a cancel or a failure leaves no client of the file behind. Rows
   with problems block the import unless "skip them" is ticked.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.services import csv_import
from app.services.csv_import import FIELDS, IGNORE, ImportCancelledError, ImportPlan, ImportReport
from app.ui import theme
from app.ui.desk import PATIENT, Desk
from app.ui.errors import user_message
from app.ui.formatting import display_count
from app.ui.models.import_report_model import ImportIssueModel
from app.ui.operations import Op
from app.ui.tables import RowTable
from app.ui.widgets import clear_layout, label, only_default, row

INTRO = ("Export the client list from your old system (Aesthetic Record, Boulevard, Zenoti, Mindbody, "
         "Vagaro or a spreadsheet) as a CSV file and choose it here. Glowdesk checks every row first "
         "and changes nothing until you press Import.")
NOT_MAPPED = "(not recognised: not imported)"


class ImportDialog(QDialog):
    #: clients were imported (how many)
    imported = Signal(int)

    def __init__(self, desk: Desk, parent: QWidget | None = None, *, progress_every: int = 100) -> None:
        super().__init__(parent)
        self.setObjectName("ImportDialog")
        self.setWindowTitle("Import clients \u2014 Glowdesk")
        self.desk = desk
        self.progress_every = progress_every
        self.plan: ImportPlan | None = None
        self.result: ImportReport | None = None
        self.busy: str | None = None  # "check" or "import" while one runs
        self._mapping: dict[str, str] = {}
        self._combos: dict[str, QComboBox] = {}
        self._cancel = threading.Event()
        self._op: Op | None = None

        title = label("Import clients from a file", name="DialogTitle")
        intro = label(INTRO, kind="muted", wrap=True)
        self.path = QLineEdit()
        self.path.setObjectName("ImportPath")
        self.path.setPlaceholderText("clients.csv")
        self.path.returnPressed.connect(self.check)
        self.browse_button = QPushButton(theme.icon("list"), "Choose file\u2026")
        self.browse_button.clicked.connect(self.browse)
        self.check_button = QPushButton("Check file")
        self.check_button.clicked.connect(self.check)
        self.summary = label("", name="ImportSummary", wrap=True, selectable=True)
        self.columns_title = label("Columns", kind="section")
        self.columns_box = QWidget()
        self.columns_box.setObjectName("ImportColumns")
        self.columns_form = QFormLayout(self.columns_box)
        self.columns_form.setContentsMargins(0, 0, 12, 0)
        self.columns_form.setSpacing(6)
        columns_scroll = QScrollArea()
        columns_scroll.setObjectName("ImportColumnsScroll")
        columns_scroll.setWidgetResizable(True)
        columns_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        columns_scroll.setWidget(self.columns_box)
        columns_scroll.setFixedWidth(380)
        self.columns_scroll = columns_scroll
        self.issues_title = label("Rows to look at", kind="section")
        self.issues = ImportIssueModel(self)
        self.issue_table = RowTable(self.issues, row_height=32, name="ImportIssues")
        self.issue_table.selectionModel().currentRowChanged.connect(lambda *_: self._issue_chosen())
        self.issue_detail = label("", name="ImportIssueDetail", wrap=True, selectable=True)
        self.skip_invalid = QCheckBox("Import the good rows and skip the rows with problems")
        self.skip_invalid.toggled.connect(lambda _on: self._update_buttons())
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.status = label("", wrap=True, selectable=True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.import_button = QPushButton(theme.icon("upload", "on-accent"), "Import")
        self.import_button.setProperty("kind", "primary")
        self.import_button.clicked.connect(self.start_import)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)

        left = QVBoxLayout()
        left.addWidget(self.columns_title)
        left.addWidget(columns_scroll, 1)
        right = QVBoxLayout()
        right.addWidget(self.issues_title)
        right.addWidget(self.issue_table, 1)
        right.addWidget(self.issue_detail)
        self.report_area = QWidget()
        middle = QHBoxLayout(self.report_area)
        middle.setContentsMargins(0, 0, 0, 0)
        middle.setSpacing(16)
        middle.addLayout(left, 0)
        middle.addLayout(right, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.skip_invalid)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(row(self.path, self.browse_button, self.check_button, stretch_end=False))
        layout.addWidget(self.summary)
        layout.addWidget(self.report_area, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(1120, 660)
        only_default(self, None)  # Enter in the path field checks the file, nothing else
        self._show_report(None)

    # --- step 1: the file -----------------------------------------------------------------

    def browse(self) -> None:
        start = str(Path(self.path.text()).expanduser().parent) if self.path.text() else str(Path.home())
        chosen, _filter = QFileDialog.getOpenFileName(self, "Choose the client list", start,
                                                      "Client lists (*.csv *.txt *.tsv);;All files (*)")
        if chosen:
            self.path.setText(chosen)
            self._mapping = {}
            self.check()

    def choose_file(self, path: str | Path) -> None:
        """As if the file had been picked in the file dialog."""
        self.path.setText(str(path))
        self._mapping = {}
        self.check()

    def check(self) -> None:
        """The dry run: read and check every row (writes nothing)."""
        text = self.path.text().strip()
        if not text or self.busy:
            if not text:
                self.status.setText("Choose the file to import first.")
            return
        path = Path(text).expanduser()
        store, clinic = self.desk.workspace.store, self.desk.clinic
        mapping: dict[str, str | None] | None = dict(self._mapping) if self._mapping else None
        cancel = self._begin("check", f"Checking {path.name}\u2026")
        self._op = self.desk.ops.run_db(
            lambda: csv_import.plan_import(store, path, clinic_id=clinic.id, region=clinic.region,
                                           mapping=mapping, should_cancel=cancel.is_set),
            on_success=self._planned, on_failure=self._check_failed, label="check a client list")

    def _planned(self, plan: ImportPlan) -> None:
        self._end()
        self.plan = plan
        self.result = None
        self._show_report(plan.report)
        self.status.setText("")

    def _check_failed(self, exc: BaseException) -> None:
        self._end()
        if isinstance(exc, ImportCancelledError):
            self.status.setText("Checking was cancelled; nothing was changed.")
            return
        self.plan = None
        self._show_report(None)
        self.status.setText(user_message(exc))

    # --- step 2: the report and the mapping -----------------------------------------------

    def _show_report(self, report: ImportReport | None) -> None:
        self.report_area.setVisible(report is not None)
        self.skip_invalid.setVisible(bool(report and report.errors))
        self.progress.hide()
        if report is None:
            self.summary.setText("")
            self.issues.set_issues([])
            self._update_buttons()
            return
        self.summary.setText(self._summary(report))
        self._fill_columns(report)
        self.issues.set_issues(report.problems())
        n = len(report.issues)
        self.issues_title.setText(f"Rows to look at ({n:,})" if n else "Rows to look at: none, every row is fine")
        self.issue_table.setVisible(bool(n))
        if n:
            self.issue_table.selectRow(0)
        self._issue_chosen()
        self._update_buttons()

    def _issue_chosen(self) -> None:
        issue = self.issues.issue(self.issue_table.current_row())
        self.issue_detail.setText(f"Line {issue.line:,}: {issue.message}" if issue else "")
        self.issue_detail.setVisible(issue is not None)

    @staticmethod
    def _summary(report: ImportReport) -> str:
        text = report.summary()
        if report.errors:
            text += (" Fix those rows in the file and check it again, or tick the box below to import "
                     "the good rows and skip them.")
        return text

    def _fill_columns(self, report: ImportReport) -> None:
        clear_layout(self.columns_form)
        self._combos = {}
        headings = [*report.mapping, *report.ignored_columns, *report.unknown_columns]
        for heading in headings:
            combo = QComboBox()
            combo.setObjectName("ImportColumn")
            combo.setMinimumWidth(210)
            for key, text in FIELDS.items():
                combo.addItem(text, key)
            chosen = report.mapping.get(heading)
            if chosen is None:
                if heading in report.unknown_columns:
                    combo.insertItem(0, NOT_MAPPED, None)
                    combo.setCurrentIndex(0)
                else:
                    combo.setCurrentIndex(combo.findData(IGNORE))
            else:
                combo.setCurrentIndex(combo.findData(chosen))
            combo.currentIndexChanged.connect(lambda _i, h=heading, c=combo: self._remap(h, c))
            self.columns_form.addRow(label(heading, kind="field-label"), combo)
            self._combos[heading] = combo
        self.columns_title.setText(f"Columns in the file ({len(headings):,}): imported as")

    def _remap(self, heading: str, combo: QComboBox) -> None:
        field = combo.currentData()
        if field is None:
            return
        self._mapping[heading] = str(field)
        self.check()

    def set_column(self, heading: str, field: str) -> None:
        """As if the person chose ``field`` for ``heading`` in its list."""
        combo = self._combos[heading]
        combo.setCurrentIndex(combo.findData(field))

    def column_fields(self) -> dict[str, str | None]:
        return {h: c.currentData() for h, c in self._combos.items()}

    # --- step 3: import -------------------------------------------------------------------

    def importable(self) -> int:
        plan = self.plan
        if plan is None or self.result is not None:
            return 0
        if plan.report.errors and not self.skip_invalid.isChecked():
            return 0
        return plan.report.to_create

    def _update_buttons(self) -> None:
        busy = self.busy is not None
        n = self.importable()
        self.import_button.setText(f"Import {display_count(n, 'client')}" if n else "Import")
        self.import_button.setEnabled(n > 0 and not busy)
        self.import_button.setVisible(self.result is None)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.check_button.setEnabled(not busy)
        self.browse_button.setEnabled(not busy)
        self.path.setEnabled(not busy)
        for combo in self._combos.values():
            combo.setEnabled(not busy and self.result is None)
        self.skip_invalid.setEnabled(not busy and self.result is None)
        self.close_button.setText("Done" if self.result is not None else "Close")

    def start_import(self) -> None:
        plan = self.plan
        if plan is None or not self.importable() or self.busy:
            return
        store, clinic, actor = self.desk.workspace.store, self.desk.clinic, self.desk.actor
        skip, every = self.skip_invalid.isChecked(), self.progress_every
        cancel = self._begin("import", f"Importing {display_count(plan.report.to_create, 'client')}\u2026")
        self.progress.setRange(0, max(plan.report.to_create, 1))
        self.progress.setValue(0)
        self.progress.show()

        def work(report: Any) -> ImportReport:
            return csv_import.run_import(store, plan, actor=actor, clinic_id=clinic.id, region=clinic.region,
                                         skip_invalid=skip, progress=report, should_cancel=cancel.is_set,
                                         progress_every=every)

        self._op = self.desk.ops.run_db(work, on_progress=self._progressed, on_success=self._imported,
                                        on_failure=self._import_failed, writes={PATIENT}, initiator=self,
                                        label="import clients")

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(f"Importing\u2026 {done:,} of {total:,}")

    def _imported(self, report: ImportReport) -> None:
        self._end()
        self.result = report
        self.progress.setValue(self.progress.maximum())
        self.summary.setText(report.summary())
        self.status.setText("Done. The new clients are in Clients now.")
        self._update_buttons()
        self.imported.emit(report.created)

    def _import_failed(self, exc: BaseException) -> None:
        self._end()
        self.progress.hide()
        if isinstance(exc, ImportCancelledError):
            self.status.setText(exc.user_message + " Press Import to start again.")
        else:
            self.status.setText(f"{user_message(exc)} Nothing was imported.")
        self._update_buttons()

    # --- running and cancelling -----------------------------------------------------------

    def _begin(self, what: str, text: str) -> threading.Event:
        self.busy = what
        self._cancel = threading.Event()
        self.status.setText(text)
        self._update_buttons()
        return self._cancel

    def _end(self) -> None:
        self.busy = None
        self._update_buttons()

    def cancel(self) -> None:
        """Stop the check or the import; an import rolls back completely."""
        if self.busy:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling\u2026")

    def reject(self) -> None:
        if self.busy:  # never leave an import running behind a closed dialog
            self.cancel()
            return
        super().reject()


__all__ = ["ImportDialog"]
