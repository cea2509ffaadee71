"""The patient search results as a table: name, phone, email, Instagram, VIP."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any, Protocol

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from app.ui.formatting import display_handle, display_name, display_phone

Index = QModelIndex | QPersistentModelIndex

VIP_TEXT = "\u2605 VIP"
VIP_COLOR = QColor("#b7791f")


class PatientHit(Protocol):
    """What a search hit carries (``PatientService.search`` returns these)."""

    @property
    def id(self) -> str: ...
    @property
    def first_name(self) -> str: ...
    @property
    def last_name(self) -> str: ...
    @property
    def preferred_name(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def instagram_handle(self) -> str | None: ...
    @property
    def vip(self) -> bool: ...


class Column(IntEnum):
    NAME = 0
    PHONE = 1
    EMAIL = 2
    INSTAGRAM = 3
    VIP = 4


HEADERS = {
    Column.NAME: "Name",
    Column.PHONE: "Phone",
    Column.EMAIL: "Email",
    Column.INSTAGRAM: "Instagram",
    Column.VIP: "VIP",
}

#: the patient id of a row (any column)
PATIENT_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class PatientListModel(QAbstractTableModel):
    def __init__(self, parent: Any = None, *, region: str = "US") -> None:
        super().__init__(parent)
        self._region = region
        self._hits: list[PatientHit] = []
        self._bold = QFont()
        self._bold.setWeight(QFont.Weight.DemiBold)

    # --- content ------------------------------------------------------------------------------

    def set_hits(self, hits: Sequence[PatientHit]) -> None:
        self.beginResetModel()
        self._hits = list(hits)
        self.endResetModel()

    def clear(self) -> None:
        self.set_hits([])

    def hit(self, row: int) -> PatientHit | None:
        return self._hits[row] if 0 <= row < len(self._hits) else None

    def patient_id(self, row: int) -> str | None:
        hit = self.hit(row)
        return hit.id if hit is not None else None

    def row_of(self, patient_id: str) -> int:
        return next((i for i, h in enumerate(self._hits) if h.id == patient_id), -1)

    # --- QAbstractItemModel ------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._hits)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column):
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[Column(section)]
            if role == Qt.ItemDataRole.TextAlignmentRole and section == Column.VIP:
                return Qt.AlignmentFlag.AlignCenter
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        if not 0 <= index.column() < len(Column):
            return None
        hit, column = self._hits[index.row()], Column(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            text = self._text(hit, column)
            if role == Qt.ItemDataRole.ToolTipRole:
                return "VIP client" if column == Column.VIP and hit.vip else (text or None)
            return text
        if role == PATIENT_ID_ROLE:
            return hit.id
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return "VIP" if column == Column.VIP and hit.vip else self._text(hit, column)
        if role == Qt.ItemDataRole.FontRole and (
            column == Column.NAME or (column == Column.VIP and hit.vip)
        ):
            return self._bold
        if role == Qt.ItemDataRole.ForegroundRole and column == Column.VIP and hit.vip:
            return VIP_COLOR
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column == Column.VIP:
                return Qt.AlignmentFlag.AlignCenter
            return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        return None

    def _text(self, hit: PatientHit, column: Column) -> str:
        if column == Column.NAME:
            return display_name(hit.first_name, hit.last_name, hit.preferred_name)
        if column == Column.PHONE:
            return display_phone(hit.phone, self._region)
        if column == Column.EMAIL:
            return hit.email or ""
        if column == Column.INSTAGRAM:
            return display_handle(hit.instagram_handle)
        return VIP_TEXT if hit.vip else ""
