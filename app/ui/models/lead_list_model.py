"""The lead board as a table: who, their age, where the lead came from, its status, who owns (or
has claimed) it, its first-reply timer, when it arrived (what they want is in the detail beside).

:meth:`LeadListModel.tick` moves the model's clock: the owner (claim countdown), reply timer and
arrival columns are redrawn from the rows it already holds (``dataChanged`` on those columns
only); nothing is read from the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from app.services.leads import LeadRow
from app.ui.formatting import (
    LEAD_STATUS,
    age_on,
    display_ago,
    display_name,
    display_when,
    source_label,
    status_label,
    status_tone,
)
from app.ui.lead_timers import claim_text, owner_text, reply_timer
from app.ui.models.table_model import Col, RowTableModel

UNKNOWN_PERSON = "Not linked to a client"


def person(lead: LeadRow) -> str:
    if lead.first_name is None and lead.last_name is None:
        return UNKNOWN_PERSON
    return display_name(lead.first_name, lead.last_name, lead.preferred_name)


class LeadListModel(RowTableModel):
    NAME, AGE, SOURCE, STATUS, OWNER, REPLY, WAITING = range(7)
    #: the columns that change as time passes
    LIVE = (OWNER, REPLY, WAITING)

    def __init__(self, parent: Any = None, *, tz: tzinfo | None = None, me: str | None = None) -> None:
        self._tz = tz
        self._me = me
        self._now = datetime.now(UTC)
        self._today: date = self._now.date()
        super().__init__((
            Col("Name", person, None, bold=True, min_width=170),
            Col("Age", self._age, 44, right=True, drop=2),  # both in the detail beside the list
            Col("Source", lambda r: source_label(r.source), 136, tip=lambda r: r.service_interest or "", drop=1),
            Col("Status", lambda r: status_label(LEAD_STATUS, r.status), 96,
                tone=lambda r: status_tone(LEAD_STATUS, r.status)),
            Col("Owner", lambda r: owner_text(r, self._now, self._me), 140, tip=self._owner_tip),
            Col("Reply", lambda r: reply_timer(r, self._now).text, 150, tone=lambda r: reply_timer(r, self._now).tone,
                tip=lambda r: reply_timer(r, self._now).tip),
            Col("Arrived", self._arrived, 100, right=True,
                tip=lambda r: f"Arrived {display_when(r.received_at, self._tz, self._today)}"),
        ), parent)

    @property
    def now(self) -> datetime:
        return self._now

    def set_leads(self, leads: Sequence[LeadRow], *, now: datetime, today: date) -> None:
        self._now, self._today = now, today
        self.set_rows(leads)

    def tick(self, now: datetime) -> None:
        """Time moved on: redraw the timer columns from the rows held (no store read)."""
        self._now = now
        if self.rowCount():
            last = self.rowCount() - 1
            for column in self.LIVE:
                self.dataChanged.emit(self.index(0, column), self.index(last, column))

    def _age(self, lead: LeadRow) -> str:
        return str(age_on(lead.date_of_birth, self._today)) if lead.date_of_birth else "\u2014"

    def _arrived(self, lead: LeadRow) -> str:
        ago = display_ago(lead.received_at, self._now)
        return "just now" if ago == "just now" else f"{ago} ago"

    def _owner_tip(self, lead: LeadRow) -> str:
        owner = f"Owner: {lead.owner or 'nobody yet'}"
        claim = claim_text(lead, self._now, self._me)
        return f"{owner}. {claim}." if claim else owner
