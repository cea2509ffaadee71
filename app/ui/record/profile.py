"""The record's left column: who the client is, alerts first, then numbers, contact, where they
came from, tags, consents and notes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QVBoxLayout, QWidget

from app.ui.patient_record import PatientRecord
from app.ui.record.client_record import ClientRecord
from app.ui.widgets import FlowLayout, avatar, chip, icon_label, label, row


class ProfileColumn(QWidget):
    def __init__(self, record: ClientRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ProfileBody")
        p = record.patient
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        layout.addWidget(self._identity(p))
        layout.addWidget(alerts_box(p))
        layout.addWidget(self._numbers(record))
        card = _card()
        body = card.layout()
        assert isinstance(body, QVBoxLayout)
        body.addWidget(_section("Contact", self._contact(p)))
        body.addWidget(_section("Came from", self._origin(record)))
        if p.tags:
            body.addWidget(_section("Tags", _chips(p.tags)))
        body.addWidget(_section("Consents", self._consents(p)))
        if p.notes:
            body.addWidget(_section("Notes", label(p.notes, kind="value", wrap=True, selectable=True)))
        layout.addWidget(card)
        layout.addStretch(1)

    @staticmethod
    def _identity(p: PatientRecord) -> QWidget:
        card = _card()
        body = card.layout()
        assert isinstance(body, QVBoxLayout)
        name = label(p.name, name="PatientName", wrap=True, selectable=True)
        facts = []
        if p.age is not None:
            facts.append(f"{p.age} years")
        facts.append(p.dob_text.split(" \u00b7 ")[0] if p.dob_text else "Date of birth not recorded")
        if p.pronouns:
            facts.append(p.pronouns)
        text = QVBoxLayout()
        text.setSpacing(4)
        text.addWidget(name)
        text.addWidget(label("  \u00b7  ".join(facts), name="PatientFacts"))
        if p.vip:
            text.addLayout(row(chip("\u2605 VIP", tone="vip")))
        line = row(avatar(p.first_name, p.last_name, p.id), spacing=14, stretch_end=False)
        line.addLayout(text, 1)
        body.addLayout(line)
        return card

    @staticmethod
    def _numbers(record: ClientRecord) -> QWidget:
        card = _card()
        body = card.layout()
        assert isinstance(body, QVBoxLayout)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        stats = (("Visits", str(record.visits)), ("Spent", record.spent),
                 ("No-shows", str(record.no_shows)), ("Last visit", record.last_visit or "\u2014"))
        for i, (title, value) in enumerate(stats):
            grid.addWidget(label(value, name="StatValue"), 0, i)
            grid.addWidget(label(title.upper(), name="StatLabel"), 1, i)
        body.addLayout(grid)
        if record.next_visit:
            body.addLayout(row(icon_label("calendar", size=16, color="accent"),
                               label(f"Next: {record.next_visit}", kind="value", wrap=True)))
        return card

    @staticmethod
    def _contact(p: PatientRecord) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(8)
        rows = (("phone", p.phone, "No phone"), ("mail", p.email, "No email"),
                ("instagram", p.instagram, "No Instagram"))
        for i, (icon, value, missing) in enumerate(rows):
            grid.addWidget(icon_label(icon, size=16), i, 0)
            grid.addWidget(label(value or missing, kind="value" if value else "missing", selectable=True), i, 1)
        grid.setColumnStretch(1, 1)
        return box

    @staticmethod
    def _origin(record: ClientRecord) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        source = record.patient.source or (record.leads[-1].source if record.leads else "")
        layout.addWidget(label(source or "Not recorded", kind="value" if source else "missing"))
        if record.leads:
            first = record.leads[-1]
            lead = f"Lead received {first.received}" + (f" \u00b7 {first.interest}" if first.interest else "")
            layout.addWidget(label(lead, kind="muted", wrap=True))
        if record.client_since:
            layout.addWidget(label(f"Client since {record.client_since}", kind="muted"))
        return box

    @staticmethod
    def _consents(p: PatientRecord) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        for i, consent in enumerate(p.consents):
            if consent.granted is None:
                state = chip("Not asked", tone="muted")
            elif consent.granted:
                state = chip("\u2713 Yes", tone="ok")
            else:
                state = chip("\u2715 No", tone="danger")
            name = label(consent.label, kind="value")
            if consent.at or consent.source:
                name.setToolTip(" \u00b7 ".join(x for x in (consent.at, consent.source.replace("_", " ")) if x))
            grid.addWidget(name, i, 0)
            grid.addWidget(state, i, 1, Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(0, 1)
        return box


def alerts_box(p: PatientRecord) -> QWidget:
    box = QFrame()
    box.setObjectName("AlertBox" if p.has_alerts else "NoAlertBox")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(16, 12, 16, 12)
    layout.setSpacing(6)
    if not p.has_alerts:
        layout.addLayout(row(icon_label("shield", color="ok"),
                             label("No allergies or medical alerts recorded", name="NoAlerts")))
        return box
    layout.addLayout(row(icon_label("alert", color="danger"), label("Alerts", name="AlertTitle")))
    for title, text in (("Allergies", p.allergies), ("Medical alerts", p.medical_alerts)):
        if text:
            layout.addWidget(label(f"{title}: {text}", name="AlertText", wrap=True, selectable=True))
    return box


def _card() -> QFrame:
    card = QFrame()
    card.setObjectName("ProfileCard")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(18, 16, 18, 16)
    layout.setSpacing(16)
    return card


def _section(title: str, body: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(8)
    layout.addWidget(label(title.upper(), kind="section"))
    layout.addWidget(body)
    return box


def _chips(tags: tuple[str, ...]) -> QWidget:
    box = QWidget()
    flow = FlowLayout(box)
    for tag in tags:
        flow.addWidget(chip(tag, tone="accent"))
    return box
