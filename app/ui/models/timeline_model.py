"""A client's timeline as a list: one entry per row, newest first, with its title, detail, time,
who did it and a tone (the delegate in app.ui.record.timeline paints them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from app.ui.record.client_record import TimelineItem

Index = QModelIndex | QPersistentModelIndex

DETAIL_ROLE = Qt.ItemDataRole.UserRole + 1
WHEN_ROLE = Qt.ItemDataRole.UserRole + 2
ACTOR_ROLE = Qt.ItemDataRole.UserRole + 3
TONE_ROLE = Qt.ItemDataRole.UserRole + 4
KIND_ROLE = Qt.ItemDataRole.UserRole + 5


class TimelineModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._items: list[TimelineItem] = []

    def set_items(self, items: Sequence[TimelineItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def append_items(self, items: Sequence[TimelineItem]) -> None:
        """Add older entries at the end (paging back), skipping any already shown."""
        known = {i.id for i in self._items}
        fresh = [i for i in items if i.id not in known]
        if not fresh:
            return
        self.beginInsertRows(QModelIndex(), len(self._items), len(self._items) + len(fresh) - 1)
        self._items.extend(fresh)
        self.endInsertRows()

    def item(self, row: int) -> TimelineItem | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def items(self) -> list[TimelineItem]:
        return list(self._items)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._items)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items) or index.column() != 0:
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.title
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return " \u2014 ".join(p for p in (item.title, item.detail, item.when, item.actor) if p)
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.detail or None
        return {DETAIL_ROLE: item.detail, WHEN_ROLE: item.when, ACTOR_ROLE: item.actor, TONE_ROLE: item.tone,
                KIND_ROLE: item.kind}.get(role)
