"""Views for the row tables: a chip painter for status columns and a ready-made table view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QPainter
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
    """Paints a cell whose column has a tone as a rounded chip."""

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
    emits ``activated_row``."""

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
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(row_height)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        stretched = False
        for i, col in enumerate(model.columns):
            if col.width is None:
                header.setSectionResizeMode(i, QHeaderView.ResizeMode.Stretch)
                stretched = True
            else:
                self.setColumnWidth(i, col.width)
        if not stretched:
            header.setStretchLastSection(True)
        self.doubleClicked.connect(lambda index: self.activated_row.emit(index.row()))

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
