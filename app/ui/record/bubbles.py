"""Painting a thread: client messages on the left, the clinic's on the right, day headers between.

Each bubble holds the text, then who wrote it, when and on which channel, then the delivery state
in its tone (a refusal or a failure in red, with its reason). Sizes follow the view's width.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from app.ui import theme
from app.ui.models.thread_model import INBOUND_ROLE, KIND_ROLE, META_ROLE, STATE_ROLE, TONE_ROLE
from app.ui.tables import TONES

Index = QModelIndex | QPersistentModelIndex

PAD_X, PAD_Y, GAP, MARGIN = 14, 10, 4, 14
MAX_SHARE = 0.72  # of the view's width
_WRAP = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop


def _small(font: QFont) -> QFont:
    small = QFont(font)
    small.setPointSizeF(max(font.pointSizeF() - 1.0, 7.5))
    return small


def _bold(font: QFont) -> QFont:
    bold = QFont(font)
    bold.setWeight(QFont.Weight.DemiBold)
    return bold


class BubbleDelegate(QStyledItemDelegate):
    def _layout(self, option: QStyleOptionViewItem, index: Index) -> tuple[int, QRect, QRect, QRect, QRect]:
        """(bubble width, body, meta, state rects relative to the bubble's top-left, bubble)."""
        width = max(option.rect.width(), 200)
        inner = int(width * MAX_SHARE) - 2 * PAD_X
        body_metrics, small_metrics = QFontMetrics(option.font), QFontMetrics(_small(option.font))
        text = str(index.data() or "")
        meta, state = str(index.data(META_ROLE) or ""), str(index.data(STATE_ROLE) or "")
        body = body_metrics.boundingRect(QRect(0, 0, inner, 100_000), _WRAP, text)
        meta_rect = small_metrics.boundingRect(QRect(0, 0, inner, 100_000), _WRAP, meta)
        state_metrics = QFontMetrics(_bold(_small(option.font)))
        state_rect = state_metrics.boundingRect(QRect(0, 0, inner, 100_000), _WRAP, state) if state else QRect()
        content = max(body.width(), meta_rect.width(), state_rect.width(), 120)
        y = PAD_Y
        body_at = QRect(PAD_X, y, content, body.height())
        y += body.height() + GAP + 2
        meta_at = QRect(PAD_X, y, content, meta_rect.height())
        y += meta_rect.height()
        state_at = QRect(PAD_X, y + GAP, content, state_rect.height()) if state else QRect()
        if state:
            y += GAP + state_rect.height()
        bubble = QRect(0, 0, content + 2 * PAD_X, y + PAD_Y)
        return bubble.width(), body_at, meta_at, state_at, bubble

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        if index.data(KIND_ROLE) == "day":
            return QSize(option.rect.width(), QFontMetrics(_small(option.font)).height() + 22)
        *_, bubble = self._layout(option, index)
        return QSize(option.rect.width(), bubble.height() + 8)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if index.data(KIND_ROLE) == "day":
            painter.setFont(_small(option.font))
            painter.setPen(theme.qcolor("faint"))
            painter.drawText(option.rect, Qt.AlignmentFlag.AlignCenter, str(index.data() or ""))
            painter.restore()
            return
        inbound = bool(index.data(INBOUND_ROLE))
        width, body_at, meta_at, state_at, bubble = self._layout(option, index)
        left = option.rect.x() + MARGIN if inbound else option.rect.right() - MARGIN - width
        origin = (left, option.rect.y() + 4)
        box = bubble.translated(*origin)
        painter.setPen(theme.qcolor("line") if inbound else theme.qcolor("accent-soft"))
        painter.setBrush(theme.qcolor("surface" if inbound else "accent-softer"))
        tone = str(index.data(TONE_ROLE) or "")
        if tone == "danger":
            painter.setPen(theme.qcolor("danger-line"))
            painter.setBrush(theme.qcolor("danger-soft"))
        painter.drawRoundedRect(box, 12, 12)
        painter.setPen(theme.qcolor("text"))
        painter.setFont(option.font)
        painter.drawText(body_at.translated(*origin), _WRAP, str(index.data() or ""))
        small = _small(option.font)
        painter.setFont(small)
        painter.setPen(theme.qcolor("muted"))
        painter.drawText(meta_at.translated(*origin), _WRAP, str(index.data(META_ROLE) or ""))
        state = str(index.data(STATE_ROLE) or "")
        if state:
            painter.setFont(_bold(small))
            painter.setPen(theme.qcolor(TONES.get(tone, TONES["muted"])[1]))
            painter.drawText(state_at.translated(*origin), _WRAP, state)
        painter.restore()
