"""The dry run's problems as a table: the line of the file, what kind of problem, the column and
the sentence saying what is wrong (or which client a duplicate matches)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.services.csv_import import RowIssue
from app.ui.models.table_model import Col, RowTableModel

KIND_LABELS = {"error": "Problem", "duplicate": "Duplicate", "warning": "Note"}
KIND_TONES = {"error": "danger", "duplicate": "warn", "warning": "info"}


class ImportIssueModel(RowTableModel):
    LINE, KIND, COLUMN, MESSAGE = range(4)

    def __init__(self, parent: Any = None) -> None:
        super().__init__((
            Col("Line", lambda i: f"{i.line:,}", 64, right=True),
            Col("Kind", lambda i: KIND_LABELS.get(i.kind, i.kind), 104, tone=lambda i: KIND_TONES.get(i.kind, "neutral")),
            Col("Column", lambda i: i.column or "", 130, muted=True),
            Col("What is wrong", lambda i: i.message, None),
        ), parent, id_of=lambda i: f"{i.line}:{i.kind}:{i.column or ''}:{i.message}")

    def set_issues(self, issues: Sequence[RowIssue]) -> None:
        self.set_rows(sorted(issues, key=lambda i: (i.line, i.kind != "error")))

    def issue(self, row: int) -> RowIssue | None:
        found = self.row(row)
        return found if isinstance(found, RowIssue) else None
