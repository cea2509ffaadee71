"""A read-only table of plain rows described by columns: the lists of appointments, leads and
settings use it (each screen declares its columns; the model does the Qt side once)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from app.ui import theme

Index = QModelIndex | QPersistentModelIndex

#: the row object of an index (any column)
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
#: the id of a row (any column)
ID_ROLE = Qt.ItemDataRole.UserRole + 2
#: a chip column's tone (accent, ok, danger, warn, info, vip, muted, neutral)
TONE_ROLE = Qt.ItemDataRole.UserRole + 3


@dataclass(frozen=True)
class Col:
    header: str
    text: Callable[[Any], str]
    width: int | None = None  # a hint for the view (never narrower than its title); None: stretch
    tone: Callable[[Any], str] | None = None  # a chip column when set
    bold: bool = False
    muted: bool = False
    right: bool = False
    tip: Callable[[Any], str] | None = None
    #: the stretch column's narrowest width before the view scrolls sideways
    min_width: int = 150
    #: 0: always shown; otherwise hidden while the view is too narrow for the stretch column's
    #: ``min_width`` (the highest number first), shown again when there is room
    drop: int = 0
    #: where a text too long for its cell is cut: "right" or "middle" (names that differ at the end)
    elide: str = "right"


class RowTableModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Col], parent: Any = None,
                 id_of: Callable[[Any], str] = lambda row: str(row.id)) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self._rows: list[Any] = []
        self._id_of = id_of
        self._bold = QFont()
        self._bold.setWeight(QFont.Weight.DemiBold)

    # --- content ------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[Any]:
        return list(self._rows)

    def row(self, index: int) -> Any:
        return self._rows[index] if 0 <= index < len(self._rows) else None

    def id_at(self, index: int) -> str | None:
        row = self.row(index)
        return self._id_of(row) if row is not None else None

    def row_of(self, row_id: str) -> int:
        return next((i for i, r in enumerate(self._rows) if self._id_of(r) == row_id), -1)

    def texts(self, column: int) -> list[str]:
        return [self.columns[column].text(r) for r in self._rows]

    # --- QAbstractItemModel ------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].header
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _align(self.columns[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or not 0 <= index.column() < len(self.columns):
            return None
        row, col = self._rows[index.row()], self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return col.text(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (col.tip(row) if col.tip else col.text(row)) or None
        if role == ROW_ROLE:
            return row
        if role == ID_ROLE:
            return self._id_of(row)
        if role == TONE_ROLE:
            return col.tone(row) if col.tone else None
        if role == Qt.ItemDataRole.FontRole and col.bold:
            return self._bold
        if role == Qt.ItemDataRole.ForegroundRole and col.muted:
            return theme.qcolor("muted")
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _align(col)
        return None


def _align(col: Col) -> Qt.AlignmentFlag:
    side = Qt.AlignmentFlag.AlignRight if col.right else Qt.AlignmentFlag.AlignLeft
    return side | Qt.AlignmentFlag.AlignVCenter
