"""Duplicates: the possible duplicates the clinic server found (same name, another mobile
number...), each shown as the two records side by side. Staff merge them, choosing which value
survives where they differ, or mark them as different people. Both are the server's decision,
so they need it online; a merge moves everything to the record kept and the other one follows
to it wherever it is open.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.merge_reviews import ReviewCase
from app.ui import theme
from app.ui.errors import user_message
from app.ui.formatting import display_dob, display_handle, display_phone, source_label
from app.ui.models.merge_review_model import MergeReviewListModel
from app.ui.operations import Op
from app.ui.tables import RowTable
from app.ui.widgets import label, row
from core.dedup import CHOOSABLE, COMBINED, LABELS, OTHER, SURVIVOR

#: the two columns of the comparison: the record found, and the one the new lead made
SIDE_TITLES = ("ALREADY THERE", "NEW, FROM A LEAD")
#: details shown even when both are empty (the compare grid stays readable)
ALWAYS = ("first_name", "last_name", "phone", "email", "date_of_birth")


def show_value(name: str, value: Any, *, region: str, today: date) -> str:
    """One detail as people read it."""
    if value in (None, "", [], {}):
        return "\u2014"
    if name == "phone":
        return display_phone(value, region)
    if name == "date_of_birth":
        return display_dob(value, today) if isinstance(value, date) else str(value)
    if name == "instagram_handle":
        return display_handle(value)
    if name == "address" and isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v)
    if name == "tags":
        return ", ".join(value)
    if name == "vip":
        return "VIP" if value else "\u2014"
    if name == "sex":
        return str(value).capitalize()
    if name == "consents" and isinstance(value, dict):
        words = {"transactional_sms": "texts", "marketing_sms": "marketing texts", "email": "email",
                 "phone": "calls"}
        given = [w for k, w in words.items() if isinstance(value.get(k), dict) and value[k].get("granted")]
        return "Agreed to " + ", ".join(given) if given else "No consents"
    if name == "first_touch" and isinstance(value, dict):
        return source_label(value.get("source")) if value.get("source") else "\u2014"
    return str(value)


class DuplicatesPage(QWidget):
    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self.desk = desk
        self.cases: list[ReviewCase] = []
        self._op: Op | None = None
        self._generation = 0
        self._busy = False
        self.model = MergeReviewListModel(self)
        self.table = RowTable(self.model, name="DuplicatesTable")
        self.table.setFixedWidth(470)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_case())
        self.count = label("", name="ResultCount")
        self.empty = label("", name="SearchHint", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.notice = label("", name="LeadNotice", wrap=True)
        self.compare = ComparePanel(desk)
        self.compare.merge_requested.connect(self.merge)
        self.compare.dismiss_requested.connect(self.dismiss)
        self._body = QStackedWidget()
        content = QWidget()
        line = QHBoxLayout(content)
        line.setContentsMargins(0, 0, 0, 0)
        line.setSpacing(16)
        line.addWidget(self.table, 0)
        line.addWidget(self.compare, 1)
        self._body.addWidget(content)
        self._body.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 24, 16)
        layout.setSpacing(12)
        layout.addLayout(row(label("Possible duplicates", name="PageTitle"), None, self.count, stretch_end=False))
        layout.addWidget(label("Records the clinic server could not be sure about. Merge the two when they are the "
                               "same person (nothing is lost: every appointment, lead, message and note moves to the "
                               "record you keep), or mark them as different people.", kind="muted", wrap=True))
        layout.addWidget(self.notice)
        layout.addWidget(self._body, 1)
        self.refresh()

    def activate(self) -> None:
        self.table.setFocus()

    def refresh(self) -> None:
        if self._op is not None and not self._op.done:
            self._op.cancel()
        self._generation += 1
        generation = self._generation
        self._op = self.desk.merge_reviews(on_success=lambda cases: self._show(generation, cases),
                                           on_failure=lambda exc: self._failed(generation, exc))

    def _show(self, generation: int, cases: list[ReviewCase]) -> None:
        if generation != self._generation:
            return
        keep = self.model.id_at(self.table.current_row())
        self.cases = cases
        self.model.set_cases(cases, now=self.desk.now())
        self.count.setText(f"{len(cases)} to review" if cases else "")
        if cases:
            self._body.setCurrentIndex(0)
            index = self.model.row_of(keep) if keep else -1
            self.table.selectRow(max(index, 0))
        else:
            self.empty.setText("No possible duplicates to review.")
            self._body.setCurrentIndex(1)
        self._show_case()

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.empty.setText(user_message(exc))
            self._body.setCurrentIndex(1)

    def current_case(self) -> ReviewCase | None:
        case: ReviewCase | None = self.model.row(self.table.current_row())
        return case

    def _show_case(self) -> None:
        self.compare.show_case(self.current_case())

    # --- resolving ----------------------------------------------------------------------------

    def merge(self, survivor_id: str, keep: dict[str, str]) -> None:
        case = self.current_case()
        if case is None:
            return
        self._working("Merging\u2026")
        self.desk.server.merge(case.id, survivor_id=survivor_id, keep=keep,
                               on_success=lambda applied: self._done(applied.message or "Merged."),
                               on_failure=lambda exc: self._done(user_message(exc), failed=True))

    def dismiss(self) -> None:
        case = self.current_case()
        if case is None:
            return
        self._working("Saving\u2026")
        self.desk.server.dismiss(case.id, on_success=lambda applied: self._done(
            applied.message or "Marked as two different people."),
            on_failure=lambda exc: self._done(user_message(exc), failed=True))

    def _working(self, text: str) -> None:
        self.compare.set_enabled(False)
        self._tone("muted", text)

    def _done(self, text: str, *, failed: bool = False) -> None:
        self.compare.set_enabled(True)
        self._tone("danger" if failed else "ok", text)

    def _tone(self, tone: str, text: str) -> None:
        self.notice.setProperty("tone", tone)
        self.notice.style().unpolish(self.notice)
        self.notice.style().polish(self.notice)
        self.notice.setText(text)


class ComparePanel(QFrame):
    """The two records side by side; a choice per differing detail; merge or not the same."""

    merge_requested = Signal(str, object)  # survivor id, {field: "survivor" | "other"}
    dismiss_requested = Signal()

    def __init__(self, desk: Any) -> None:
        super().__init__()
        self.setObjectName("Card")
        self.desk = desk
        self.case: ReviewCase | None = None
        self.choices: dict[str, QButtonGroup] = {}
        self.keep_group = QButtonGroup(self)
        self.keep_group.idToggled.connect(lambda _i, _on: self._update_merge_text())
        self.title = label("", name="DialogTitle", wrap=True)
        self.reason = label("", kind="muted", wrap=True)
        self.grid_host = QWidget()
        self.grid_host.setObjectName("CompareGrid")
        self.grid = QGridLayout(self.grid_host)
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.grid_host)
        self.merge = QPushButton(theme.icon("check", "on-accent"), "Merge")
        self.merge.setObjectName("MergeRecords")
        self.merge.setProperty("kind", "primary")
        self.merge.clicked.connect(self._merge_clicked)
        self.different = QPushButton("Not the same person")
        self.different.setObjectName("NotSamePerson")
        self.different.clicked.connect(self.dismiss_requested.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(10)
        layout.addWidget(self.title)
        layout.addWidget(self.reason)
        layout.addWidget(scroll, 1)
        layout.addLayout(row(None, self.different, self.merge, stretch_end=False))
        self.show_case(None)

    # --- the grid -----------------------------------------------------------------------------

    def _clear(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for button in self.keep_group.buttons():
            self.keep_group.removeButton(button)
        self.choices = {}

    def show_case(self, case: ReviewCase | None) -> None:
        if case is not None and self.case is not None and case.id == self.case.id:
            return  # the same review: keep the choices made
        self.case = case
        self._clear()
        self.merge.setEnabled(case is not None)
        self.different.setEnabled(case is not None)
        if case is None:
            self.title.setText("Nothing selected")
            self.reason.setText("")
            return
        self.title.setText(f"Is this the same person? {case.left.name}")
        self.reason.setText(f"{case.reason}. Choose the record to keep, and for each detail that differs "
                            "the value to keep.")
        region, today = self.desk.region, self.desk.today()
        sides = (case.left, case.right)
        for column, (side, title) in enumerate(zip(sides, SIDE_TITLES, strict=True), start=1):
            self.grid.addWidget(label(title, kind="section"), 0, column)
            keep = QRadioButton("Keep this record")
            keep.setObjectName(f"KeepRecord{column}")
            self.keep_group.addButton(keep, column - 1)
            self.grid.addWidget(keep, 1, column)
            history = (f"{side.appointments} appointment{'s' if side.appointments != 1 else ''} \u00b7 "
                       f"{side.leads} lead{'s' if side.leads != 1 else ''}")
            self.grid.addWidget(label(history, kind="muted"), 2, column)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(2, 1)
        line = 3
        for name in (*CHOOSABLE, *COMBINED):
            values = [s.data.get(name) for s in sides]
            if name not in ALWAYS and all(v in (None, "", [], {}, False) for v in values):
                continue
            self.grid.addWidget(label(LABELS.get(name, name), kind="field-label"), line, 0)
            texts = [show_value(name, v, region=region, today=today) for v in values]
            if name in case.differs:
                group = QButtonGroup(self)
                for column, text in enumerate(texts, start=1):
                    choice = QRadioButton(text)
                    choice.setObjectName(f"choice_{name}_{column}")
                    group.addButton(choice, column - 1)
                    self.grid.addWidget(choice, line, column)
                self.choices[name] = group
            else:
                for column, text in enumerate(texts, start=1):
                    cell = label(text, kind="compare-value", wrap=True)
                    self.grid.addWidget(cell, line, column)
                if name in COMBINED and texts[0] != texts[1] and "\u2014" not in texts:
                    cell.setToolTip("Kept from both records")
            line += 1
        self.grid.setRowStretch(line, 1)
        survivor = 0 if case.suggested_survivor == case.left.id else 1
        self.keep_group.button(survivor).setChecked(True)
        for group in self.choices.values():
            group.button(survivor).setChecked(True)
        self._update_merge_text()

    def _survivor_index(self) -> int:
        return max(self.keep_group.checkedId(), 0)

    def _update_merge_text(self) -> None:
        if self.case is None:
            self.merge.setText("Merge")
            return
        which = ("the record already there", "the new record")[self._survivor_index()]
        self.merge.setText(f"Merge into {which}")

    def choice(self, name: str) -> str:
        """For a differing detail: ``survivor`` or ``other``, as chosen on screen."""
        return SURVIVOR if self.choices[name].checkedId() == self._survivor_index() else OTHER

    def _merge_clicked(self) -> None:
        if self.case is None:
            return
        survivor = (self.case.left, self.case.right)[self._survivor_index()]
        self.merge_requested.emit(survivor.id, {name: self.choice(name) for name in self.choices})

    def set_enabled(self, on: bool) -> None:
        self.merge.setEnabled(on and self.case is not None)
        self.different.setEnabled(on and self.case is not None)
