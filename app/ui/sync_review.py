"""Sync details and the review list: conflicts and refused changes, in plain words, to dismiss.

Opened from the sync indicator in the status bar (or the banner's Details, or File > Review sync
conflicts). The top says how syncing is going (and offers Sync now); the list shows each
conflict (which record, which field, the value kept and the one not kept, who made each) and
each change the server refused with its reason (such as a double booking). Selecting an item
shows the whole story below the list; Dismiss hides it on this workstation; Open client record
goes to the client concerned. Reading the list is an audited read (it shows client values).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.sync_review import ReviewItem, SyncReviewService
from app.sync import SyncState
from app.ui import theme
from app.ui.desk import AUDIT, Desk
from app.ui.errors import user_message
from app.ui.models.sync_review_model import SyncReviewModel
from app.ui.operations import Op
from app.ui.sync_controller import SyncController
from app.ui.sync_indicator import describe
from app.ui.tables import RowTable
from app.ui.widgets import label, only_default, row
from core.permissions import Permission

NOTHING = ("Nothing to review. When two workstations change the same thing at once, or the clinic "
           "server refuses a change made here (a double booking, for example), it is listed here.")
INTRO = ("Nothing is lost in a conflict: the clinic kept one value and the other is shown here. "
         "Dismiss an item once it has been dealt with.")


class SyncReviewDialog(QDialog):
    #: the person asked to open this client's record
    open_client = Signal(str)

    def __init__(self, desk: Desk, sync: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SyncReviewDialog")
        self.setWindowTitle("Sync \u2014 Glowdesk")
        self.desk = desk
        self.sync = sync
        clinic = desk.clinic
        self.service = SyncReviewService(desk.workspace.store, clinic_id=clinic.id, region=clinic.region,
                                         timezone=clinic.timezone, currency=clinic.currency)
        self.items: list[ReviewItem] | None = None
        self._loaded_count = -1
        self._op: Op | None = None

        self.title = label("Sync with the clinic server", name="DialogTitle")
        self.state_line = label("", name="SyncDetailState", wrap=True)
        self.facts = label("", kind="muted", wrap=True, selectable=True)
        self.sync_button = QPushButton(theme.icon("refresh"), "Sync now")
        self.sync_button.clicked.connect(self._sync_now)
        self.review_title = label("To review", kind="section")
        self.intro = label(INTRO, kind="muted", wrap=True)
        self.model = SyncReviewModel(self, tz=desk.tz())
        self.table = RowTable(self.model, row_height=36, name="SyncReviewTable")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.table.activated_row.connect(lambda _row: self._open_client())
        self.detail = label("", name="SyncReviewDetail", wrap=True, selectable=True)
        self.empty = label(NOTHING, name="SyncReviewEmpty", wrap=True)
        self.error = label("", kind="field-error", wrap=True)
        self.open_button = QPushButton(theme.icon("user"), "Open client record")
        self.open_button.clicked.connect(self._open_client)
        self.dismiss_button = QPushButton(theme.icon("check"), "Dismiss")
        self.dismiss_button.setToolTip("Stop showing the selected items on this workstation")
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        self.dismiss_button.setVisible(desk.can(Permission.PATIENT_WRITE))
        close = QPushButton("Close")
        close.clicked.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(10)
        layout.addLayout(row(self.title, None, self.sync_button, stretch_end=False))
        layout.addWidget(self.state_line)
        layout.addWidget(self.facts)
        layout.addSpacing(6)
        layout.addWidget(self.review_title)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.detail)
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.dismiss_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.resize(1240, 620)
        only_default(self, None)

        sync.state_changed.connect(self._state_changed)
        self._state_changed(sync.state)
        self._selection_changed()
        self.reload()

    # --- the top: how syncing is going ----------------------------------------------------

    def _state_changed(self, state: SyncState) -> None:
        view = describe(state, now=self.desk.now(), tz=self.desk.tz(), demo=self.desk.is_demo)
        self.state_line.setText(view.banner or view.text)
        self.state_line.setProperty("tone", view.tone)
        self.state_line.style().unpolish(self.state_line)
        self.state_line.style().polish(self.state_line)
        self.facts.setText(view.tip.replace(" (click to see them)", ""))
        self.sync_button.setEnabled(self.sync.can_sync)
        if self.items is not None and state.conflicts_to_review + state.rejected_changes != self._loaded_count:
            self.reload()

    def _sync_now(self) -> None:
        self.sync.sync_now()

    # --- the list -------------------------------------------------------------------------

    def reload(self) -> None:
        if self._op is not None and not self._op.done:
            self._op.cancel()
        actor, service = self.desk.actor, self.service
        self._op = self.desk.ops.run_db(lambda: service.items(actor=actor), on_success=self._loaded,
                                        on_failure=self._failed, writes={AUDIT}, initiator=self,
                                        label="sync review list")

    def _loaded(self, items: list[ReviewItem]) -> None:
        selected = set(self.selected_keys())
        self.items = items
        self._loaded_count = len(items)
        self.model.set_items(items, today=self.desk.today())
        has_items = bool(items)
        self.table.setVisible(has_items)
        self.intro.setVisible(has_items)
        self.empty.setVisible(not has_items)
        self.review_title.setText(f"To review ({len(items):,})" if items else "To review")
        for key in selected:
            index = self.model.row_of(key)
            if index >= 0:
                self.table.selectRow(index)
        if has_items and not self.selected_keys():
            self.table.selectRow(0)
        self._selection_changed()

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(user_message(exc))

    def selected_items(self) -> list[ReviewItem]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [item for item in (self.model.item(r) for r in rows) if item is not None]

    def selected_keys(self) -> list[str]:
        return [item.key for item in self.selected_items()]

    def _selection_changed(self) -> None:
        chosen = self.selected_items()
        if len(chosen) == 1:
            self.detail.setText(chosen[0].sentence)
        elif chosen:
            self.detail.setText(f"{len(chosen):,} items selected.")
        else:
            self.detail.setText("")
        self.detail.setVisible(bool(chosen))
        self.dismiss_button.setEnabled(bool(chosen))
        self.open_button.setEnabled(len(chosen) == 1 and chosen[0].patient_id is not None)

    def dismiss_selected(self) -> None:
        keys = self.selected_keys()
        if not keys:
            return
        actor, service = self.desk.actor, self.service
        self.dismiss_button.setEnabled(False)
        self.desk.ops.run_db(lambda: service.dismiss(actor=actor, keys=keys), on_success=self._dismissed,
                             on_failure=self._failed, writes={AUDIT}, initiator=self,
                             label="dismiss sync review items")

    def _dismissed(self, _count: int) -> None:
        self.error.setText("")
        self.sync.refresh_state()
        self.reload()

    def _open_client(self) -> None:
        chosen = self.selected_items()
        if len(chosen) == 1 and chosen[0].patient_id:
            self.open_client.emit(chosen[0].patient_id)
            self.accept()

    def visible_text(self) -> str:
        """What a person reads in the dialog (tests)."""
        parts = [self.state_line.text(), self.facts.text()]
        if self.empty.isVisibleTo(self):
            parts.append(self.empty.text())
        for r in range(self.model.rowCount()):
            parts.append(" | ".join(str(self.model.index(r, c).data() or "") for c in range(self.model.columnCount())))
        if self.detail.isVisibleTo(self):
            parts.append(self.detail.text())
        return "\n".join(p for p in parts if p)


__all__ = ["SyncReviewDialog"]

