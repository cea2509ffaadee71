"""Does every piece of text on a screen fit? A check for tests and screenshots.

:func:`misfits` walks the visible text of a window or widget: labels, buttons (push, tool, radio
and check boxes), the tabs of tab bars and the sections of table headers. It measures each text
with the widget's own font metrics (Qt's size hints: text advance plus the style's padding, icon
and indicator) against the room the layout gave it, and reports every one that does not fit:

- a label narrower than its text, or a wrapped label shorter than its lines;
- a button narrower than its text and icon, a combo box narrower than its current text;
- a tab narrower than its title, or pushed out of the tab bar (behind the scroll arrows);
- a header section narrower than its title, or out of view (the table scrolls sideways);
- two visible texts drawn over each other.

Text may be cut on purpose when the full text is one hover away: a widget marked with
:func:`mark_elided` (or an :class:`ElidedLabel`, :class:`ElidedCombo`) whose tooltip carries the
full text, a tab whose
tooltip carries its full title, a header section whose ``ToolTipRole`` carries its title. What
it shows must still fit.

Later screens get the same check by registering in :mod:`app.ui.screen_catalog`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPaintEvent, QResizeEvent, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionViewItem,
    QStylePainter,
    QTabBar,
    QTableView,
    QWidget,
)

#: the dynamic property holding the full text of a widget that shows it cut on purpose
FULL_TEXT = "fullText"
#: pixels of slack before a text counts as cut (rounding in the style's metrics)
TOLERANCE = 1
ELLIPSIS = "\u2026"
_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")


@dataclass(frozen=True)
class Misfit:
    """A text that does not fit: what kind of widget, where, the text, the room needed and given."""

    kind: str  # label, button, tab, header, overlap
    where: str  # object names from the root down, e.g. "MainWindow/Leads/LeadStatus_converted"
    text: str
    needed: int
    available: int
    detail: str = ""

    def __str__(self) -> str:
        what = f"{self.kind} {self.where}: {self.text!r}"
        if self.detail:
            return f"{what} {self.detail}"
        return f"{what} needs {self.needed} px, has {self.available} px"


def mark_elided(widget: QWidget, full_text: str) -> None:
    """Say that ``widget`` shows ``full_text`` cut on purpose: its tooltip carries the full text."""
    widget.setProperty(FULL_TEXT, full_text)
    widget.setToolTip(full_text)


class ElidedCombo(QComboBox):
    """A combo box that cuts its current text with "…" to its width (a plain QComboBox clips
    it), the full text in its tooltip while it is cut."""

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        room = field.width() - (option.iconSize.width() + 4 if not option.currentIcon.isNull() else 0)
        full = option.currentText
        option.currentText = QFontMetrics(self.font()).elidedText(full, Qt.TextElideMode.ElideRight, max(room, 0))
        if option.currentText != full:
            mark_elided(self, full)
        elif self.property(FULL_TEXT):
            self.setProperty(FULL_TEXT, None)
            self.setToolTip("")
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


class ElidedLabel(QLabel):
    """A one-line label that cuts its text with "…" to the room it has, the full text in its
    tooltip (only while it is cut). :meth:`full_text` is the whole text."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(parent)
        self._full = text
        self._mode = mode
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, self.sizePolicy().verticalPolicy())
        self.setMinimumWidth(24)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self._elide()

    def sizeHint(self):  # type: ignore[no-untyped-def]  # noqa: N802 - Qt's name
        hint = super().sizeHint()
        margins = self.contentsMargins()
        hint.setWidth(QFontMetrics(self.font()).horizontalAdvance(self._full) + margins.left() + margins.right()
                      + 2 * max(self.margin(), 0) + 2)
        return hint

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = self.contentsRect().width() - 2 * max(self.margin(), 0)
        shown = QFontMetrics(self.font()).elidedText(self._full, self._mode, max(room, 0))
        super().setText(shown)
        if shown != self._full:
            mark_elided(self, self._full)
        else:
            self.setProperty(FULL_TEXT, None)
            self.setToolTip("")


