"""Small building blocks shared by the screens (styled through resources/style.qss)."""

from __future__ import annotations

import hashlib

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QLayoutItem, QPushButton, QSizePolicy, QWidget

from app.ui import theme

AVATAR_COLORS = ("#efe7ff", "#ffe4ef", "#e0f2fe", "#dcfce7", "#fef3c7", "#fde2e1", "#e0e7ff", "#f3e8ff")


def label(text: str = "", *, name: str | None = None, kind: str | None = None, wrap: bool = False,
          selectable: bool = False) -> QLabel:
    """A QLabel with an object name and/or a ``kind`` property the stylesheet picks up."""
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    if kind:
        widget.setProperty("kind", kind)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    if selectable:
        widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return widget


def chip(text: str, *, tone: str = "neutral") -> QLabel:
    """A rounded tag (tones: neutral, accent, vip, danger, ok, muted)."""
    widget = label(text, kind="chip")
    widget.setProperty("tone", tone)
    widget.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
    return widget


def icon_label(name: str, *, size: int = 18, color: str | None = "muted") -> QLabel:
    widget = QLabel()
    widget.setPixmap(theme.pixmap(name, size, color))
    widget.setFixedSize(size, size)
    return widget


def avatar(first: str, last: str, key: str, *, size: int = 56) -> QLabel:
    """A round badge with the client's initials, its colour stable per client."""
    initials = ((first[:1] + last[:1]) or "?").upper()
    colour = AVATAR_COLORS[int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(AVATAR_COLORS)]
    widget = QLabel(initials)
    widget.setObjectName("Avatar")
    widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
    widget.setFixedSize(size, size)
    widget.setStyleSheet(f"background: {colour}; border-radius: {size // 2}px;")
    return widget


def row(*widgets: QWidget | None, spacing: int = 8, stretch_end: bool = True) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(spacing)
    for widget in widgets:
        if widget is None:
            layout.addStretch(1)  # None: push what follows to the right
        else:
            layout.addWidget(widget)
    if stretch_end:
        layout.addStretch(1)
    return layout


def only_default(dialog: QWidget, default: QPushButton | None) -> None:
    """Enter presses ``default`` (or nothing): no other button of the dialog becomes the default
    on its own (Qt makes the first "auto-default" button the default, which may be Quit)."""
    for button in dialog.findChildren(QPushButton):
        button.setAutoDefault(False)
        button.setDefault(False)
    if default is not None:
        default.setDefault(True)


def clear_layout(layout: QLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        if item is None:
            break
        widget, inner = item.widget(), item.layout()
        if widget is not None:
            widget.setParent(None)
            widget.deleteLater()
        elif inner is not None:
            clear_layout(inner)


class FlowLayout(QLayout):
    """Lays widgets out left to right, wrapping to a new line (tags, consents)."""

    def __init__(self, parent: QWidget | None = None, *, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        x, y, line_height = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line_height > 0:
                x, y = rect.x(), y + line_height + self._spacing
                line_height = 0
            if apply:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y()
