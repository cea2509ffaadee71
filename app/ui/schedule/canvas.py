"""The painted schedule: a time gutter, a sticky column header, appointment blocks, the now-line.

One widget paints everything (a QAbstractScrollArea whose viewport is the canvas), so a day of
60 appointments is a few hundred QPainter calls and no child widgets. Geometry comes from
:class:`~app.ui.schedule.layout.Grid`; what goes where from
:class:`~app.ui.schedule.layout.ScheduleLayout`. All drawing is in logical pixels with
antialiasing, so it is sharp at any device pixel ratio.

Mouse: a click on a block asks to open it; dragging a block shows where it would land (red when
the page already shows a collision there) and, on release, asks to move it; a click on an empty
slot selects it and a double click (or Enter) asks to book there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QFrame, QToolTip, QWidget

from app.services.appointments import ScheduleEntry, format_span, format_time
from app.ui.refcount import guard as guard_refcounts
from app.ui.schedule.layout import DAY, WEEK, Block, Grid, ScheduleLayout, Target
from app.ui.schedule.palette import SchedulePalette, palette_for

GUTTER = 64.0
HEADER = 56.0
#: room under the last hour line for its label
BOTTOM = 10.0
MIN_COLUMN = {DAY: 150.0, WEEK: 128.0}
MIN_PX_PER_MIN = 1.0
#: a block narrower than this has no deposit dot (its deposit line says it) and no VIP star:
#: the room goes to the client's name
DOT_WIDTH = 80.0
STAR_WIDTH = 80.0
#: half the height of an hour's label in the gutter (px)
GUTTER_LABEL = 9.0
#: a one-line block at least this wide (text room, px) starts with the time
WIDE_ONE_LINE = 130.0
RADIUS = 6.0
#: keys the view handles (day navigation); the canvas lets them through
PASS_KEYS = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_T, Qt.Key.Key_Home}


@dataclass
class _Press:
    block: Block
    pos: QPointF
    grab: float  # minutes between the block's start and where it was grabbed


@dataclass
class _Drag:
    block: Block
    grab: float
    target: Target | None = None
    busy: bool = False


def block_lines(entry: ScheduleEntry, *, tz: object, mode: str, group: str,
                focused: bool = False) -> list[tuple[str, str]]:
    """What a block says, most important first: [(kind, text)] with kinds name, service,
    deposit, time and where (the provider, or the room when the column already names the
    provider)."""
    lines = [("name", entry.client_name), ("service", entry.service_name)]
    if entry.deposit_label:
        lines.append(("deposit", entry.deposit_label))
    status = entry.status_label + (" \u00b7 tentative" if entry.tentative else "")
    lines.append(("time", f"{format_span(entry.start_at, entry.end_at, tz)} \u00b7 {status}"))  # type: ignore[arg-type]
    show_provider = group == "room" or (mode == WEEK and not focused)
    where = entry.provider_name if show_provider else (entry.room_name or "No room")
    lines.append(("where", where))
    return lines


class ScheduleCanvas(QAbstractScrollArea):
    block_clicked = Signal(str)
    #: (appointment id, Target)
    move_requested = Signal(str, object)
    #: (appointment id, reason) when a block that cannot move is dragged
    move_refused = Signal(str, str)
    #: Target of an empty slot: double click, or Enter on a selected slot
    slot_activated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        guard_refcounts()  # painting makes thousands of void Qt calls: see app.ui.refcount
        super().__init__(parent)
        self.setObjectName("ScheduleCanvas")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.layout_: ScheduleLayout | None = None
        self.grid = Grid(GUTTER, HEADER, 100.0, MIN_PX_PER_MIN, 8 * 60, 0)
        self.now: datetime | None = None
        self.today: date | None = None
        self.editable = True
        self.empty_text = "No appointments"
        self._pal: SchedulePalette = palette_for(self)
        self._press: _Press | None = None
        self._drag: _Drag | None = None
        self._pending: dict[str, Target] = {}
        self.selected_slot: Target | None = None
        self._hover: str | None = None
        self._fonts()

    # --- data ---------------------------------------------------------------------------------

    def set_layout(self, layout: ScheduleLayout, *, now: datetime | None, today: date | None) -> None:
        first_time = self.layout_ is None or self.layout_.mode != layout.mode or self.layout_.day != layout.day
        self.layout_ = layout
        self.now, self.today = now, today
        self._drag = None
        self._press = None
        self._pending = {k: v for k, v in self._pending.items() if layout.block(k) is not None}
        if first_time:
            self.selected_slot = None
        self._relayout()
        if first_time:
            self._scroll_to_start()
        self.viewport().update()

    def set_now(self, now: datetime, today: date) -> None:
        self.now, self.today = now, today
        self.viewport().update()

    def set_pending(self, appointment_id: str, target: Target) -> None:
        """Show the block where it was dropped while the store decides."""
        self._pending[appointment_id] = target
        self.viewport().update()

    def clear_pending(self, appointment_id: str) -> None:
        """Snap the block back to where the store has it."""
        self._pending.pop(appointment_id, None)
        self.viewport().update()

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    # --- geometry for the view and for tests ---------------------------------------------------

    def block_rect(self, appointment_id: str) -> QRectF | None:
        block = self.layout_.block(appointment_id) if self.layout_ else None
        if block is None:
            return None
        return QRectF(*self.grid.block_rect(block))

    def point_for(self, appointment_id: str) -> QPoint:
        """The centre of a block's top part in viewport pixels, scrolled into view."""
        block = self.layout_.block(appointment_id) if self.layout_ else None
        if block is None:
            raise KeyError(appointment_id)
        self.ensure_minute_visible(block.start)
        x, y, w, h = self.grid.block_rect(block)
        return QPoint(round(x + w / 2), round(y + min(h / 2, 10)))

    def point_at(self, column: int, minute: float) -> QPoint:
        """Viewport pixels of ``minute`` in the middle of ``column``, scrolled into view."""
        self.ensure_minute_visible(minute)
        return QPoint(round(self.grid.x(column) + self.grid.col_width / 2), round(self.grid.y(minute)) + 1)

    def ensure_minute_visible(self, minute: float) -> None:
        y = self.grid.y(minute)
        bar = self.verticalScrollBar()
        if y < HEADER + 20:
            bar.setValue(int(bar.value() - (HEADER + 40 - y)))
        elif y > self.viewport().height() - 40:
            bar.setValue(int(bar.value() + y - self.viewport().height() + 60))
        self._sync_scroll()

    def block_texts(self, appointment_id: str) -> list[str]:
        """Everything the block can say (the painted text is this, cut to fit)."""
        block = self.layout_.block(appointment_id) if self.layout_ else None
        if block is None or self.layout_ is None:
            return []
        return [text for _, text in self._lines(block.entry)]

    def _lines(self, entry: ScheduleEntry) -> list[tuple[str, str]]:
        layout = self.layout_
        assert layout is not None
        return block_lines(entry, tz=layout.tz, mode=layout.mode, group=layout.group,
                           focused=layout.focus_id is not None)

    # --- layout of the grid --------------------------------------------------------------------

    def _relayout(self) -> None:
        layout = self.layout_
        vp = self.viewport()
        if layout is None:
            return
        ncols = max(len(layout.columns), 1)
        avail_w = max(vp.width() - GUTTER, 1)
        avail_h = max(vp.height() - HEADER - BOTTOM, 1)
        col_w = max(MIN_COLUMN.get(layout.mode, 140.0), avail_w / ncols)
        ppm = max(MIN_PX_PER_MIN, avail_h / max(layout.minutes, 1))
        self.grid = Grid(GUTTER, HEADER, col_w, ppm, layout.first_minute, len(layout.columns))
        hbar, vbar = self.horizontalScrollBar(), self.verticalScrollBar()
        hbar.setRange(0, max(0, math.ceil(col_w * len(layout.columns) - avail_w)))
        hbar.setPageStep(int(avail_w))
        hbar.setSingleStep(int(col_w / 4))
        vbar.setRange(0, max(0, math.ceil(ppm * layout.minutes + BOTTOM - vp.height() + HEADER)))
        vbar.setPageStep(int(avail_h))
        vbar.setSingleStep(int(ppm * 15))
        self._sync_scroll()

    def _sync_scroll(self) -> None:
        self.grid.scroll_x = float(self.horizontalScrollBar().value())
        self.grid.scroll_y = float(self.verticalScrollBar().value())

    def _scroll_to_start(self) -> None:
        """Show the current time on today's page, else the first appointment."""
        layout = self.layout_
        if layout is None or self.verticalScrollBar().maximum() == 0:
            self.verticalScrollBar().setValue(0)
            self._sync_scroll()
            return
        minute = float(layout.first_minute)
        if self.now is not None and self.today in layout.days:
            local = self.now.astimezone(layout.tz)
            minute = local.hour * 60 + local.minute - 90
        elif layout.blocks:
            minute = min(b.held_start for b in layout.blocks) - 30
        # an hour line just under the header, so that its label is not cut in half
        minute = minute // 60 * 60 - GUTTER_LABEL / self.grid.px_per_min
        self.verticalScrollBar().setValue(int((minute - layout.first_minute) * self.grid.px_per_min))
        self._sync_scroll()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self._sync_scroll()
        self.viewport().update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._pal = palette_for(self)
            self._fonts()
        super().changeEvent(event)

    def _fonts(self) -> None:
        base = QFont(self.font())
        size = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
        self.f_name = QFont(base)
        self.f_name.setPointSizeF(size * 0.9)
        self.f_name.setWeight(QFont.Weight.DemiBold)
        self.f_small = QFont(base)
        self.f_small.setPointSizeF(size * 0.82)
        self.f_title = QFont(base)
        self.f_title.setPointSizeF(size * 0.98)
        self.f_title.setWeight(QFont.Weight.DemiBold)
        self.f_gutter = QFont(base)
        self.f_gutter.setPointSizeF(size * 0.78)
        self.f_name_struck = QFont(self.f_name)
        self.f_name_struck.setStrikeOut(True)
        self.m_name = QFontMetricsF(self.f_name)
        self._elide_cache: dict[tuple[str, bool, int], str] = {}
        self._backgrounds: dict[tuple[int, int, float, str, bool, bool, bool], QPixmap] = {}
        self.m_small = QFontMetricsF(self.f_small)
        self.m_title = QFontMetricsF(self.f_title)

    # --- painting ------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self.viewport())
        try:
            self._paint(p)
        finally:
            p.end()

    def _paint(self, p: QPainter) -> None:
        pal, g, layout = self._pal, self.grid, self.layout_
        vp = self.viewport().rect()
        w, h = float(vp.width()), float(vp.height())
        p.fillRect(vp, pal.canvas)
        if layout is None:
            p.setPen(pal.empty_text)
            p.drawText(QRectF(vp), Qt.AlignmentFlag.AlignCenter, "Loading the schedule\u2026")
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        body = QRectF(GUTTER, HEADER, w - GUTTER, h - HEADER)
        p.save()
        p.setClipRect(body)
        self._paint_grid(p, body)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._paint_slot(p)
        dragged = self._drag.block.entry.id if self._drag and self._drag.target else None
        for block in layout.blocks:
            target = self._pending.get(block.entry.id)
            if target is not None:
                self._paint_block(p, self._rect_at(block, target), block.entry, pending=True)
                continue
            rect = QRectF(*g.block_rect(block))
            if rect.bottom() < HEADER or rect.top() > h or rect.right() < GUTTER or rect.left() > w:
                continue
            self._paint_buffers(p, block, rect)
            self._paint_block(p, rect, block.entry, faded=block.entry.id == dragged,
                              hover=block.entry.id == self._hover)
        if self._drag is not None and self._drag.target is not None:
            self._paint_block(p, self._rect_at(self._drag.block, self._drag.target), self._drag.block.entry,
                              ghost=True, busy=self._drag.busy)
        if not layout.blocks:
            p.setPen(pal.empty_text)
            p.setFont(self.font())
            p.drawText(body, Qt.AlignmentFlag.AlignCenter, self.empty_text)
        self._paint_now(p, body)
        p.restore()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self._paint_gutter(p, h)
        self._paint_header(p, w)

    def _paint_grid(self, p: QPainter, body: QRectF) -> None:
        pal, g, layout = self._pal, self.grid, self.layout_
        assert layout is not None
        if layout.mode == WEEK:
            for i, col in enumerate(layout.columns):
                if col.day.weekday() >= 5:
                    p.fillRect(QRectF(g.x(i), body.top(), g.col_width, body.height()), pal.weekend)
        right = min(body.right(), g.x(len(layout.columns)))
        for minute in range(layout.first_minute, layout.last_minute + 1, 30):
            y = round(g.y(minute)) + 0.5
            if y < body.top() - 1 or y > body.bottom() + 1:
                continue
            p.setPen(QPen(pal.hour_line if minute % 60 == 0 else pal.half_line, 1))
            p.drawLine(QPointF(body.left(), y), QPointF(right, y))
        p.setPen(QPen(pal.column_line, 1))
        bottom = min(body.bottom(), g.y(layout.last_minute))
        for i in range(1, len(layout.columns) + 1):
            x = round(g.x(i)) + 0.5
            p.drawLine(QPointF(x, body.top()), QPointF(x, bottom))

    def _paint_slot(self, p: QPainter) -> None:
        slot, g = self.selected_slot, self.grid
        if slot is None or self.layout_ is None or slot.column >= len(self.layout_.columns):
            return
        rect = QRectF(g.x(slot.column) + 2, g.y(slot.minute) + 1, g.col_width - 4, max(30 * g.px_per_min - 2, 16))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._pal.slot)
        p.drawRoundedRect(rect, RADIUS, RADIUS)
        p.setPen(self._pal.today_header)
        p.setFont(self.f_small)
        p.drawText(rect.adjusted(8, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   f"+ New at {format_time(slot.start_at, self.layout_.tz)}")

    def _rect_at(self, block: Block, target: Target) -> QRectF:
        g = self.grid
        length = block.end - block.start
        x = g.x(target.column) + g.lane_gap
        return QRectF(x, g.y(target.minute) + 1, g.col_width - 2 * g.lane_gap, max(length * g.px_per_min - 2, 14.0))

    def _paint_buffers(self, p: QPainter, block: Block, rect: QRectF) -> None:
        g = self.grid
        colour = QColor(self._pal.buffer)
        colour.setAlpha(170)
        brush = QBrush(colour, Qt.BrushStyle.BDiagPattern)
        p.setPen(Qt.PenStyle.NoPen)
        if block.start > block.held_start:
            top = g.y(block.held_start)
            p.fillRect(QRectF(rect.left() + 4, top, rect.width() - 8, rect.top() - top), brush)
        if block.held_end > block.end:
            bottom = g.y(block.held_end)
            p.fillRect(QRectF(rect.left() + 4, rect.bottom(), rect.width() - 8, bottom - rect.bottom()), brush)

    def _paint_block(self, p: QPainter, rect: QRectF, entry: ScheduleEntry, *, ghost: bool = False,
                     busy: bool = False, faded: bool = False, pending: bool = False, hover: bool = False) -> None:
        pal, layout = self._pal, self.layout_
        assert layout is not None
        colors = pal.status(entry.status)
        fill, accent, text = QColor(colors.fill), QColor(colors.accent), QColor(colors.text)
        if faded:
            p.setOpacity(0.35)
        elif ghost:
            p.setOpacity(0.92)
        ratio = self.viewport().devicePixelRatioF()
        # snap to device pixels so the cached background blits without resampling
        x, y = round(rect.x() * ratio) / ratio, round(rect.y() * ratio) / ratio
        rect = QRectF(x, y, rect.width(), rect.height())
        strong = ghost or hover or busy
        key = (round(rect.width() * ratio), round(rect.height() * ratio), ratio, entry.status, bool(busy),
               strong, bool(entry.tentative or ghost or pending))
        p.drawPixmap(QPointF(x, y), self._background(key, fill, accent, QColor(pal.busy if busy else accent)))
        p.setPen(Qt.PenStyle.NoPen)
        # deposit dot: always there when a deposit is in play, even on the smallest block
        if entry.deposit_label and rect.width() > DOT_WIDTH:
            p.setBrush(pal.deposit(entry.deposit_status))
            p.drawEllipse(QPointF(rect.right() - 8, rect.top() + 8), 3.2, 3.2)
        shown = self._ghost_entry(entry) if ghost else entry
        self._paint_text(p, rect, shown, text, pending=pending, ghost=ghost, busy=busy)
        p.setOpacity(1.0)

    def _background(self, key: tuple[int, int, float, str, bool, bool, bool], fill: QColor, accent: QColor,
                    border: QColor) -> QPixmap:
        """A block's rounded background, border and status bar, drawn once per size and look.

        Rounded rectangles are the slowest thing QPainter draws here (three per block); a day
        has only a handful of distinct block sizes, so each is drawn once and then blitted.
        """
        found = self._backgrounds.get(key)
        if found is not None:
            return found
        width, height, ratio, _status, busy, strong, dashed = key
        pixmap = QPixmap(max(width, 1), max(height, 1))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        w, h = width / ratio, height / ratio
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        edge = QRectF(0.5, 0.5, w - 1, h - 1)
        colour = QColor(border)
        colour.setAlpha(255 if strong else 110)
        pen = QPen(colour, 2 if (busy or (strong and dashed)) else 1)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(edge, RADIUS, RADIUS)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(accent)
        painter.drawRoundedRect(QRectF(2.5, 3, 3, max(h - 6, 2)), 1.5, 1.5)
        painter.end()
        if len(self._backgrounds) > 256:
            self._backgrounds.clear()
        self._backgrounds[key] = pixmap
        return pixmap

    def _text_lines(self, rect: QRectF, entry: ScheduleEntry, *, pending: bool = False, ghost: bool = False,
                    busy: bool = False) -> list[tuple[str, str, float, float, float]]:
        """What a block of ``rect`` says, cut to fit: [(kind, text, x, top, width)], most important
        first (the client, the service, then the time and the rest as lines allow). A one-line
        block says "client · service", with the time before it when the block is wide; a block
        too narrow for a few letters says nothing (its tooltip has the words)."""
        layout = self.layout_
        assert layout is not None
        pad = 10.0 if rect.width() >= 60 else 7.0
        dot = 12.0 if entry.deposit_label and rect.width() > DOT_WIDTH else 4.0
        left, width = rect.left() + pad, rect.width() - pad - dot
        if width < 14:
            return []
        name_h, small_h = self.m_name.height(), self.m_small.height()
        top = rect.top() + 2
        if rect.height() < name_h + small_h + 2:  # one line
            tail = " \u00b7 Saving\u2026" if pending else " \u00b7 Busy" if busy else f" \u00b7 {entry.service_name}"
            short = f"{entry.client_name}{tail}"
            if width >= WIDE_ONE_LINE:
                short = f"{format_time(entry.start_at, layout.tz, meridiem=False)}  {short}"
            return [("one", self._elided(short, self.m_name, True, width), left, top - 1, width)]
        lines = self._lines(entry)
        if pending:
            lines = [lines[0], ("time", "Saving\u2026")]
        elif ghost:
            span = format_span(entry.start_at, entry.end_at, layout.tz)
            lines = [lines[0], ("time", f"Busy \u00b7 {span}" if busy else f"\u2192 {span}")]
        out: list[tuple[str, str, float, float, float]] = []
        y, bottom = top, rect.bottom() - 1
        for kind, value in lines:
            is_name = kind == "name"
            metrics, height = (self.m_name, name_h) if is_name else (self.m_small, small_h)
            if y + height > bottom + 1:
                break
            x, avail = left, width
            if is_name and entry.vip and width >= STAR_WIDTH:
                step = metrics.horizontalAdvance("\u2605 ")
                x, avail = x + step, avail - step
            if kind == "deposit":
                x, avail = x + 10, avail - 10
            out.append((kind, self._elided(value, metrics, is_name, avail), x, y, avail))
            y += height
        return out

    def painted_texts(self, appointment_id: str) -> list[str]:
        """The words the block of ``appointment_id`` shows now, as cut to fit (for tests)."""
        block = self.layout_.block(appointment_id) if self.layout_ else None
        if block is None:
            return []
        return [text for _k, text, *_ in self._text_lines(QRectF(*self.grid.block_rect(block)), block.entry)]

    def _paint_text(self, p: QPainter, rect: QRectF, entry: ScheduleEntry, color: QColor, *, pending: bool,
                    ghost: bool, busy: bool) -> None:
        pal = self._pal
        struck = entry.status in ("cancelled", "late_cancelled")
        muted = QColor(color)
        muted.setAlphaF(0.72)
        for kind, text, x, y, room in self._text_lines(rect, entry, pending=pending, ghost=ghost, busy=busy):
            if kind == "one":
                p.setFont(self.f_name)
                p.setPen(color)
                p.drawText(QRectF(round(x), round(y), room, rect.height() - 2), Qt.AlignmentFlag.AlignVCenter,
                           text)
                continue
            is_name = kind == "name"
            font, metrics = (self.f_name_struck if struck else self.f_name, self.m_name) if is_name else (
                self.f_small, self.m_small)
            baseline = round(y + metrics.ascent())
            if is_name and entry.vip and room + metrics.horizontalAdvance("\u2605 ") >= STAR_WIDTH:
                step = metrics.horizontalAdvance("\u2605 ")
                p.setFont(font)
                p.setPen(pal.vip)
                p.drawText(QPointF(round(x - step), baseline), "\u2605")
            if kind == "deposit":
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(pal.deposit(entry.deposit_status))
                p.drawEllipse(QPointF(x - 7, y + self.m_small.height() / 2), 2.6, 2.6)
            p.setFont(font)
            p.setPen(pal.busy if busy and kind == "time" else color if kind in ("name", "service") else muted)
            p.drawText(QPointF(round(x), baseline), text)

    def _elided(self, text: str, metrics: QFontMetricsF, bold: bool, width: float) -> str:
        """``text`` cut to ``width`` (remembered: the same blocks are painted again and again)."""
        key = (text, bold, int(width))
        found = self._elide_cache.get(key)
        if found is None:
            if len(self._elide_cache) > 4000:
                self._elide_cache.clear()
            found = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(width))
            self._elide_cache[key] = found
        return found

    def _ghost_entry(self, entry: ScheduleEntry) -> ScheduleEntry:
        """The dragged appointment at the time it would land on (for the ghost's words)."""
        drag = self._drag
        if drag is None or drag.target is None or self.layout_ is None:
            return entry
        return self.layout_.moved(entry, drag.target)

    def _paint_now(self, p: QPainter, body: QRectF) -> None:
        layout, g = self.layout_, self.grid
        if layout is None or self.now is None or self.today not in layout.days:
            return
        local = self.now.astimezone(layout.tz)
        minute = local.hour * 60 + local.minute + local.second / 60
        if not layout.first_minute <= minute <= layout.last_minute:
            return
        y = g.y(minute)
        if layout.mode == WEEK:
            col = next(i for i, c in enumerate(layout.columns) if c.day == self.today)
            x0, x1 = g.x(col), g.x(col + 1)
        else:
            x0, x1 = body.left(), min(body.right(), g.x(len(layout.columns)))
        p.setPen(QPen(self._pal.now, 2))
        p.drawLine(QPointF(x0, y), QPointF(x1, y))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._pal.now)
        p.drawEllipse(QPointF(x0, y), 4.5, 4.5)

    def _paint_gutter(self, p: QPainter, h: float) -> None:
        pal, g, layout = self._pal, self.grid, self.layout_
        assert layout is not None
        p.save()
        p.setClipRect(QRectF(0, HEADER, GUTTER, h - HEADER))
        p.fillRect(QRectF(0, HEADER, GUTTER, h - HEADER), pal.canvas)
        p.setFont(self.f_gutter)
        p.setPen(pal.gutter_text)
        now_y = None
        if self.now is not None and self.today in layout.days:
            local = self.now.astimezone(layout.tz)
            if layout.first_minute <= local.hour * 60 + local.minute <= layout.last_minute:
                now_y = g.y(local.hour * 60 + local.minute)
        for minute in range(layout.first_minute, layout.last_minute + 1, 60):
            y = g.y(minute)
            if now_y is not None and abs(y - now_y) < 2 * GUTTER_LABEL:
                continue  # the now pill stands there: the hour is plain from it
            hour = minute // 60
            label = "Noon" if hour == 12 else f"{hour % 12 or 12} {'AM' if hour < 12 or hour == 24 else 'PM'}"
            rect = QRectF(0, y - 8, GUTTER - 12, 16)
            if minute == layout.first_minute:
                rect.moveTop(y)
            p.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        if self.now is not None and self.today in layout.days:
            local = self.now.astimezone(layout.tz)
            minute = local.hour * 60 + local.minute
            if layout.first_minute <= minute <= layout.last_minute:
                y = g.y(minute)
                text = format_time(self.now, layout.tz, meridiem=False)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                pill = QRectF(8, y - 9, GUTTER - 14, 18)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(pal.now)
                p.drawRoundedRect(pill, 9, 9)
                p.setPen(QColor("#ffffff"))
                p.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.restore()

    def _paint_header(self, p: QPainter, w: float) -> None:
        pal, g, layout = self._pal, self.grid, self.layout_
        assert layout is not None
        p.fillRect(QRectF(0, 0, w, HEADER), pal.header)
        p.setPen(QPen(pal.hour_line, 1))
        p.drawLine(QPointF(0, HEADER - 0.5), QPointF(w, HEADER - 0.5))
        p.setFont(self.f_gutter)
        p.setPen(pal.gutter_text)
        zone = (self.now or datetime.now().astimezone()).astimezone(layout.tz).tzname() or ""
        p.drawText(QRectF(0, HEADER - 22, GUTTER - 12, 16), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   zone)
        p.save()
        p.setClipRect(QRectF(GUTTER, 0, w - GUTTER, HEADER))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for i, col in enumerate(layout.columns):
            x = g.x(i)
            if x > w or x + g.col_width < GUTTER:
                continue
            is_today = layout.mode == WEEK and col.day == self.today
            left = x + 12
            width = g.col_width - 20
            if col.color:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(col.color))
                p.drawEllipse(QPointF(left + 4, 19 + 1), 4, 4)
                left += 14
                width -= 14
            p.setFont(self.f_title)
            p.setPen(pal.today_header if is_today else pal.title)
            p.drawText(QPointF(left, 12 + self.m_title.ascent()),
                       self.m_title.elidedText(col.title, Qt.TextElideMode.ElideRight, width))
            p.setFont(self.f_small)
            p.setPen(pal.subtitle)
            p.drawText(QPointF(x + 12, 32 + self.m_small.ascent()),
                       self.m_small.elidedText(col.subtitle, Qt.TextElideMode.ElideRight, g.col_width - 20))
            if is_today:
                p.fillRect(QRectF(x + 8, HEADER - 3, g.col_width - 16, 3), pal.today_header)
            if i:
                p.setPen(QPen(pal.column_line, 1))
                p.drawLine(QPointF(round(x) + 0.5, 10), QPointF(round(x) + 0.5, HEADER - 10))
        p.restore()

    # --- the mouse -----------------------------------------------------------------------------

    def _block_at(self, pos: QPointF) -> Block | None:
        if self.layout_ is None or pos.y() < HEADER or pos.x() < GUTTER:
            return None
        for block in reversed(self.layout_.blocks):
            if QRectF(*self.grid.block_rect(block)).contains(pos):
                return block
        return None

    def _target_at(self, pos: QPointF, grab: float = 0.0) -> Target | None:
        if self.layout_ is None or not self.layout_.columns:
            return None
        col = self.grid.nearest_column(pos.x())
        return self.layout_.target(col, self.grid.minute_at(pos.y()) - grab)

    def _slot_at(self, pos: QPointF) -> Target | None:
        """The empty slot under the pointer: the quarter hour it falls in."""
        if self.layout_ is None or pos.y() < HEADER or pos.x() < GUTTER:
            return None
        col = self.grid.column_at(pos.x())
        if col is None:
            return None
        minute = math.floor(self.grid.minute_at(pos.y()) / 15) * 15
        return self.layout_.target(col, minute)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() != Qt.MouseButton.LeftButton or self.layout_ is None:
            return
        pos = event.position()
        block = self._block_at(pos)
        if block is not None:
            self._press = _Press(block, pos, self.grid.minute_at(pos.y()) - block.start)
            return
        self._press = None
        self.selected_slot = self._slot_at(pos)
        self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        press = self._press
        if press is not None and self._drag is None:
            if (pos - press.pos).manhattanLength() < QApplication.startDragDistance():
                return
            entry = press.block.entry
            if not self.editable or not entry.movable:
                self._press = None
                reason = ("You can look at the schedule but not change it." if not self.editable
                          else f"A {entry.status_label.lower()} appointment can't be moved.")
                self.move_refused.emit(entry.id, reason)
                return
            self._drag = _Drag(press.block, press.grab)
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        if self._drag is not None and self.layout_ is not None:
            target = self._target_at(pos, self._drag.grab)
            self._drag.target = target
            self._drag.busy = bool(target and self.layout_.local_conflicts(self._drag.block.entry, target))
            self.viewport().setCursor(Qt.CursorShape.ForbiddenCursor if self._drag.busy
                                      else Qt.CursorShape.ClosedHandCursor)
            self.viewport().update()
            return
        block = self._block_at(pos)
        hover = block.entry.id if block else None
        if hover != self._hover:
            self._hover = hover
            movable = block is not None and block.entry.movable and self.editable
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if movable else Qt.CursorShape.ArrowCursor)
            self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        drag, press = self._drag, self._press
        self._drag = None
        self._press = None
        self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
        if drag is not None:
            target = drag.target
            entry = drag.block.entry
            self.viewport().update()
            if target is not None and self._changes(entry, target):
                self.move_requested.emit(entry.id, target)
            return
        if press is not None:
            self.block_clicked.emit(press.block.entry.id)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self._block_at(pos) is not None:  # a second click on a block is a click like the first
            self.mousePressEvent(event)
            return
        target = self._slot_at(pos)
        if target is not None:
            self.selected_slot = target
            self.viewport().update()
            self.slot_activated.emit(target)

    def _changes(self, entry: ScheduleEntry, target: Target) -> bool:
        return (target.start_at != entry.start_at
                or (target.provider_id is not None and target.provider_id != entry.provider_id)
                or (target.room_id is not None and target.room_id != entry.room_id))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape and (self._drag or self.selected_slot):
            self._drag = None
            self._press = None
            self.selected_slot = None
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            self.viewport().update()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected_slot is not None:
            self.slot_activated.emit(self.selected_slot)
            return
        if key in PASS_KEYS and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            event.ignore()  # the view moves the day
            return
        super().keyPressEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            block = self._block_at(QPointF(event.pos()))
            if block is not None and self.layout_ is not None:
                QToolTip.showText(event.globalPos(), "\n".join(self.block_texts(block.entry.id)), self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)
