"""The timeline tab: every activity on the client, newest first, filtered by kind, paged back."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QListView,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.services.records import Timeline
from app.ui import theme
from app.ui.errors import user_message
from app.ui.models.timeline_model import ACTOR_ROLE, DETAIL_ROLE, TONE_ROLE, WHEN_ROLE, TimelineModel
from app.ui.operations import Op
from app.ui.record.client_record import TIMELINE_FILTERS, ClientRecord, timeline_item
from app.ui.tables import TONES
from app.ui.widgets import label, row

Index = QModelIndex | QPersistentModelIndex


class TimelineDelegate(QStyledItemDelegate):
    """A dot in the entry's tone, the title and detail, and when and who on the right."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        if widget is not None:
            widget.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect: QRect = opt.rect.adjusted(16, 8, -16, -8)
        title, detail = str(index.data() or ""), str(index.data(DETAIL_ROLE) or "")
        when, actor = str(index.data(WHEN_ROLE) or ""), str(index.data(ACTOR_ROLE) or "")
        tone = str(index.data(TONE_ROLE) or "neutral")
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.qcolor(TONES.get(tone, TONES["neutral"])[1]))
        painter.drawEllipse(rect.x(), rect.y() + 5, 9, 9)
        bold = QFont(opt.font)
        bold.setWeight(QFont.Weight.DemiBold)
        small = QFont(opt.font)
        small.setPointSizeF(max(opt.font.pointSizeF() - 0.5, 7.5))
        right_width = 190
        text_rect = QRect(rect.x() + 22, rect.y(), rect.width() - 22 - right_width - 12, rect.height())
        painter.setPen(theme.qcolor("text"))
        painter.setFont(bold)
        line = QFontMetrics(bold).height()
        painter.drawText(QRect(text_rect.x(), text_rect.y(), text_rect.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(bold).elidedText(title, Qt.TextElideMode.ElideRight, text_rect.width()))
        painter.setFont(small)
        painter.setPen(theme.qcolor("muted"))
        small_metrics = QFontMetrics(small)
        if detail:
            painter.drawText(QRect(text_rect.x(), text_rect.y() + line + 2, text_rect.width(), line),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             small_metrics.elidedText(detail, Qt.TextElideMode.ElideRight, text_rect.width()))
        right = QRect(rect.right() - right_width, rect.y(), right_width, line)
        painter.drawText(right, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, when)
        if actor:
            painter.setPen(theme.qcolor("faint"))
            painter.drawText(right.translated(0, line + 2), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             small_metrics.elidedText(actor, Qt.TextElideMode.ElideRight, right_width))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        line = QFontMetrics(option.font).height()
        return QSize(option.rect.width(), 2 * line + 22)


class TimelinePanel(QWidget):
    """Filter buttons (with counts), the entries, and "Show older"."""

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._desk = desk
        self._record: ClientRecord | None = None
        self._kind: str | None = None
        self._more = False
        self._op: Op | None = None
        self._generation = 0
        self.model = TimelineModel(self)
        self.list = QListView()
        self.list.setObjectName("TimelineList")
        self.list.setModel(self.model)
        self.list.setItemDelegate(TimelineDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.empty = label("", name="PlaceholderDetail", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.empty.setContentsMargins(0, 32, 0, 0)
        self._pages = QStackedWidget()
        self._pages.addWidget(self.list)
        self._pages.addWidget(self.empty)
        self.older = QPushButton("Show older entries")
        self.older.setProperty("kind", "ghost")
        self.older.clicked.connect(self.show_older)
        self.older.hide()
        self.buttons: dict[str | None, QPushButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        for kind, text in TIMELINE_FILTERS:
            button = QPushButton(text)
            button.setProperty("kind", "segment")
            button.setCheckable(True)
            button.setObjectName(f"TimelineFilter_{kind or 'all'}")
            button.clicked.connect(lambda _checked=False, k=kind: self.set_kind(k))
            group.addButton(button)
            self.buttons[kind] = button
        self.buttons[None].setChecked(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(row(*self.buttons.values(), spacing=6))
        layout.addWidget(self._pages, 1)
        layout.addWidget(self.older, 0, Qt.AlignmentFlag.AlignHCenter)

    @property
    def kind(self) -> str | None:
        return self._kind

    @property
    def loading(self) -> bool:
        return self._op is not None and not self._op.done

    def show_record(self, record: ClientRecord) -> None:
        self._record = record
        self._generation += 1
        self._kind = None
        self.buttons[None].setChecked(True)
        for kind, text in TIMELINE_FILTERS:
            count = sum(record.kind_counts.values()) if kind is None else record.kind_counts.get(kind, 0)
            self.buttons[kind].setText(f"{text}  {count:,}" if count else text)
        self._show(list(record.timeline), record.timeline_more)

    def set_kind(self, kind: str | None) -> None:
        """Show only ``kind`` (``None``: everything), read from the store."""
        if self._record is None:
            return
        self._kind = kind
        self.buttons[kind].setChecked(True)
        if kind is None:
            self._generation += 1
            self._show(list(self._record.timeline), self._record.timeline_more)
            return
        self._request(kind, None, append=False)

    def show_older(self) -> None:
        last = self.model.item(self.model.rowCount() - 1)
        if last is not None:
            self._request(self._kind, last.occurred_at, append=True)

    def _request(self, kind: str | None, before: Any, *, append: bool) -> None:
        assert self._record is not None
        if self._op is not None and not self._op.done:
            self._op.cancel()
        self._generation += 1
        generation, record = self._generation, self._record
        self._op = self._desk.read_timeline(record.id, kind=kind, before=before,
                              on_success=lambda t: self._got(generation, t, append),
                              on_failure=lambda exc: self._failed(generation, exc))

    def _got(self, generation: int, timeline: Timeline, append: bool) -> None:
        if generation != self._generation or self._record is None:
            return
        items = [timeline_item(e, self._desk.tz(), self._desk.today()) for e in timeline.entries]
        if append:
            self.model.append_items(items)
            self._more = timeline.more
            self.older.setVisible(self._more)
        else:
            self._show(items, timeline.more)

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self.empty.setText(user_message(exc))
            self._pages.setCurrentWidget(self.empty)

    def _show(self, items: list[Any], more: bool) -> None:
        self.model.set_items(items)
        self._more = more
        self.older.setVisible(more)
        if items:
            self._pages.setCurrentWidget(self.list)
            return
        what = dict(TIMELINE_FILTERS).get(self._kind, "activity").lower()
        if self._kind == "messages":
            self.empty.setText("No messages with this client yet: write the first on the Messages tab.")
        else:
            self.empty.setText(f"No {what} on this client's timeline yet.")
        self._pages.setCurrentWidget(self.empty)
