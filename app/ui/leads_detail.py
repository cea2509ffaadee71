"""The selected lead beside the board: who, where from, its timers, and what the desk can do:
claim or release it (the clinic server decides, so it needs to be online), log a call (works
offline), open the client record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QPushButton, QVBoxLayout

from app.services.leads import LeadRow
from app.ui import theme
from app.ui.errors import user_message
from app.ui.formatting import (
    LEAD_STATUS,
    age_on,
    display_ago,
    display_phone,
    display_when,
    source_label,
    status_label,
    status_tone,
)
from app.ui.lead_timers import claim_text, reply_timer, span
from app.ui.models.lead_list_model import person
from app.ui.widgets import chip, label, row
from core.permissions import Permission


def set_chip(widget: Any, text: str, tone: str) -> None:
    widget.setText(text)
    if widget.property("tone") != tone:
        widget.setProperty("tone", tone)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


class LeadDetail(QFrame):
    open_client = Signal(str)

    def __init__(self, desk: Any) -> None:
        super().__init__()
        self.setObjectName("Card")
        self.setFixedWidth(300)
        self._desk = desk
        self._lead: LeadRow | None = None
        self._busy = False
        self.name = label("", name="DialogTitle", wrap=True)
        self.status_chip = chip("", tone="neutral")
        self.source_chip = chip("", tone="neutral")
        self.escalated_chip = chip("Missed reply", tone="danger")
        self.facts = label("", kind="value", wrap=True)
        self.reply_line = label("", name="LeadReplyTimer", wrap=True)
        self.claim_line = label("", name="LeadClaim", kind="muted", wrap=True)
        self.message = label("", kind="value", wrap=True, selectable=True)
        self.claim = QPushButton(theme.icon("check", "on-accent"), "Claim")
        self.claim.setObjectName("ClaimLead")
        self.claim.setProperty("kind", "primary")
        self.claim.setToolTip("Take this lead so nobody else calls the same person")
        self.claim.clicked.connect(self._claim)
        self.release = QPushButton("Release")
        self.release.setObjectName("ReleaseLead")
        self.release.clicked.connect(self._release)
        self.call = QPushButton(theme.icon("phone", "text2"), "Log call")
        self.call.setObjectName("LogCall")
        self.call.setToolTip("Record that you called this person (counts as contact)")
        self.call.clicked.connect(self._log_call)
        self.notice = label("", name="LeadNotice", wrap=True)
        self.button = QPushButton(theme.icon("user", "text2"), "Open record")
        self.button.setObjectName("OpenLeadClient")
        self.button.setToolTip("Open the client record of this lead")
        self.button.clicked.connect(self._open)
        self.note = label("", kind="muted", wrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        layout.addWidget(self.name)
        layout.addLayout(row(self.status_chip, self.source_chip, self.escalated_chip, spacing=6))
        layout.addWidget(self.reply_line)
        layout.addWidget(self.claim_line)
        layout.addWidget(self.facts)
        self.message_title = label("MESSAGE", kind="section")
        layout.addWidget(self.message_title)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.notice)
        layout.addLayout(row(self.claim, self.release, spacing=6))
        layout.addWidget(self.note)
        layout.addLayout(row(self.call, self.button, spacing=6, stretch_end=False))
        self.show_lead(None, desk.now())

    # --- showing ------------------------------------------------------------------------------

    def show_lead(self, lead: LeadRow | None, now: datetime) -> None:
        if (lead is None) != (self._lead is None) or (lead and self._lead and lead.id != self._lead.id):
            self.notice.setText("")
        self._lead = lead
        for widget in (self.status_chip, self.source_chip, self.message_title, self.message, self.reply_line,
                       self.claim_line):
            widget.setVisible(lead is not None)
        if lead is None:
            self.name.setText("No lead selected")
            self.facts.setText("")
            self.escalated_chip.hide()
            for button in (self.button, self.claim, self.release, self.call):
                button.setEnabled(False)
            self.note.setText("")
            return
        self.name.setText(person(lead))
        set_chip(self.status_chip, status_label(LEAD_STATUS, lead.status), status_tone(LEAD_STATUS, lead.status))
        set_chip(self.source_chip, source_label(lead.source), "neutral")
        self.escalated_chip.setVisible(lead.escalated_at is not None)
        tz, today = self._desk.tz(), self._desk.today()
        lines = [f"Arrived {display_when(lead.received_at, tz, today)} ({display_ago(lead.received_at, now)} ago)"]
        if lead.date_of_birth:  # the list drops its Age column on a narrow screen
            lines.append(f"{age_on(lead.date_of_birth, today)} years old")
        if lead.service_interest:
            lines.append(f"Interested in {lead.service_interest}")
        if lead.phone:
            lines.append(display_phone(lead.phone, self._desk.region))
        lines.append(f"Owner: {lead.owner or 'nobody yet'}")
        if lead.escalated_at is not None:
            to = f" to {lead.escalated_to_name}" if lead.escalated_to_name else ""
            lines.append(f"Escalated{to} {display_when(lead.escalated_at, tz, today)}")
        if lead.utm_campaign:
            lines.append(f"Campaign {lead.utm_campaign}")
        self.facts.setText("\n".join(lines))
        self.message.setText(lead.message or "No message.")
        self.button.setEnabled(bool(lead.patient_id))
        self.note.setText("" if lead.patient_id else "This lead is not linked to a client yet.")
        self.tick(now)

    def tick(self, now: datetime) -> None:
        """The timer lines and the buttons for the time now."""
        lead = self._lead
        if lead is None:
            return
        timer = reply_timer(lead, now)
        if lead.first_reply_at is not None:
            text = f"Answered after {span((lead.first_reply_at - lead.received_at).total_seconds())}"
        elif timer.text.endswith(" left") and lead.sla_due_at is not None:
            text = f"First reply due in {timer.text[:-5]}"
            if (lead.sla_due_at - now).total_seconds() > 3600:
                text += f" ({display_when(lead.sla_due_at, self._desk.tz(), self._desk.today())})"
        elif lead.sla_due_at is not None and lead.waiting_for_reply and lead.sla_due_at <= now:
            text = f"First reply overdue by {span((now - lead.sla_due_at).total_seconds())}"
            if lead.escalated_at is not None:
                text += f"; escalated to {lead.escalated_to_name}" if lead.escalated_to_name else "; escalated"
        else:
            text = {"Contacted": "In contact", "No timer": "No reply deadline for this source"}.get(timer.text, "")
        self.reply_line.setText(text)
        self.reply_line.setProperty("tone", timer.tone)
        self.reply_line.style().unpolish(self.reply_line)
        self.reply_line.style().polish(self.reply_line)
        me = self._desk.actor_id
        claim = claim_text(lead, now, me)
        self.claim_line.setText(claim + (" left" if claim and claim[-1].isdigit() else "") or "Nobody has claimed it")
        may_work = self._desk.can(Permission.LEAD_WRITE) and lead.open
        running = lead.claimed_by is not None and (lead.claim_expires_at is None or lead.claim_expires_at > now)
        mine = lead.claimed_by == me and me is not None
        may_release = mine or self._desk.can(Permission.LEAD_ASSIGN)
        self.claim.setVisible(may_work and not mine)
        self.claim.setEnabled(not self._busy and not running)
        self.release.setVisible(may_work and lead.claimed_by is not None and may_release)
        self.release.setEnabled(not self._busy)
        self.call.setVisible(may_work)
        self.call.setEnabled(not self._busy)

    # --- actions ------------------------------------------------------------------------------

    def _open(self) -> None:
        if self._lead is not None and self._lead.patient_id:
            self.open_client.emit(self._lead.patient_id)

    def _start(self, text: str) -> str | None:
        if self._lead is None:
            return None
        self._busy = True
        self.notice.setProperty("tone", "muted")
        self.notice.setText(text)
        self.tick(self._desk.now())
        return self._lead.id

    def _finished(self, text: str, *, failed: bool = False) -> None:
        self._busy = False
        self.notice.setProperty("tone", "danger" if failed else "ok")
        self.notice.style().unpolish(self.notice)
        self.notice.style().polish(self.notice)
        self.notice.setText(text)
        self.tick(self._desk.now())

    def _failed(self, exc: BaseException) -> None:
        self._finished(user_message(exc), failed=True)

    def _claim(self) -> None:
        lead_id = self._start("Claiming\u2026")
        if lead_id is not None:
            self._desk.server.claim_lead(lead_id, on_success=lambda _a: self._finished(
                "Claimed: it is yours until the claim lapses; a text or a logged call keeps it."),
                on_failure=self._failed)

    def _release(self) -> None:
        lead_id = self._start("Releasing\u2026")
        if lead_id is not None:
            self._desk.server.release_lead(lead_id, on_success=lambda _a: self._finished("Released."),
                                           on_failure=self._failed)

    def _log_call(self) -> None:
        lead_id = self._start("Saving\u2026")
        if lead_id is not None:
            self._desk.log_call(lead_id, on_success=lambda _r: self._finished("Call logged on the timeline."),
                                on_failure=self._failed)
