"""The Leads screen: the lead board with filters, the selected lead's details, and its client.

Filters: status (open leads by default, with counts), source, owner (anyone, mine, unassigned,
a person) and when it arrived; managers also see the leads whose first reply was missed
(escalated), with a banner while some still wait. Enter or a double click opens the client
record of the lead.

Live: each lead's owner (or who has claimed it, with the claim's time left) and its reply timer
count down every second from the rows on screen (no store query per tick); data arriving by sync
appears when ``changes_did_happen`` says leads changed (the main window calls :meth:`refresh`).
The selected lead can be claimed and released (the clinic server decides; it needs to be
online), and a call to it logged (works offline).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
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
from app.ui.errors import user_message
from app.ui.formatting import LEAD_STATUS, source_label, status_label
from app.ui.leads_detail import LeadDetail
from app.ui.models.lead_list_model import LeadListModel
from app.ui.operations import Op
from app.ui.tables import RowTable
from app.ui.widgets import FlowLayout, icon_label, label, row
from core.permissions import Permission

#: status filter buttons: (key, label, statuses; None: all)
STATUS_FILTERS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("open", "Open", OPEN_STATUSES),
    *((s, status_label(LEAD_STATUS, s), (s,)) for s in ALL_STATUSES),
    ("all", "All", None),
)
PERIODS = (("all", "Arrived any time"), ("today", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"),
           ("90d", "Last 90 days"))
MINE = "__mine__"
#: how often the timers are redrawn (milliseconds)
TICK_MS = 1000


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
        self.model = LeadListModel(self, tz=desk.tz(), me=desk.actor_id)
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
        self.escalated = QPushButton("Missed reply")
        self.escalated.setObjectName("LeadEscalated")
        self.escalated.setProperty("kind", "segment")
        self.escalated.setCheckable(True)
        self.escalated.setToolTip("Only leads whose first reply was missed and escalated")
        self.escalated.toggled.connect(lambda _on: self.refresh())
        self.escalated.setVisible(desk.can(Permission.LEAD_ASSIGN))
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
        self.detail = LeadDetail(desk)
        self.detail.open_client.connect(self.open_client.emit)
        self.banner = self._banner()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 24, 16)
        layout.setSpacing(12)
        layout.addLayout(row(label("Leads", name="PageTitle"), None))
        layout.addWidget(self.banner)
        statuses = QWidget()
        flow = FlowLayout(statuses, spacing=4)  # a second line rather than cut counts on a laptop
        for button in (*self.status_buttons.values(), self.escalated):
            flow.addWidget(button)
        layout.addWidget(statuses)
        for combo in (self.source, self.owner, self.period):
            combo.setMinimumWidth(170)
        layout.addLayout(row(icon_label("filter", size=16), self.source, self.owner, self.period, None, self.count,
                             spacing=10, stretch_end=False))
        body = QHBoxLayout()
        body.setSpacing(16)
        body.addWidget(self._list, 1)
        body.addWidget(self.detail)
        layout.addLayout(body, 1)
        self.clock = QTimer(self)
        self.clock.setInterval(TICK_MS)
        self.clock.timeout.connect(self.tick)
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.tick()  # the timers are right the moment the screen shows
        self.clock.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt's name
        self.clock.stop()  # nobody sees the timers: no ticking
        super().hideEvent(event)

    def _banner(self) -> QFrame:
        banner = QFrame()
        banner.setObjectName("EscalationBanner")
        line = QHBoxLayout(banner)
        line.setContentsMargins(12, 8, 12, 8)
        line.setSpacing(10)
        line.addWidget(icon_label("alert", size=16, color="danger"))
        self.banner_text = label("", name="EscalationText", wrap=True)
        line.addWidget(self.banner_text, 1)
        show = QPushButton("Show them")
        show.setObjectName("ShowEscalated")
        show.setProperty("kind", "ghost")
        show.clicked.connect(self.show_escalated)
        line.addWidget(show)
        banner.hide()
        return banner

    # --- filters ------------------------------------------------------------------------------

    def current_filter(self) -> LeadFilter:
        statuses = dict((k, s) for k, _t, s in STATUS_FILTERS)[self._status]
        owner = self.owner.currentData()
        if owner == MINE:
            owner = self.desk.actor_id or UNASSIGNED
        return LeadFilter(statuses=statuses, source=self.source.currentData(), owner_id=owner,
                          period=self.period.currentData(), escalated=self.escalated.isChecked())

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

    def show_escalated(self) -> None:
        self.escalated.setChecked(True)

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

    def tick(self) -> None:
        """Redraw the timers for the time now (from the rows on screen; no store query)."""
        now = self.desk.now()
        self.model.tick(now)
        self.detail.tick(now)

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
        waiting = board.escalations
        self.banner.setVisible(bool(waiting) and self.desk.can(Permission.LEAD_ASSIGN)
                               and not self.escalated.isChecked())
        self.banner_text.setText("1 lead missed its first-reply time and is still waiting for an answer."
                                 if waiting == 1 else f"{waiting} leads missed their first-reply time and are still "
                                 "waiting for an answer.")
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
        self.detail.show_lead(self.current_lead(), self.model.now)

    def _open_row(self, index: int) -> None:
        lead: LeadRow | None = self.model.row(index)
        if lead is not None and lead.patient_id:
            self.open_client.emit(lead.patient_id)

    def open_current(self) -> None:
        self._open_row(self.table.current_row())