def misfits(root: QWidget, *, overlaps: bool = True) -> list[Misfit]:
    """Every visible text under ``root`` (``root`` included) that does not fit."""
    found: list[Misfit] = []
    placed: list[tuple[QWidget, QRect, str]] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible() or widget.window() is not root.window():
            continue
        if isinstance(widget, QLabel):
            text = _label_text(widget)
            if text.strip():
                found += _check_label(root, widget, text)
                placed.append((widget, _shown_rect(root, widget), text))
        elif isinstance(widget, QAbstractButton):
            if widget.text().strip():
                found += _check_button(root, widget)
                placed.append((widget, _shown_rect(root, widget), widget.text()))
        elif isinstance(widget, QComboBox):
            if widget.currentText().strip() and not widget.isEditable():
                found += _check_combo(root, widget)
                placed.append((widget, _shown_rect(root, widget), widget.currentText()))
        elif isinstance(widget, QTabBar):
            found += _check_tabs(root, widget)
        elif isinstance(widget, QHeaderView):
            found += _check_header(root, widget)
    if overlaps:
        found += _overlaps(root, placed)
    return found


def cell_misfits(view: QAbstractItemView, column: int) -> list[Misfit]:
    """The cells of ``column`` (rows in the model) whose text is wider than the column: the item
    delegate's size hint against the column's width. Cells carry their full text in their
    tooltip in Glowdesk's tables, so what counts as acceptable is the caller's to say."""
    model = view.model()
    found = []
    width = view.columnWidth(column) if isinstance(view, QTableView) else view.viewport().width()
    option = QStyleOptionViewItem()
    option.initFrom(view)
    for row in range(model.rowCount()):
        index = model.index(row, column)
        needed = view.itemDelegateForIndex(index).sizeHint(option, index).width()
        if needed > width + TOLERANCE:
            found.append(Misfit("cell", f"{view.objectName()}[{row},{column}]",
                                str(index.data(Qt.ItemDataRole.DisplayRole) or ""), needed, width))
    return found


def report(found: list[Misfit]) -> str:
    """One line per misfit (for an assertion message)."""
    return "\n".join(str(m) for m in found)


# --- one widget at a time ------------------------------------------------------------------------


def _where(root: QWidget, widget: QWidget) -> str:
    names = []
    current: QWidget | None = widget
    while current is not None:
        names.append(current.objectName() or type(current).__name__)
        if current is root:
            break
        current = current.parentWidget()
    # keep it readable: the root, the nearest named ancestors and the widget itself
    names.reverse()
    named = [n for n in names[1:-1] if not n.startswith("Q") and not n.startswith("_")]
    return "/".join([names[0], *named[-3:], names[-1]]) if len(names) > 1 else names[0]


def _deliberate(widget: QWidget, shown: str) -> bool:
    """Cut on purpose: the full text is in the tooltip and the widget shows less of it."""
    full = widget.property(FULL_TEXT)
    return bool(full) and str(full) in widget.toolTip() and shown != str(full)


def _label_text(label: QLabel) -> str:
    text = label.text()
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and _TAG.search(text) is not None)
    if rich:
        document = QTextDocument()
        document.setHtml(text)
        return document.toPlainText()
    return text


def _check_label(root: QWidget, label: QLabel, text: str) -> list[Misfit]:
    if label.pixmap() is not None and not label.pixmap().isNull():
        return []
    where = _where(root, label)
    if label.wordWrap():
        needed = label.heightForWidth(label.width())
        if needed > label.height() + TOLERANCE:
            return [Misfit("label", where, text, needed, label.height(),
                           f"wraps to {needed} px high in {label.width()} px, has {label.height()} px")]
        return []
    needed = label.sizeHint().width()
    if isinstance(label, ElidedLabel):
        needed = QLabel.sizeHint(label).width()  # what it shows (cut to its room) must fit
    elif _deliberate(label, text):
        return []
    if needed > label.width() + TOLERANCE:
        return [Misfit("label", where, text, needed, label.width())]
    height = QFontMetrics(label.font()).height() * max(text.count("\n") + 1, 1)
    room = label.contentsRect().height()
    if height > room + TOLERANCE + 2:
        return [Misfit("label", where, text, height, room, f"is {height} px high, has {room} px")]
    return []


def _check_button(root: QWidget, button: QAbstractButton) -> list[Misfit]:
    if _deliberate(button, button.text()):
        return []
    needed = button.sizeHint().width()
    if needed > button.width() + TOLERANCE:
        return [Misfit("button", _where(root, button), button.text(), needed, button.width())]
    return []


