"""Open possible duplicates as a list: who, why the server wondered, when, and how much history
each of the two records holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from app.services.merge_reviews import ReviewCase
from app.ui.formatting import display_ago
from app.ui.models.table_model import Col, RowTableModel


def _history(case: ReviewCase) -> str:
    a, b = case.left, case.right
    return f"{a.appointments + a.leads} / {b.appointments + b.leads}"


class MergeReviewListModel(RowTableModel):
    WHO, WHY, HISTORY, FOUND = range(4)

    def __init__(self, parent: Any = None) -> None:
        self._now = datetime.now(UTC)
        super().__init__((
            Col("Client", lambda c: c.left.name, None, bold=True, min_width=130),
            Col("Why", lambda c: c.reason, 150, muted=True, drop=1),  # also the first line of the case beside
            Col("History", _history, 64, right=True,
                tip=lambda c: "Appointments and leads on each record (already there / new)"),
            Col("Found", lambda c: display_ago(c.opened_at, self._now) + " ago"
                if display_ago(c.opened_at, self._now) != "just now" else "just now", 80, right=True),
        ), parent)

    def set_cases(self, cases: Sequence[ReviewCase], *, now: datetime, today: date | None = None) -> None:
        self._now = now
        self.set_rows(cases)
