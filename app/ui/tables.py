"""Views for the row tables: a chip painter for status columns and a ready-made table view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QPainter, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from app.ui import theme
from app.ui.models.table_model import TONE_ROLE, RowTableModel

Index = QModelIndex | QPersistentModelIndex

#: tone -> (background, text) palette names, as the stylesheet's chips
TONES = {
    "accent": ("accent-soft", "accent-strong"), "vip": ("vip-chip", "vip"), "ok": ("ok-chip", "ok"),
    "danger": ("danger-chip", "danger"), "warn": ("warn-soft", "warn"), "info": ("info-chip", "info"),
    "muted": ("chip-muted", "faint"), "neutral": ("chip", "text2"),
}


class ChipDelegate(QStyledItemDelegate):
    """Paints a cell whose column has a tone as a rounded chip; cuts a long text where its
    column says (``Col.elide``)."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:  # noqa: N802 - Qt's name
        super().initStyleOption(option, index)
        columns = getattr(index.model(), "columns", None)
        if columns and 0 <= index.column() < len(columns) and columns[index.column()].elide == "middle":
            option.textElideMode = Qt.TextElideMode.ElideMiddle

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        tone = index.data(TONE_ROLE)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        if not tone or not text:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        background, foreground = TONES.get(str(tone), TONES["neutral"])
        font = QFont(opt.font)
        font.setPointSizeF(max(font.pointSizeF() - 1, 7.5))
        font.setWeight(QFont.Weight.DemiBold)
        metrics = QFontMetrics(font)
        width = min(metrics.horizontalAdvance(text) + 18, opt.rect.width() - 12)
        height = metrics.height() + 6
        rect = QRectF(opt.rect.x() + 8, opt.rect.center().y() - height / 2 + 1, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.qcolor(background))
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setPen(theme.qcolor(foreground))
        painter.setFont(font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, metrics.elidedText(text, Qt.TextElideMode.ElideRight,
                                                                               int(width) - 12))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return super().sizeHint(option, index)


class RowTable(QTableView):
    """A row-selecting, read-only table over a :class:`RowTableModel`; Enter or a double click
    emits ``activated_row``.

    Columns: every title fits (a column is never narrower than its header needs); the stretch
    column (``Col.width is None``, the name) takes the room the others leave, never less than
    its ``min_width``: first the columns with a ``drop`` rank are hidden (highest first), then
    the table scrolls sideways. Every column can be resized by dragging its header's edge; a
    width the person chose is kept.
    """

    activated_row = Signal(int)

    def __init__(self, model: RowTableModel, parent: QWidget | None = None, *, row_height: int = 40,
                 name: str = "RowTable") -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setModel(model)
        self.setItemDelegate(ChipDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(row_height)
        self._columns = model.columns
        self._stretch = next((i for i, col in enumerate(model.columns) if col.width is None), None)
        self._chosen: dict[int, int] = {}  # widths the person dragged
        self._fitting = False
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(self._stretch is None)
        header.setMinimumSectionSize(24)
        header.sectionResized.connect(self._section_resized)
        self._fit_columns()
        self.doubleClicked.connect(lambda index: self.activated_row.emit(index.row()))

    # --- column widths ------------------------------------------------------------------------

    def column_width_needed(self, column: int) -> int:
        """The width ``column`` is given: its hint (or the stretch column's minimum), never
        narrower than its title."""
        col = self._columns[column]
        wanted = col.min_width if col.width is None else col.width
        return max(wanted, self.horizontalHeader().sectionSizeHint(column))

    def _section_resized(self, column: int, _old: int, new: int) -> None:
        if not self._fitting and self._stretch is not None and new > 0:
            self._chosen[column] = new  # dragged by the person (the view's own changes are fitting)

    def _fit_columns(self) -> None:
        if self._fitting:
            return
        self._fitting = True
        try:
            widths = {i: self._chosen.get(i, self.column_width_needed(i)) for i, col in enumerate(self._columns)
                      if col.width is not None}
            if self._stretch is None:
                for i, width in widths.items():
                    self.setColumnWidth(i, width)
                return
            room = self.viewport().width()
            least = self._chosen.get(self._stretch, self.column_width_needed(self._stretch))
            hidden: set[int] = set()
            for i in sorted((i for i, c in enumerate(self._columns) if c.drop), key=lambda i: -self._columns[i].drop):
                if sum(w for j, w in widths.items() if j not in hidden) + least <= room:
                    break
                hidden.add(i)
            for i, col in enumerate(self._columns):
                if col.drop:
                    self.setColumnHidden(i, i in hidden)
            for i, width in widths.items():
                if i not in hidden:
                    self.setColumnWidth(i, width)
            rest = room - sum(w for j, w in widths.items() if j not in hidden)
            self.setColumnWidth(self._stretch, self._chosen.get(self._stretch, max(least, rest)))
        finally:
            self._fitting = False

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().viewportEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._fit_columns()  # the stylesheet's header font is in force now

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activated_row.emit(self.currentIndex().row())
            event.accept()
            return
        super().keyPressEvent(event)

    def current_row(self) -> int:
        index = self.currentIndex()
        return index.row() if index.isValid() else -1

    def row_model(self) -> Any:
        return self.model()
