"""First run: connect this workstation to the clinic server, then download the clinic.

A data folder with no clinic that is not enrolled (and not a demo) opens here instead of the
sign-in screen. Two steps:

1. **Connect**: the server address, the one-time enrolment code from an administrator and a
   name for this workstation. The code is redeemed on the network pool
   (:func:`app.sync.enrolment.redeem`); the credential, the clinic and its staff are then stored on
   the DB worker (:func:`app.sync.enrolment.save_enrollment`). A wrong or expired code says so and
   nothing is stored.
2. **Download**: the first sync, on the network pool with its store work on the DB worker
   (``Operations.call_db``), showing the records downloaded so far and a progress bar, with
   Cancel. Each page is stored with its cursor, so a cancelled or failed download keeps what it
   has: Resume carries on, and so does the next start of Glowdesk (a folder enrolled whose first
   download never finished opens on this step). When it is done, the desk opens.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.sync_status import DOWNLOAD, ENROL
from app.services.workspace import Workspace
from app.sync import SyncEngine, SyncSummary
from app.sync.engine import SyncProgress
from app.sync.enrolment import Redeemed, check_can_enroll, redeem, save_enrollment
from app.sync.errors import SyncCancelled
from app.ui.errors import user_message
from app.ui.formatting import display_count
from app.ui.operations import Operations
from app.ui.widgets import label, only_default

INTRO = ("Ask your clinic's administrator for the server address and a one-time enrolment code. "
         "The clinic's clients and schedule are then downloaded into this computer's encrypted store.")
RESUMING = ("The first download of the clinic stopped before it finished. Glowdesk carries on from "
            "where it stopped; nothing downloaded so far is fetched again.")
KEPT = ("Nothing is lost: what was downloaded stays in this computer's encrypted store, and "
        "Glowdesk carries on from there when you resume or the next time it starts.")
BAR_STEPS = 1000


class FirstRunDialog(QDialog):
    """Connect, then download; ``accept()`` once the clinic is here, ``reject()`` to quit."""

    #: records downloaded so far (tests and the screen reader)
    progressed = Signal(int)

    def __init__(self, ops: Operations, workspace: Workspace, *, stage: str = ENROL,
                 pull_limit: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FirstRunDialog")
        self.setWindowTitle("Set up this workstation \u2014 Glowdesk")
        self.ops = ops
        self.workspace = workspace
        self.pull_limit = pull_limit
        self.rows = 0
        self.running = False
        self.outcome: str | None = None  # "done", "cancelled", "failed"
        self._cancel = threading.Event()
        self._closing = False

        self.pages = QStackedWidget()
        self.pages.addWidget(self._connect_page())
        self.pages.addWidget(self._download_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.addWidget(self.pages)
        self.resize(560, 340)
        only_default(self, self.connect_button)  # Enter connects; it never presses Quit
        if stage == DOWNLOAD:
            self.pages.setCurrentIndex(1)
            clinic = workspace.clinic.name if workspace.clinic else "the clinic"
            self.download_title.setText(f"Finishing the download of {clinic}")
            self.note.setText(RESUMING)
            QTimer.singleShot(0, self.start_download)

    # --- the pages ------------------------------------------------------------------------

    def _connect_page(self) -> QWidget:
        page = QWidget()
        title = label("Connect this workstation to your clinic", name="DialogTitle")
        intro = label(INTRO, kind="muted", wrap=True)
        self.url = QLineEdit()
        self.url.setObjectName("ServerAddress")
        self.url.setPlaceholderText("https://clinic.example.com")
        self.code = QLineEdit()
        self.code.setObjectName("EnrolmentCode")
        self.code.setPlaceholderText("one-time code")
        self.name = QLineEdit(socket.gethostname() or "Workstation")
        self.name.setObjectName("WorkstationName")
        self.message = label("", kind="field-error", wrap=True, selectable=True)
        form = QFormLayout()
        form.setSpacing(10)
        form.addRow("Server address", self.url)
        form.addRow("Enrolment code", self.code)
        form.addRow("Workstation name", self.name)
        self.connect_button = QPushButton("Connect")
        self.connect_button.setProperty("kind", "primary")
        self.connect_button.clicked.connect(self.submit)
        quit_button = QPushButton("Quit")
        quit_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(quit_button)
        buttons.addWidget(self.connect_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addLayout(buttons)
        return page

    def _download_page(self) -> QWidget:
        page = QWidget()
        self.download_title = label("Downloading the clinic", name="DialogTitle")
        self.note = label("", kind="muted", wrap=True)
        self.count = label("Starting\u2026", name="DownloadCount")
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setRange(0, 0)
        self.status = label("", wrap=True, selectable=True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setProperty("kind", "primary")
        self.resume_button.clicked.connect(self.start_download)
        self.close_button = QPushButton("Close Glowdesk")
        self.close_button.clicked.connect(self.reject)
        for button in (self.resume_button, self.close_button):
            button.hide()
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.resume_button)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(self.download_title)
        layout.addWidget(self.note)
        layout.addSpacing(8)
        layout.addWidget(self.count)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addLayout(buttons)
        return page

    # --- step 1: connect ------------------------------------------------------------------

    def submit(self) -> None:
        if not self.connect_button.isEnabled() or self.pages.currentIndex() != 0:
            return
        url, code, name = self.url.text().strip(), self.code.text().strip(), self.name.text().strip()
        if not url:
            self.message.setText("Enter the clinic server's address, such as https://clinic.example.com.")
            self.url.setFocus()
            return
        if not code:
            self.message.setText("Enter the enrolment code your administrator gave you.")
            self.code.setFocus()
            return
        self.message.setText("Connecting to the clinic server\u2026")
        self.connect_button.setEnabled(False)
        store = self.workspace.store
        self.ops.run_db(lambda: check_can_enroll(store), label="check the data folder",
                        on_success=lambda _none: self._redeem(url, code, name or "Workstation"),
                        on_failure=self._connect_failed)

    def _redeem(self, url: str, code: str, name: str) -> None:
        self.ops.run_network(lambda: redeem(url, code, name), on_success=self._save,
                             on_failure=self._connect_failed, label="redeem the enrolment code")

    def _save(self, redeemed: Redeemed) -> None:
        workspace = self.workspace

        def work() -> Any:
            result = save_enrollment(workspace.store, redeemed)
            workspace.reload()
            return result

        self.ops.run_db(work, on_success=self._enrolled, on_failure=self._connect_failed,
                        writes={"settings", "staff"}, label="store the enrolment")

    def _enrolled(self, result: Any) -> None:
        self.pages.setCurrentIndex(1)
        self.download_title.setText(f"Downloading {result.clinic_name}")
        self.note.setText(f"This workstation is now enrolled as \u201c{result.device_name}\u201d. "
                          "The clinic is being downloaded into its encrypted store.")
        self.start_download()

    def _connect_failed(self, exc: BaseException) -> None:
        self.connect_button.setEnabled(True)
        self.message.setText(user_message(exc))

    # --- step 2: download -----------------------------------------------------------------

    def start_download(self) -> None:
        if self.running:
            return
        self.running = True
        self.outcome = None
        self._cancel.clear()
        self.rows = 0
        self.count.setText("Starting\u2026")
        self.status.setText("")
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self.resume_button.hide()
        self.close_button.hide()
        ops, store, cancel, limit = self.ops, self.workspace.store, self._cancel, self.pull_limit

        def download(report: Any) -> SyncSummary:
            kw: dict[str, Any] = {} if limit is None else {"pull_limit": limit}
            engine: SyncEngine = ops.call_db(lambda: SyncEngine.for_store(store, run_db=ops.call_db, **kw))
            engine.on_progress = report
            engine.should_stop = cancel.is_set
            try:
                return engine.sync_once()
            finally:
                engine.close()

        self.ops.run_network(download, on_progress=self._progress, on_success=self._downloaded,
                             on_failure=self._download_failed, label="first download")

    def _progress(self, progress: SyncProgress) -> None:
        if progress.stage != "pull":
            return
        self.rows = progress.rows
        self.count.setText(f"{display_count(progress.rows, 'record')} downloaded so far")
        if progress.high_water > 0:
            self.bar.setRange(0, BAR_STEPS)
            self.bar.setValue(round(BAR_STEPS * min(progress.cursor / progress.high_water, 1.0)))
        self.progressed.emit(progress.rows)

    def _downloaded(self, summary: SyncSummary) -> None:
        self.running = False
        self.outcome = "done"
        self.rows = summary.pull.rows
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setValue(BAR_STEPS)
        self.count.setText(f"{display_count(summary.pull.rows, 'record')} downloaded")
        self.status.setText("Done. Opening the clinic\u2026")
        self.cancel_button.setEnabled(False)
        workspace = self.workspace
        self.ops.run_db(workspace.reload, on_success=lambda _none: self.accept(),
                        on_failure=self._download_failed, label="open the clinic")

    def _download_failed(self, exc: BaseException) -> None:
        self.running = False
        if self._closing:
            self.reject()
            return
        if isinstance(exc, SyncCancelled):
            self.outcome = "cancelled"
            self.status.setText(f"The download was cancelled. {KEPT}")
        else:
            self.outcome = "failed"
            self.status.setText(f"The download stopped: {user_message(exc)} {KEPT}")
        self.bar.setRange(0, max(self.bar.maximum(), 1))
        self.cancel_button.hide()
        self.resume_button.setText("Resume" if self.outcome == "cancelled" else "Try again")
        self.resume_button.show()
        self.close_button.show()

    def cancel(self) -> None:
        """Stop the download after the page in flight (what is downloaded stays)."""
        if self.running:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.status.setText("Stopping after the records in flight\u2026")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:  # stop the download first, then close
            self._closing = True
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)

    def reject(self) -> None:
        if self.running:
            self._closing = True
            self.cancel()
            return
        super().reject()

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape and self.running:
            self.cancel()
            return
        super().keyPressEvent(event)


__all__ = ["FirstRunDialog"]
