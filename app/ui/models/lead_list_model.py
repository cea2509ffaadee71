"""The lead board as a table: who, their age, where the lead came from, what they want, its
status, who owns it, when it arrived and how long ago."""

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
from app.ui.models.table_model import Col, RowTableModel

UNKNOWN_PERSON = "Not linked to a client"


def person(lead: LeadRow) -> str:
    if lead.first_name is None and lead.last_name is None:
        return UNKNOWN_PERSON
    return display_name(lead.first_name, lead.last_name, lead.preferred_name)


class LeadListModel(RowTableModel):
    NAME, AGE, SOURCE, INTEREST, STATUS, OWNER, WAITING = range(7)

    def __init__(self, parent: Any = None, *, tz: tzinfo | None = None) -> None:
        self._tz = tz
        self._now = datetime.now(UTC)
        self._today: date = self._now.date()
        super().__init__((
            Col("Name", person, None, bold=True),
            Col("Age", self._age, 48, right=True),
            Col("Source", lambda r: source_label(r.source), 116),
            Col("Interested in", lambda r: r.service_interest or "", 150, muted=True),
            Col("Status", lambda r: status_label(LEAD_STATUS, r.status), 104,
                tone=lambda r: status_tone(LEAD_STATUS, r.status)),
            Col("Owner", lambda r: r.owner or "Unassigned", 116),
            Col("Arrived", lambda r: display_ago(r.received_at, self._now) + " ago"
                if display_ago(r.received_at, self._now) != "just now" else "just now", 104, right=True,
                tip=lambda r: f"Arrived {display_when(r.received_at, self._tz, self._today)}"),
        ), parent)

    def set_leads(self, leads: Sequence[LeadRow], *, now: datetime, today: date) -> None:
        self._now, self._today = now, today
        self.set_rows(leads)

    def _age(self, lead: LeadRow) -> str:
        return str(age_on(lead.date_of_birth, self._today)) if lead.date_of_birth else "\u2014"
