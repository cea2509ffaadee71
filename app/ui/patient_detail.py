"""The client record panel (read-only for now): alerts first, then contact, tags and consents."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme
from app.ui.patient_record import PatientRecord
from app.ui.widgets import FlowLayout, avatar, chip, icon_label, label, row


class PatientDetailPanel(QStackedWidget):
    """Empty, loading, a record, or an error; ``record`` is what is shown now."""

    EMPTY, LOADING, RECORD, ERROR = range(4)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DetailPanel")
        self.record: PatientRecord | None = None
        self.addWidget(self._placeholder("user", "No client open",
                                         "Search on the left, pick a client with \u2191 \u2193 and press Enter."))
        self.addWidget(self._placeholder(None, "Opening the record\u2026", ""))
        self._scroll = QScrollArea()
        self._scroll.setObjectName("RecordScroll")
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.addWidget(self._scroll)
        self._error = self._placeholder("alert", "The record could not be opened", "")
        self.addWidget(self._error)
        self.setCurrentIndex(self.EMPTY)

    # --- states -------------------------------------------------------------------------------

    def show_empty(self) -> None:
        self.record = None
        self.setCurrentIndex(self.EMPTY)

    def show_loading(self) -> None:
        self.setCurrentIndex(self.LOADING)

    def show_error(self, message: str) -> None:
        self.record = None
        detail = self._error.findChild(QLabel, "PlaceholderDetail")
        if detail is not None:
            detail.setText(message)
        self.setCurrentIndex(self.ERROR)

    def show_record(self, record: PatientRecord) -> None:
        self.record = record
        old = self._scroll.takeWidget()
        if old is not None:
            old.deleteLater()
        self._scroll.setWidget(_RecordView(record))
        self.setCurrentIndex(self.RECORD)

    def visible_text(self) -> str:
        """Everything the panel shows now, as one string (for tests and accessibility checks)."""
        page = self._scroll.widget() if self.currentWidget() is self._scroll else self.currentWidget()
        if page is None:
            return ""
        return "\n".join(w.text() for w in page.findChildren(QLabel) if w.text())

    # --- pieces -------------------------------------------------------------------------------

    @staticmethod
    def _placeholder(icon: str | None, title: str, detail: str) -> QWidget:
        page = QWidget()
        page.setObjectName("Placeholder")
        layout = QVBoxLayout(page)
        layout.addStretch(2)
        if icon:
            layout.addWidget(icon_label(icon, size=40, color="#c4c8d2"), 0, Qt.AlignmentFlag.AlignHCenter)
        heading = label(title, name="PlaceholderTitle")
        heading.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(heading)
        text = label(detail, name="PlaceholderDetail", wrap=True)
        text.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(text)
        layout.addStretch(3)
        return page


class _RecordView(QWidget):
    def __init__(self, record: PatientRecord) -> None:
        super().__init__()
        self.setObjectName("RecordView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(18)
        layout.addLayout(self._header(record))
        layout.addWidget(self._alerts(record))
        layout.addWidget(self._section("Contact", self._contact(record)))
        if record.tags:
            layout.addWidget(self._section("Tags", self._chips(record.tags)))
        layout.addWidget(self._section("Consents", self._consents(record)))
        if record.source:
            layout.addWidget(self._section("First came from", label(record.source, kind="value")))
        layout.addStretch(1)

    @staticmethod
    def _header(record: PatientRecord) -> QVBoxLayout:
        name = label(record.name, name="PatientName", wrap=True, selectable=True)
        facts = [record.dob_text or "Date of birth not recorded"]
        if record.pronouns:
            facts.append(record.pronouns)
        sub = label("  \u00b7  ".join(facts), name="PatientFacts")
        vip = chip("\u2605 VIP", tone="vip") if record.vip else None
        text = QVBoxLayout()
        text.setSpacing(4)
        text.addWidget(name)
        text.addLayout(row(vip, sub))
        header = QVBoxLayout()
        line = row(avatar(record.first_name, record.last_name, record.id), spacing=16, stretch_end=False)
        line.addLayout(text, 1)
        header.addLayout(line)
        return header

    @staticmethod
    def _alerts(record: PatientRecord) -> QWidget:
        box = QFrame()
        box.setObjectName("AlertBox" if record.has_alerts else "NoAlertBox")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(6)
        if not record.has_alerts:
            layout.addLayout(row(icon_label("shield", color=theme.OK),
                                 label("No allergies or medical alerts recorded", name="NoAlerts")))
            return box
        layout.addLayout(row(icon_label("alert", color=theme.DANGER), label("Alerts", name="AlertTitle")))
        for title, text in (("Allergies", record.allergies), ("Medical alerts", record.medical_alerts)):
            if text:
                line = label(f"{title}: {text}", name="AlertText", wrap=True, selectable=True)
                layout.addWidget(line)
        return box

    @staticmethod
    def _contact(record: PatientRecord) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(10)
        rows = (("phone", record.phone, "No phone"), ("mail", record.email, "No email"),
                ("instagram", record.instagram, "No Instagram"))
        for i, (icon, value, missing) in enumerate(rows):
            grid.addWidget(icon_label(icon), i, 0)
            grid.addWidget(label(value or missing, kind="value" if value else "missing", selectable=True), i, 1)
        grid.setColumnStretch(1, 1)
        return box

    @staticmethod
    def _chips(tags: tuple[str, ...]) -> QWidget:
        box = QWidget()
        flow = FlowLayout(box)
        for tag in tags:
            flow.addWidget(chip(tag, tone="accent"))
        return box

    @staticmethod
    def _consents(record: PatientRecord) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(8)
        for i, consent in enumerate(record.consents):
            if consent.granted is None:
                state = chip("Not asked", tone="muted")
            elif consent.granted:
                state = chip("\u2713 Yes", tone="ok")
            else:
                state = chip("\u2715 No", tone="danger")
            grid.addWidget(label(consent.label, kind="value"), i, 0)
            grid.addWidget(state, i, 1, Qt.AlignmentFlag.AlignLeft)
            if consent.granted is not None and (consent.source or consent.at):
                when = label(consent.at or consent.source, kind="muted")
                when.setToolTip(" \u00b7 ".join(p for p in (consent.at, consent.source) if p))
                grid.addWidget(when, i, 2)
        grid.setColumnStretch(2, 1)
        return box

    @staticmethod
    def _section(title: str, body: QWidget) -> QWidget:
        box = QFrame()
        box.setObjectName("Section")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(label(title.upper(), kind="section"))
        layout.addWidget(body)
        return box
