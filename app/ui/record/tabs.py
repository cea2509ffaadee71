"""The record's tabs: Timeline, Appointments, Messages, Charts, Photos, Payments.

Each shows the real data this version holds and says plainly what is not there yet. Messages is
the client's shared thread (:mod:`app.ui.record.messages`); its title carries the unread count. Tabs follow
the permission table: Charts and Photos need ``chart.read`` (the front desk does not see them),
Payments needs ``payment.take`` or ``report.view``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from app.ui.models.table_model import Col, RowTableModel
from app.ui.record.client_record import AppointmentItem, ClientRecord
from app.ui.record.messages import MessagesPanel
from app.ui.record.timeline import TimelinePanel
from app.ui.tables import RowTable
from app.ui.widgets import icon_label, label
from core.permissions import Permission

APPOINTMENT_COLUMNS = (
    Col("Date", lambda a: a.day, 110, bold=True),
    Col("Time", lambda a: a.time, 150, muted=True),
    Col("Service", lambda a: a.service, None),
    Col("Provider", lambda a: a.provider, 150),
    Col("Where", lambda a: a.place, 190, muted=True),
    Col("Status", lambda a: a.status_label, 112, tone=lambda a: a.status_tone),
    Col("Price", lambda a: a.price, 84, right=True),
)
PAYMENT_COLUMNS = (
    Col("Date", lambda a: a.day, 110, bold=True),
    Col("Service", lambda a: a.service, None),
    Col("Visit", lambda a: a.status_label, 112, tone=lambda a: a.status_tone),
    Col("Price", lambda a: a.price, 90, right=True),
    Col("Deposit", lambda a: a.deposit or "\u2014", 84, right=True),
    Col("Deposit state", lambda a: a.deposit_label, 120, tone=lambda a: a.deposit_tone),
)


class RecordTabs(QTabWidget):
    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RecordTabs")
        self.setDocumentMode(True)
        self.timeline = TimelinePanel(desk)
        self.appointments = RowTableModel(APPOINTMENT_COLUMNS, self)
        self.payments = RowTableModel(PAYMENT_COLUMNS, self)
        self._appointments_page = _Listing(RowTable(self.appointments, name="AppointmentsTable"))
        self._payments_page = _Listing(RowTable(self.payments, name="PaymentsTable"), note=(
            "Card payments, receipts and refunds are not in this version yet. This lists what is "
            "recorded today: each visit's price and its deposit."))
        self.addTab(self.timeline, "Timeline")
        if desk.can(Permission.APPOINTMENT_READ):
            self.addTab(self._appointments_page, "Appointments")
        self.messages = MessagesPanel(desk)
        self.messages.unread_changed.connect(self._unread_changed)
        self._unread = 0
        self.addTab(self.messages, "Messages")
        if desk.can(Permission.CHART_READ):
            self.addTab(not_yet("clipboard", "Charts are not in this version yet",
                                "Treatment records \u2014 face maps with units and lots, laser parameters, "
                                "consents signed and co-signed \u2014 will live here. Completed visits are on the "
                                "Appointments tab."), "Charts")
            self.addTab(not_yet("camera", "Photos are not in this version yet",
                                "Before and after photos, stored encrypted, grouped by visit and compared side by "
                                "side, will live here. The client's photo consents are on the left."), "Photos")
        if desk.can(Permission.PAYMENT_TAKE) or desk.can(Permission.REPORT_VIEW):
            self.addTab(self._payments_page, "Payments")

    def tab_titles(self) -> list[str]:
        return [self.tabText(i) for i in range(self.count())]

    def select(self, title: str) -> None:
        for i in range(self.count()):
            if self.tabText(i).split("  ")[0] == title:
                self.setCurrentIndex(i)

    def show_record(self, record: ClientRecord) -> None:
        self.timeline.show_record(record)
        self.messages.show_patient(record.id)
        self.appointments.set_rows(record.appointments)
        paid: list[AppointmentItem] = [a for a in record.appointments if a.price != "Free" or a.deposit]
        self.payments.set_rows(paid)
        self._appointments_page.set_empty(not record.appointments, "No appointments yet.")
        self._payments_page.set_empty(not paid, "No priced visits or deposits yet.")
        self._appointments = len(record.appointments)
        self._retitle()

    def _unread_changed(self, unread: int) -> None:
        self._unread = unread
        self._retitle()

    def _retitle(self) -> None:
        for i in range(self.count()):
            base = self.tabText(i).split("  ")[0]
            if base == "Messages":
                # the count only: the record's header says "2 unread messages" (a laptop has no room)
                self.setTabText(i, f"{base}  \u25cf {self._unread}" if self._unread else base)
                self.setTabToolTip(i, f"{self._unread} unread" if self._unread else "")
                continue
            count = {"Appointments": getattr(self, "_appointments", 0)}.get(base)
            self.setTabText(i, f"{base}  {count}" if count else base)


class _Listing(QWidget):
    """A table with an optional note above it, or a line saying there is nothing."""

    def __init__(self, table: RowTable, *, note: str = "") -> None:
        super().__init__()
        self.table = table
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        if note:
            layout.addWidget(label(note, kind="muted", wrap=True))
        self._pages = QStackedWidget()
        self._empty = label("", name="PlaceholderDetail", wrap=True)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self._empty.setContentsMargins(0, 32, 0, 0)
        self._pages.addWidget(table)
        self._pages.addWidget(self._empty)
        layout.addWidget(self._pages, 1)

    def set_empty(self, empty: bool, text: str) -> None:
        self._empty.setText(text)
        self._pages.setCurrentWidget(self._empty if empty else self.table)


def not_yet(icon: str, title: str, text: str) -> QWidget:
    """A plain statement that a part of the record is not in this version yet."""
    page = QWidget()
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 16, 0, 0)
    box = QFrame()
    box.setObjectName("NotYet")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(28, 28, 28, 28)
    layout.setSpacing(10)
    layout.addWidget(icon_label(icon, size=32, color="faint"), 0, Qt.AlignmentFlag.AlignHCenter)
    heading = label(title, name="NotYetTitle")
    heading.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    layout.addWidget(heading)
    body = label(text, name="NotYetText", wrap=True)
    body.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    layout.addWidget(body)
    outer.addWidget(box)
    outer.addStretch(1)
    return page
