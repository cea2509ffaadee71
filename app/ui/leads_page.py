"""The Leads screen: the lead board with filters, the selected lead's details, and its client.

Filters: status (open leads by default, with counts), source, owner (anyone, mine, unassigned,
a person) and when it arrived. Enter or a double click opens the client record of the lead.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.leads import (
    ALL_STATUSES,
    OPEN_STATUSES,
    SOURCES,
    UNASSIGNED,
    LeadBoard,
    LeadFilter,
    LeadRow,
)
from app.ui import theme
from app.ui.errors import user_message
from app.ui.formatting import (
    LEAD_STATUS,
    display_ago,
    display_phone,
    display_when,
    source_label,
    status_label,
    status_tone,
)
from app.ui.models.lead_list_model import LeadListModel, person
from app.ui.operations import Op
from app.ui.tables import RowTable
from app.ui.widgets import chip, icon_label, label, row

#: status filter buttons: (key, label, statuses; None: all)
STATUS_FILTERS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("open", "Open", OPEN_STATUSES),
    *((s, status_label(LEAD_STATUS, s), (s,)) for s in ALL_STATUSES),
    ("all", "All", None),
)
PERIODS = (("all", "Arrived any time"), ("today", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"),
           ("90d", "Last 90 days"))
MINE = "__mine__"


class LeadsPage(QWidget):
    open_client = Signal(str)  # patient id

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self.desk = desk
        self.board: LeadBoard | None = None
        self._op: Op | None = None
        self._generation = 0
        self._status = "open"
        self.model = LeadListModel(self, tz=desk.tz())
        self.table = RowTable(self.model, name="LeadsTable")
        self.table.activated_row.connect(self._open_row)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_detail())
        self.status_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        for key, text, _statuses in STATUS_FILTERS:
            button = QPushButton(text)
            button.setProperty("kind", "segment")
            button.setCheckable(True)
            button.setObjectName(f"LeadStatus_{key}")
            button.clicked.connect(lambda _c=False, k=key: self.set_status(k))
            group.addButton(button)
            self.status_buttons[key] = button
        self.status_buttons["open"].setChecked(True)
        self.source = QComboBox()
        self.source.setObjectName("LeadSource")
        self.source.addItem("All sources", None)
        for source in SOURCES:
            self.source.addItem(source_label(source), source)
        self.owner = QComboBox()
        self.owner.setObjectName("LeadOwner")
        self.owner.addItem("Any owner", None)
        self.owner.addItem("Mine", MINE)
        self.owner.addItem("Unassigned", UNASSIGNED)
        self.period = QComboBox()
        self.period.setObjectName("LeadPeriod")
        for key, text in PERIODS:
            self.period.addItem(text, key)
        for combo in (self.source, self.owner, self.period):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.count = label("", name="ResultCount")
        self.empty = label("", name="SearchHint", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self._list = QStackedWidget()
        self._list.addWidget(self.table)
        self._list.addWidget(self.empty)
        self.detail = _LeadDetail(desk)
        self.detail.open_client.connect(self.open_client.emit)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 24, 16)
        layout.setSpacing(12)
        layout.addLayout(row(label("Leads", name="PageTitle"), None))
        layout.addLayout(row(*self.status_buttons.values(), spacing=6))
        for combo in (self.source, self.owner, self.period):
            combo.setMinimumWidth(170)
        layout.addLayout(row(icon_label("filter", size=16), self.source, self.owner, self.period, None, self.count,
                             spacing=10, stretch_end=False))
        body = QHBoxLayout()
        body.setSpacing(16)
        body.addWidget(self._list, 1)
        body.addWidget(self.detail)
        layout.addLayout(body, 1)
        self.refresh()

    # --- filters ------------------------------------------------------------------------------

    def current_filter(self) -> LeadFilter:
        statuses = dict((k, s) for k, _t, s in STATUS_FILTERS)[self._status]
        owner = self.owner.currentData()
        if owner == MINE:
            owner = self.desk.actor_id or UNASSIGNED
        return LeadFilter(statuses=statuses, source=self.source.currentData(), owner_id=owner,
                          period=self.period.currentData())

    def set_status(self, key: str) -> None:
        self._status = key
        self.status_buttons[key].setChecked(True)
        self.refresh()

    def set_source(self, source: str | None) -> None:
        self.source.setCurrentIndex(max(self.source.findData(source), 0))

    def set_owner(self, owner: str | None) -> None:
        self.owner.setCurrentIndex(max(self.owner.findData(owner), 0))

    def set_period(self, period: str) -> None:
        self.period.setCurrentIndex(max(self.period.findData(period), 0))

    # --- loading ------------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self._op is not None and not self._op.done

    def activate(self) -> None:
        self.table.setFocus()

    def refresh(self) -> None:
        if self._op is not None and not self._op.done:
            self._op.cancel()
        self._generation += 1
        generation = self._generation
        self._op = self.desk.lead_board(self.current_filter(), on_success=lambda b: self._show(generation, b),
                                        on_failure=lambda exc: self._failed(generation, exc))

    def _show(self, generation: int, board: LeadBoard) -> None:
        if generation != self._generation:
            return
        keep = self.model.id_at(self.table.current_row())
        self.board = board
        self.model.set_leads(board.rows, now=self.desk.now(), today=self.desk.today())
        self._fill_owners(board)
        counts = board.status_counts
        for key, text, statuses in STATUS_FILTERS:
            n = sum(counts.values()) if statuses is None else sum(counts.get(s, 0) for s in statuses)
            self.status_buttons[key].setText(f"{text}  {n:,}" if n else text)
        more = " (the newest shown)" if board.limited else ""
        self.count.setText(f"{len(board.rows):,} lead{'s' if len(board.rows) != 1 else ''}{more}")
        if board.rows:
            self._list.setCurrentWidget(self.table)
            index = self.model.row_of(keep) if keep else -1
            self.table.selectRow(max(index, 0))
        else:
            self.empty.setText("No leads match these filters.")
            self._list.setCurrentWidget(self.empty)
        self._show_detail()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.model.set_rows([])
            self.empty.setText(user_message(exc))
            self._list.setCurrentWidget(self.empty)

    def _fill_owners(self, board: LeadBoard) -> None:
        current = self.owner.currentData()
        have = {self.owner.itemData(i) for i in range(self.owner.count())}
        self.owner.blockSignals(True)
        for staff in board.staff:
            if staff.id not in have:
                self.owner.addItem(staff.name, staff.id)
        self.owner.setCurrentIndex(max(self.owner.findData(current), 0))
        self.owner.blockSignals(False)

    # --- the selected lead --------------------------------------------------------------------

    def current_lead(self) -> LeadRow | None:
        lead: LeadRow | None = self.model.row(self.table.current_row())
        return lead

    def _show_detail(self) -> None:
        self.detail.show_lead(self.current_lead())

    def _open_row(self, index: int) -> None:
        lead: LeadRow | None = self.model.row(index)
        if lead is not None and lead.patient_id:
            self.open_client.emit(lead.patient_id)

    def open_current(self) -> None:
        self._open_row(self.table.current_row())


class _LeadDetail(QFrame):
    open_client = Signal(str)

    def __init__(self, desk: Any) -> None:
        super().__init__()
        self.setObjectName("Card")
        self.setFixedWidth(290)
        self._desk = desk
        self._lead: LeadRow | None = None
        self.name = label("", name="DialogTitle", wrap=True)
        self.status_chip = chip("", tone="neutral")
        self.source_chip = chip("", tone="neutral")
        self.facts = label("", kind="value", wrap=True)
        self.message = label("", kind="value", wrap=True, selectable=True)
        self.button = QPushButton(theme.icon("user", "on-accent"), "Open client record")
        self.button.setObjectName("OpenLeadClient")
        self.button.setProperty("kind", "primary")
        self.button.clicked.connect(self._open)
        self.note = label("", kind="muted", wrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        layout.addWidget(self.name)
        layout.addLayout(row(self.status_chip, self.source_chip, spacing=6))
        layout.addWidget(self.facts)
        self.message_title = label("MESSAGE", kind="section")
        layout.addWidget(self.message_title)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.note)
        layout.addWidget(self.button)
        self.show_lead(None)

    def _open(self) -> None:
        if self._lead is not None and self._lead.patient_id:
            self.open_client.emit(self._lead.patient_id)

    def show_lead(self, lead: LeadRow | None) -> None:
        self._lead = lead
        for widget in (self.status_chip, self.source_chip, self.message_title, self.message):
            widget.setVisible(lead is not None)
        if lead is None:
            self.name.setText("No lead selected")
            self.facts.setText("")
            self.button.setEnabled(False)
            self.note.setText("")
            return
        self.name.setText(person(lead))
        _set_chip(self.status_chip, status_label(LEAD_STATUS, lead.status), status_tone(LEAD_STATUS, lead.status))
        _set_chip(self.source_chip, source_label(lead.source), "neutral")
        tz, today, now = self._desk.tz(), self._desk.today(), self._desk.now()
        lines = [f"Arrived {display_when(lead.received_at, tz, today)} ({display_ago(lead.received_at, now)} ago)"]
        if lead.first_reply_at:
            wait = display_ago(lead.received_at, lead.first_reply_at)
            lines.append(f"First reply after {wait}" if wait != "just now" else "Answered within a minute")
        else:
            lines.append("Not answered yet")
        if lead.service_interest:
            lines.append(f"Interested in {lead.service_interest}")
        if lead.phone:
            lines.append(display_phone(lead.phone, self._desk.region))
        lines.append(f"Owner: {lead.owner or 'nobody yet'}")
        if lead.utm_campaign:
            lines.append(f"Campaign {lead.utm_campaign}")
        self.facts.setText("\n".join(lines))
        self.message.setText(lead.message or "No message.")
        self.button.setEnabled(bool(lead.patient_id))
        self.note.setText("" if lead.patient_id else "This lead is not linked to a client yet.")


def _set_chip(widget: Any, text: str, tone: str) -> None:
    widget.setText(text)
    if widget.property("tone") != tone:
        widget.setProperty("tone", tone)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