def _check_combo(root: QWidget, combo: QComboBox) -> list[Misfit]:
    """The current text, with the box's frame, padding and arrow, fits (or is cut on purpose)."""
    if isinstance(combo, ElidedCombo):
        return []
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    metrics = QFontMetrics(combo.font())
    text = QSize(metrics.horizontalAdvance(combo.currentText()), metrics.height())
    if not option.currentIcon.isNull():
        text.setWidth(text.width() + option.iconSize.width() + 4)
    needed = combo.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, option, text, combo).width()
    if needed > combo.width() + TOLERANCE:
        return [Misfit("combo box", _where(root, combo), combo.currentText(), needed, combo.width())]
    return []


def _check_tabs(root: QWidget, bar: QTabBar) -> list[Misfit]:
    found = []
    room = bar.rect()
    for i in range(bar.count()):
        if not bar.isTabVisible(i):
            continue
        text = bar.tabText(i).replace("&&", "\0").replace("&", "").replace("\0", "&")
        rect = bar.tabRect(i)
        where = f"{_where(root, bar)}[{i}]"
        if rect.left() < room.left() - TOLERANCE or rect.right() > room.right() + TOLERANCE:
            found.append(Misfit("tab", where, text, rect.right() + 1, room.width(),
                                f"is out of the tab bar ({rect.left()}..{rect.right()} of {room.width()} px)"))
            continue
        needed = bar.tabSizeHint(i).width()
        elided_on_purpose = bar.elideMode() != Qt.TextElideMode.ElideNone and text in bar.tabToolTip(i)
        if needed > rect.width() + TOLERANCE and not elided_on_purpose:
            found.append(Misfit("tab", where, text, needed, rect.width()))
    return found


def _check_header(root: QWidget, header: QHeaderView) -> list[Misfit]:
    model = header.model()
    if model is None:
        return []
    found = []
    for section in range(header.count()):
        if header.isSectionHidden(section):
            continue
        text = str(model.headerData(section, header.orientation(), Qt.ItemDataRole.DisplayRole) or "")
        if not text.strip():
            continue
        tip = str(model.headerData(section, header.orientation(), Qt.ItemDataRole.ToolTipRole) or "")
        needed = header.sectionSizeHint(section)
        size = header.sectionSize(section)
        if header.orientation() == Qt.Orientation.Vertical:
            continue  # row headers are numbers or hidden here
        where = f"{_where(root, header)}[{text}]"
        if needed > size + TOLERANCE and text not in tip:
            found.append(Misfit("header", where, text, needed, size))
        right = header.sectionViewportPosition(section) + size
        if right > header.viewport().width() + TOLERANCE:
            found.append(Misfit("header", where, text, right, header.viewport().width(),
                                f"is out of view (ends at {right} px of {header.viewport().width()}: "
                                "the table scrolls sideways)"))
    return found


# --- overlapping texts ---------------------------------------------------------------------------


def _shown_rect(root: QWidget, widget: QWidget) -> QRect:
    """Where ``widget`` shows in ``root``'s coordinates, cut by its ancestors (scroll areas)."""
    rect = QRect(widget.mapTo(root, QPoint(0, 0)), widget.size())
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        rect = rect.intersected(QRect(parent.mapTo(root, QPoint(0, 0)), parent.size()))
        parent = parent.parentWidget()
    return rect


def _related(a: QWidget, b: QWidget) -> bool:
    return a.isAncestorOf(b) or b.isAncestorOf(a)


def _overlaps(root: QWidget, placed: list[tuple[QWidget, QRect, str]]) -> list[Misfit]:
    found = []
    for i, (a, rect_a, text_a) in enumerate(placed):
        if rect_a.isEmpty():
            continue
        for b, rect_b, text_b in placed[i + 1:]:
            if rect_b.isEmpty() or _related(a, b):
                continue
            both = rect_a.intersected(rect_b)
            if both.width() > 2 and both.height() > 2:
                found.append(Misfit("overlap", f"{_where(root, a)} + {_where(root, b)}", f"{text_a} / {text_b}",
                                    0, 0, f"overlap by {both.width()}x{both.height()} px"))
    return found


__all__ = ["ELLIPSIS", "FULL_TEXT", "ElidedCombo", "ElidedLabel", "Misfit", "cell_misfits", "mark_elided", "misfits",
           "report"]
