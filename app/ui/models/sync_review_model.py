"""The review list as a table: what kind of item, which record, which field, the value kept and
the value not kept, what happened, and when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from app.services.sync_review import CONFLICT, ReviewItem
from app.ui.formatting import display_when
from app.ui.models.table_model import Col, RowTableModel

KIND_LABELS = {CONFLICT: "Conflict", "refused": "Refused"}


class SyncReviewModel(RowTableModel):
    KIND, RECORD, FIELD, KEPT, LOST, WHAT, WHEN = range(7)

    def __init__(self, parent: Any = None, *, tz: tzinfo | None = None) -> None:
        self._tz = tz
        self._today: date = datetime.now(UTC).date()
        super().__init__((
            Col("Kind", lambda i: KIND_LABELS.get(i.kind, i.kind), 92,
                tone=lambda i: "warn" if i.kind == CONFLICT else "danger"),
            Col("Record", lambda i: i.record, 290, bold=True),
            Col("Field", lambda i: i.subject, 130),
            Col("Kept", lambda i: i.kept, 130),
            Col("Not kept", lambda i: i.lost, 160),
            Col("What happened", lambda i: i.summary, None, muted=True, tip=lambda i: i.sentence),
            Col("When", self._when, 150, right=True),
        ), parent, id_of=lambda i: i.key)

    def set_items(self, items: Sequence[ReviewItem], *, today: date | None = None) -> None:
        if today is not None:
            self._today = today
        self.set_rows(items)

    def item(self, row: int) -> ReviewItem | None:
        found = self.row(row)
        return found if isinstance(found, ReviewItem) else None

    def _when(self, item: ReviewItem) -> str:
        return display_when(item.when, self._tz, self._today) if item.when else ""
