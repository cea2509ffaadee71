"""First run: enrol this workstation with the clinic server (URL + one-time code from an admin).

The redemption itself runs on the DB worker (it writes the device credential into the encrypted
store and downloads the clinic); this dialog only collects the three inputs and shows the result.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.ui.errors import user_message
from app.ui.operations import Operations


class EnrollDialog(QDialog):
    """Asks for the server address and enrolment code; calls ``enroll_func`` on the DB worker."""

    def __init__(self, ops: Operations, enroll_func: Callable[[str, str, str], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect this workstation — Glowdesk")
        self.setObjectName("enrollDialog")
        self._ops = ops
        self._enroll = enroll_func
        self.result_value: Any = None

        title = QLabel("Connect this workstation to your clinic")
        title.setObjectName("pageTitle")
        intro = QLabel(
            "Ask your clinic's administrator for the server address and a one-time enrolment "
            "code. The clinic's clients and schedule are then downloaded into this computer's "
            "encrypted store."
        )
        intro.setWordWrap(True)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://clinic.example.com")
        self.code = QLineEdit()
        self.code.setPlaceholderText("one-time code")
        self.name = QLineEdit(socket.gethostname())
        self.message = QLabel("")
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("Server address", self.url)
        form.addRow("Enrolment code", self.code)
        form.addRow("Workstation name", self.name)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = self.buttons.addButton("Connect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(520, 320)

    def _submit(self) -> None:
        url, code, name = self.url.text().strip(), self.code.text().strip(), self.name.text().strip()
        if not url.startswith(("http://", "https://")):
            self.message.setText("Enter the server address, starting with https://")
            return
        if not code:
            self.message.setText("Enter the enrolment code your administrator gave you.")
            return
        self.message.setText("Connecting and downloading the clinic…")
        self.connect_button.setEnabled(False)
        self._ops.run_db(
            lambda: self._enroll(url, code, name or "Workstation"),
            on_success=self._done,
            on_failure=self._failed,
            writes=("clinic", "staff", "patient", "appointment", "lead", "activity"),
            label="enrol this workstation",
        )

    def _done(self, result: Any) -> None:
        self.result_value = result
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.connect_button.setEnabled(True)
        self.message.setText(user_message(exc))
