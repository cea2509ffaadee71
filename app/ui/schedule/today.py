"""Today: the clinic's day (a column per provider, or per room) or week, kept up to date.

``TodayView(desk)`` is the screen a navigation slot hosts. It loads a page of the schedule on the
DB worker, paints it with :class:`~app.ui.schedule.canvas.ScheduleCanvas`, and reloads whenever
``changes_did_happen`` mentions appointments (its own writes, another screen's, or sync's).

- click a block: the appointment opens (:class:`~app.ui.schedule.dialogs.AppointmentDialog`);
- drag a block: it moves in time or to another column; the service checks the new slot and a
  refused move snaps back with the reason in the notice bar;
- double click an empty slot (or select it and press Enter, or "New appointment"): book there;
- keys: Left/Right the previous/next day (week), T or Home today, D day, W week, R rooms/providers,
  N a new appointment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPaintEvent, QPen, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QGraphicsDropShadowEffect,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.services.appointments import BookingConflict, Schedule, ScheduleEntry, ScheduleSetup, format_time
from app.ui import theme
from app.ui.errors import user_message
from app.ui.operations import Op
from app.ui.schedule.canvas import ScheduleCanvas
from app.ui.schedule.dialogs import AppointmentDialog, NewAppointmentDialog
from app.ui.schedule.facade import REFRESH_ON, Loaded, ScheduleDesk
from app.ui.schedule.layout import BY_PROVIDER, BY_ROOM, DAY, WEEK, ScheduleLayout, Target
from app.ui.schedule.palette import palette_for
from app.ui.text_fit import ElidedCombo

log = logging.getLogger(__name__)

NOW_TICK_MS = 30_000
#: below this width the toolbar shortens its words (a window with a navigation rail beside it)
COMPACT_WIDTH = 1180
NOTICE_MS = {"ok": 6_000, "danger": 15_000, "info": 8_000}
LEGEND = (("booked", "Booked"), ("confirmed", "Confirmed"), ("checked_in", "Checked in"),
          ("completed", "Completed"), ("no_show", "No-show"))

#: the look of the toolbar, footer and notices; ``@tokens`` are the theme's colours (light or dark)
STYLE = """
#TodayToolbar { background: @surface; border-bottom: 1px solid @line; }
#TodayTitle { font-size: 15pt; font-weight: 600; }
#TodayChip { background: @accent-soft; color: @accent-strong; border-radius: 8px; padding: 2px 9px; font-size: 8.5pt;
             font-weight: 600; }
#TodayFooter { background: @surface; border-top: 1px solid @line; }
#TodaySummary { color: @text2; }
QToolButton#NavButton { border: 1px solid @field-line; border-radius: 8px; padding: 4px 8px; min-width: 18px;
                        background: @surface; color: @text; font-size: 11pt; }
QToolButton#NavButton:hover { background: @hover; }
QPushButton#TodayButton { padding: 5px 14px; }
QPushButton[segment] { border: 1px solid @field-line; padding: 5px 14px; background: @surface; color: @text;
                       border-radius: 0; }
QPushButton[segment="first"] { border-top-left-radius: 8px; border-bottom-left-radius: 8px; }
QPushButton[segment="last"] { border-top-right-radius: 8px; border-bottom-right-radius: 8px; border-left: none; }
QPushButton[segment]:checked { background: @accent-soft; color: @accent-text; border-color: @accent; }
QPushButton#NewButton { background: @accent; border: 1px solid @accent; color: @on-accent; font-weight: 600;
                        padding: 6px 14px; border-radius: 8px; }
QPushButton#NewButton:hover { background: @accent-strong; }
QPushButton#NewButton:disabled { background: @accent-soft; border-color: @accent-soft; }
QComboBox#LocationBox, QComboBox#FocusBox { padding: 4px 10px; border: 1px solid @field-line; border-radius: 8px;
                                            background: @surface; }
#Notice { border-radius: 10px; }
#Notice[tone="danger"] { background: @danger-soft; border: 1px solid @danger-line; border-left: 4px solid @danger; }
#Notice[tone="ok"] { background: @ok-soft; border: 1px solid @ok-line; border-left: 4px solid @ok; }
#Notice[tone="info"] { background: @accent-softer; border: 1px solid @accent-soft; border-left: 4px solid @accent; }
#NoticeText { font-weight: 600; }
#Notice[tone="danger"] #NoticeText { color: @danger-text; }
#Notice[tone="ok"] #NoticeText { color: @ok; }
#Notice[tone="info"] #NoticeText { color: @accent-text; }
QToolButton#NoticeClose { border: none; color: @muted; font-size: 12pt; padding: 0 4px; }
"""


class Legend(QWidget):
    """Coloured swatches naming the statuses, and the dashed border of a tentative booking."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)

    def _items(self) -> list[tuple[str, str]]:
        return [*LEGEND, ("tentative", "Tentative")]

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        width = sum(fm.horizontalAdvance(text) + 30 for _, text in self._items())
        return QSize(width, max(fm.height(), 14) + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.sizeHint().height())  # a narrow window shows the first few

    def paintEvent(self, event: QPaintEvent) -> None:
        pal = palette_for(self)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        x = 0.0
        mid = self.height() / 2
        for status, text in self._items():
            if x + fm.horizontalAdvance(text) + 22 > self.width():
                break
            colors = pal.status("booked" if status == "tentative" else status)
            swatch = QRectF(x, mid - 6, 14, 12)
            p.setBrush(colors.fill)
            pen = QPen(colors.accent, 1.2)
            if status == "tentative":
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawRoundedRect(swatch, 3, 3)
            if status != "tentative":
                p.fillRect(QRectF(x + 1.5, mid - 4.5, 2.5, 9), colors.accent)
            p.setPen(pal.subtitle)
            p.drawText(QRectF(x + 19, 0, fm.horizontalAdvance(text) + 4, self.height()),
                       Qt.AlignmentFlag.AlignVCenter, text)
            x += fm.horizontalAdvance(text) + 30
        p.end()


class TodayView(QWidget):
    """The schedule screen; ``desk`` is the session's :class:`app.ui.desk.Desk`."""

    #: the host opens the client record (from an appointment's "Open client record")
    open_patient_requested = Signal(str)
    #: an appointment was opened from its block
    appointment_opened = Signal(str)
    #: a page of the schedule is on screen (after every load)
    schedule_shown = Signal()

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TodayView")
        self.setStyleSheet(theme.stylesheet(text=STYLE))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.sdesk = ScheduleDesk(desk)
        self.day: date = self.sdesk.today()
        #: the next load shows ``day`` or, the clinic being closed that day, the next open day
        self._open_day = True
        self.mode = DAY
        self.group = BY_PROVIDER
        self.location_id: str | None = None
        self.focus_id: str | None = None
        self.show_cancelled = False
        self.setup: ScheduleSetup | None = None
        self.schedule: Schedule | None = None
        self.layout_model: ScheduleLayout | None = None
        self.loading = False
        self.details_dialog: AppointmentDialog | None = None
        self.new_dialog: NewAppointmentDialog | None = None
        self.last_error: str | None = None
        self._op: Op | None = None
        self._generation = 0
        self._stale = False
        self._moves: dict[str, Op] = {}
        self._compact = False

        self.canvas = ScheduleCanvas(self)
        self.canvas.editable = self.sdesk.can_book
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        root.addWidget(self._toolbar())
        root.addWidget(self.canvas, 1)
        root.addWidget(self._footer())
        self._notice_bar()  # floats over the schedule: showing it never rescales the day

        self.canvas.block_clicked.connect(self.open_appointment)
        self.canvas.move_requested.connect(self.move_appointment)
        self.canvas.move_refused.connect(lambda _id, reason: self.show_notice(reason, "info"))
        self.canvas.slot_activated.connect(self.new_appointment)
        self.sdesk.ops.changes_did_happen.connect(self._changes_did_happen)
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(self.refresh)
        self._now_timer = QTimer(self, interval=NOW_TICK_MS)
        self._now_timer.timeout.connect(self._tick)
        self._now_timer.start()
        self._notice_timer = QTimer(self, singleShot=True)
        self._notice_timer.timeout.connect(self.hide_notice)
        self.refresh()

    # --- chrome -------------------------------------------------------------------------------

    def _toolbar(self) -> QWidget:
        """Where and what (the day, the title) on the left, how (day or week, providers or rooms,
        the location, one person's week) and "New appointment" on the right: one row when it
        fits, else the right-hand part on a second row (a laptop's week)."""
        bar = QFrame()
        bar.setObjectName("TodayToolbar")
        self.toolbar_rows = QBoxLayout(QBoxLayout.Direction.LeftToRight, bar)
        self.toolbar_rows.setContentsMargins(20, 12, 20, 12)
        self.toolbar_rows.setSpacing(8)
        line = QHBoxLayout()
        line.setSpacing(8)
        self.prev_button = self._nav("\u2039", "Previous day (Left)", self.previous)
        self.next_button = self._nav("\u203a", "Next day (Right)", self.next)
        self.today_button = QPushButton("Today")
        self.today_button.setObjectName("TodayButton")
        self.today_button.setToolTip("Go to today (T)")
        self.today_button.clicked.connect(self.go_today)
        self.title = QLabel()
        self.title.setObjectName("TodayTitle")
        self.today_chip = QLabel("Today")
        self.today_chip.setObjectName("TodayChip")
        line.addWidget(self.prev_button)
        line.addWidget(self.today_button)
        line.addWidget(self.next_button)
        line.addSpacing(10)
        line.addWidget(self.title)
        line.addWidget(self.today_chip)
        line.addStretch(1)
        self.toolbar_rows.addLayout(line, 1)
        line = QHBoxLayout()
        line.setSpacing(8)
        self.day_button, self.week_button = self._segments(
            [("Day", "One day (D)"), ("Week", "Monday to Sunday (W)")], self.set_mode, [DAY, WEEK], line)
        line.addSpacing(6)
        self.provider_button, self.room_button = self._segments(
            [("Providers", "A column per provider (R)"), ("Rooms", "A column per room (R)")], self.set_group,
            [BY_PROVIDER, BY_ROOM], line)
        line.addSpacing(6)
        self.location_box = ElidedCombo()
        self.location_box.setObjectName("LocationBox")
        self.location_box.addItem("All locations", None)
        self.location_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.location_box.setMinimumContentsLength(12)
        self.location_box.currentIndexChanged.connect(
            lambda _i: self.set_location(self.location_box.currentData()))
        line.addWidget(self.location_box)
        self.focus_box = ElidedCombo()
        self.focus_box.setObjectName("FocusBox")
        self.focus_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.focus_box.setMinimumContentsLength(14)
        self.focus_box.currentIndexChanged.connect(lambda _i: self._focus_changed())
        self.focus_box.hide()
        line.addWidget(self.focus_box)
        line.addStretch(1)
        line.addSpacing(6)
        self.new_button = QPushButton("New appointment")
        self.new_button.setObjectName("NewButton")
        self.new_button.setToolTip("Book a client (N)")
        self.new_button.setEnabled(self.sdesk.can_book)
        self.new_button.clicked.connect(lambda: self.new_appointment(None))
        line.addWidget(self.new_button)
        self.toolbar_rows.addLayout(line)
        return bar

    def _arrange_toolbar(self) -> None:
        """One row if everything fits in it at its full size, else two."""
        rows = self.toolbar_rows
        left, right = rows.itemAt(0).layout(), rows.itemAt(1).layout()
        margins = rows.contentsMargins()
        room = self.width() - margins.left() - margins.right()
        one_row = left.sizeHint().width() + rows.spacing() + right.sizeHint().width() <= room
        wanted = QBoxLayout.Direction.LeftToRight if one_row else QBoxLayout.Direction.TopToBottom
        if rows.direction() != wanted:
            rows.setDirection(wanted)

    def _nav(self, text: str, tip: str, slot: Any) -> QToolButton:
        button = QToolButton()
        button.setObjectName("NavButton")
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _segments(self, items: list[tuple[str, str]], slot: Any, values: list[str],
                  line: QHBoxLayout) -> list[QPushButton]:
        group = QButtonGroup(self)
        group.setExclusive(True)
        buttons = []
        box = QHBoxLayout()
        box.setSpacing(0)
        for i, ((text, tip), value) in enumerate(zip(items, values, strict=True)):
            button = QPushButton(text)
            button.setCheckable(True)
            button.setToolTip(tip)
            button.setProperty("segment", "first" if i == 0 else "last")
            button.setChecked(i == 0)
            button.clicked.connect(lambda _=False, v=value: slot(v))
            group.addButton(button)
            box.addWidget(button)
            buttons.append(button)
        line.addLayout(box)
        return buttons

    def _notice_bar(self) -> QWidget:
        self.notice = QFrame()
        self.notice.setObjectName("Notice")
        self.notice.setProperty("tone", "info")
        line = QHBoxLayout(self.notice)
        line.setContentsMargins(14, 8, 8, 8)
        self.notice_label = QLabel()
        self.notice_label.setObjectName("NoticeText")
        self.notice_label.setWordWrap(True)
        self.notice_label.setTextFormat(Qt.TextFormat.PlainText)
        close = QToolButton()
        close.setObjectName("NoticeClose")
        close.setText("\u00d7")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide_notice)
        line.addWidget(self.notice_label, 1)
        line.addWidget(close)
        self.notice.setParent(self)
        shadow = QGraphicsDropShadowEffect(self.notice)
        shadow.setBlurRadius(18)
        shadow.setOffset(0, 3)
        shadow.setColor(QColor(20, 20, 40, 45))
        self.notice.setGraphicsEffect(shadow)
        self.notice.hide()
        return self.notice

    def _place_notice(self) -> None:
        width = min(760, max(320, self.canvas.width() - 160))
        self.notice.setFixedWidth(width)
        self.notice.adjustSize()
        x = self.canvas.x() + (self.canvas.width() - width) // 2
        self.notice.move(x, self.canvas.y() + self.canvas.height() - self.notice.height() - 18)
        self.notice.raise_()

    def _footer(self) -> QWidget:
        bar = QFrame()
        bar.setObjectName("TodayFooter")
        line = QHBoxLayout(bar)
        line.setContentsMargins(20, 7, 20, 7)
        self.summary = QLabel()
        self.summary.setObjectName("TodaySummary")
        self.summary.setMinimumWidth(100)
        line.addWidget(self.summary)
        line.addStretch(1)
        self.cancelled_box = QCheckBox("Show cancelled")
        self.cancelled_box.setToolTip("Show cancelled and late-cancelled appointments too")
        self.cancelled_box.toggled.connect(self.set_show_cancelled)
        line.addWidget(self.cancelled_box)
        line.addSpacing(16)
        self.legend = Legend()
        line.addWidget(self.legend)
        return bar

    # --- what is shown ------------------------------------------------------------------------

    def go_to(self, day: date) -> None:
        if day != self.day:
            self.day = day
            self.refresh()

    def go_today(self) -> None:
        """Today, or the next day the clinic opens when it is closed today."""
        today = self.sdesk.today()
        if self.setup is not None and self.day == self.setup.first_open_day(today):
            return
        self.day = today
        self._open_day = True
        self.refresh()

    def previous(self) -> None:
        self.go_to(self.day - timedelta(days=7 if self.mode == WEEK else 1))

    def next(self) -> None:
        self.go_to(self.day + timedelta(days=7 if self.mode == WEEK else 1))

    def set_mode(self, mode: str) -> None:
        (self.day_button if mode == DAY else self.week_button).setChecked(True)
        if mode != self.mode:
            self.mode = mode
            self._fill_focus()
            self.refresh()

    def set_group(self, group: str) -> None:
        (self.provider_button if group == BY_PROVIDER else self.room_button).setChecked(True)
        if group != self.group:
            self.group = group
            self._fill_focus()
            self._render()

    def set_location(self, location_id: str | None) -> None:
        if location_id != self.location_id:
            self.location_id = location_id
            index = self.location_box.findData(location_id)
            if index >= 0 and index != self.location_box.currentIndex():
                self.location_box.setCurrentIndex(index)
            self._fill_focus()
            self._render()

    def set_show_cancelled(self, show: bool) -> None:
        if show != self.show_cancelled:
            self.show_cancelled = show
            self.cancelled_box.setChecked(show)
            self._render()

    def set_focus(self, resource_id: str | None) -> None:
        """Week view: one provider's (or room's) week, or everyone's (None)."""
        index = self.focus_box.findData(resource_id)
        self.focus_box.setCurrentIndex(max(0, index))

    def _focus_changed(self) -> None:
        value = self.focus_box.currentData()
        if value != self.focus_id:
            self.focus_id = value
            self._render()

    def _fill_focus(self) -> None:
        self.focus_box.setVisible(self.mode == WEEK)
        self._arrange_toolbar()
        setup = self.setup
        self.focus_box.blockSignals(True)
        self.focus_box.clear()
        if self.group == BY_PROVIDER:
            self.focus_box.addItem("All providers", None)
            for p in setup.providers if setup else ():
                self.focus_box.addItem(p.name, p.id)
        else:
            self.focus_box.addItem("All rooms", None)
            for r in setup.rooms if setup else ():
                if self.location_id in (None, r.location_id):
                    self.focus_box.addItem(r.name if self.location_id else f"{r.name} \u2014 {r.location_name}", r.id)
        index = self.focus_box.findData(self.focus_id)
        self.focus_box.setCurrentIndex(max(0, index))
        self.focus_id = self.focus_box.currentData()
        self.focus_box.blockSignals(False)

    # --- loading ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Load the page again (after a change, a new day or a new mode)."""
        if not self.isVisible() and self.schedule is not None:
            self._stale = True
            return
        if self.canvas.dragging:  # never pull the block from under the pointer: after the drop
            self._refresh_timer.start(250)
            return
        self._stale = False
        if self._op is not None and not self._op.done:
            self._op.cancel()
        self._generation += 1
        generation = self._generation
        self.loading = True
        self._update_title()
        open_day, self._open_day = self._open_day, False
        self._op = self.sdesk.load(day=self.day, mode=self.mode, open_day=open_day,
                                   on_success=lambda loaded: self._loaded(generation, loaded),
                                   on_failure=lambda exc: self._load_failed(generation, exc))

    def _loaded(self, generation: int, loaded: Loaded) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self.show_loaded(loaded)

    def show_loaded(self, loaded: Loaded) -> None:
        """Show a page of the schedule read elsewhere (the loads above; benchmarks)."""
        first = self.setup is None
        self.day, self.mode = loaded.day, loaded.mode
        self.setup, self.schedule = loaded.setup, loaded.schedule
        if first or self.location_box.count() != len(loaded.setup.locations) + 1:
            self._fill_locations()
            self._fill_focus()
        self._render()
        self.schedule_shown.emit()

    def _load_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.loading = False
        self.last_error = user_message(exc)
        self.show_notice(self.last_error, "danger")

    def _fill_locations(self) -> None:
        box = self.location_box
        box.blockSignals(True)
        box.clear()
        box.addItem("All locations", None)
        for loc in self.setup.locations if self.setup else ():
            box.addItem(loc.name, loc.id)
        box.setCurrentIndex(max(0, box.findData(self.location_id)))
        box.setVisible(box.count() > 2)
        box.blockSignals(False)

    def _render(self) -> None:
        if self.setup is None or self.schedule is None:
            return
        self.layout_model = ScheduleLayout(
            self.setup, self.schedule.entries, day=self.day, mode=self.mode, group=self.group,
            location_id=self.location_id, focus_id=self.focus_id if self.mode == WEEK else None,
            show_cancelled=self.show_cancelled)
        self.canvas.empty_text = ("No appointments this week" if self.mode == WEEK else
                                  "No appointments on this day") + (
            " \u00b7 double-click a time to book" if self.sdesk.can_book else "")
        self.canvas.set_layout(self.layout_model, now=self.sdesk.now(), today=self.sdesk.today())
        self._update_title()
        self._update_summary()

    def _update_title(self) -> None:
        today = self.sdesk.today()
        if self.mode == WEEK:
            start = self.day - timedelta(days=self.day.weekday())
            end = start + timedelta(days=6)
            same_month = start.month == end.month
            year = "" if end.year == today.year == start.year else f", {end.year}"
            self.title.setText(f"{start:%b} {start.day} \u2013 {'' if same_month else f'{end:%b} '}{end.day}{year}")
            self.today_chip.setVisible(start <= today <= end)
            self.today_chip.setText("This week")
        else:
            weekday, month = ("%a", "%b") if self._compact else ("%A", "%B")
            self.title.setText(f"{self.day.strftime(weekday)}, {self.day.strftime(month)} {self.day.day}"
                               + (f", {self.day.year}" if self.day.year != today.year else ""))
            closed_today = self.setup is not None and today.weekday() not in self.setup.open_weekdays
            next_open = closed_today and self.setup is not None and self.day == self.setup.first_open_day(today)
            self.today_chip.setVisible(self.day == today or next_open)
            self.today_chip.setText("Next open day" if next_open else "Today")
            self.today_chip.setToolTip(f"The clinic is closed today ({today:%A}); this is the next day it opens."
                                       if next_open else "")
        # the title is never cut (or covered by the chip): the toolbar takes a second row instead
        self.title.setMinimumWidth(self.title.fontMetrics().horizontalAdvance(self.title.text()) + 4)
        self._arrange_toolbar()
        unit = "week" if self.mode == WEEK else "day"
        self.prev_button.setToolTip(f"Previous {unit} (Left)")
        self.next_button.setToolTip(f"Next {unit} (Right)")

    def _update_summary(self) -> None:
        layout = self.layout_model
        if layout is None:
            return
        active = [e for e in layout.entries if e.holds_slot]
        parts = [f"{len(active)} appointment{'s' if len(active) != 1 else ''}"]
        in_clinic = sum(1 for e in active if e.status == "checked_in")
        if in_clinic:
            parts.append(f"{in_clinic} in clinic")
        due = sum(1 for e in active if e.deposit_status in ("required", "link_sent") and e.status != "completed")
        if due:
            parts.append(f"{due} deposit{'s' if due != 1 else ''} outstanding")
        tentative = sum(1 for e in active if e.tentative)
        if tentative:
            parts.append(f"{tentative} tentative")
        gone = sum(1 for e in self.schedule.entries if not e.holds_slot) if self.schedule else 0
        if gone and not self.show_cancelled:
            parts.append(f"{gone} cancelled or no-show")
        self.summary.setText("  \u00b7  ".join(parts))

    # --- acting on the schedule ---------------------------------------------------------------

    def entry(self, appointment_id: str) -> ScheduleEntry | None:
        block = self.layout_model.block(appointment_id) if self.layout_model else None
        return block.entry if block else None

    def open_appointment(self, appointment_id: str) -> None:
        if self.details_dialog is not None:
            self.details_dialog.close()
        dialog = AppointmentDialog(self.sdesk, appointment_id, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open_patient_requested.connect(self.open_patient_requested)
        dialog.destroyed.connect(lambda _=None: self._dialog_gone("details_dialog", dialog))
        self.details_dialog = dialog
        dialog.open()
        self.appointment_opened.emit(appointment_id)

    def move_appointment(self, appointment_id: str, target: Target) -> None:
        entry = self.entry(appointment_id)
        if entry is None:
            return
        if appointment_id in self._moves and not self._moves[appointment_id].done:
            return
        self.canvas.set_pending(appointment_id, target)
        self._moves[appointment_id] = self.sdesk.move(
            appointment_id, start_at=target.start_at, provider_id=target.provider_id, room_id=target.room_id,
            on_success=lambda moved: self._moved(entry, moved),
            on_failure=lambda exc: self._move_refused(entry, exc), initiator=self)

    def _moved(self, before: ScheduleEntry, after: ScheduleEntry) -> None:
        self._moves.pop(after.id, None)
        if self.schedule is not None:  # show it at once; the reload that follows confirms it
            entries = tuple(after if e.id == after.id else e for e in self.schedule.entries)
            self.schedule = Schedule(self.schedule.start, self.schedule.end, entries)
        self.canvas.clear_pending(after.id)
        self._render()
        where = []
        if after.provider_id != before.provider_id:
            where.append(f"with {after.provider_name}")
        if after.room_id != before.room_id and after.room_name:
            where.append(f"in {after.room_name}")
        local = after.start_at.astimezone(self.sdesk.tz)
        self.show_notice(f"Moved {after.client_name} to {local:%a} {format_time(after.start_at, self.sdesk.tz)}"
                         + (" " + " ".join(where) if where else "") + ".", "ok")

    def _move_refused(self, entry: ScheduleEntry, exc: BaseException) -> None:
        self._moves.pop(entry.id, None)
        self.canvas.clear_pending(entry.id)  # snaps back
        reasons = exc.reasons if isinstance(exc, BookingConflict) else [user_message(exc)]
        self.last_error = "; ".join(reasons)
        self.show_notice(f"Can't move {entry.client_name} there: {self.last_error}", "danger")

    def new_appointment(self, target: Target | None = None) -> None:
        if not self.sdesk.can_book:
            self.show_notice("You can look at the schedule but not book appointments.", "info")
            return
        if self.setup is None or self.layout_model is None or not self.layout_model.columns:
            return
        if target is None:
            target = self.canvas.selected_slot or self._next_free_slot()
        if self.new_dialog is not None:
            self.new_dialog.close()
        dialog = NewAppointmentDialog(self.sdesk, self.setup, target, entries=list(self.layout_model.entries),
                                      parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.booked.connect(self._booked)
        dialog.destroyed.connect(lambda _=None: self._dialog_gone("new_dialog", dialog))
        self.new_dialog = dialog
        dialog.open()

    def _next_free_slot(self) -> Target:
        layout = self.layout_model
        assert layout is not None
        now = self.sdesk.now().astimezone(self.sdesk.tz)
        column = 0
        if layout.mode == WEEK:
            column = next((i for i, c in enumerate(layout.columns) if c.day == now.date()), 0)
        minute = layout.first_minute + 60
        if layout.columns[column].day == now.date():
            minute = (now.hour * 60 + now.minute) // 15 * 15 + 15
        return layout.target(column, minute)

    def _booked(self, entry: ScheduleEntry) -> None:
        if self.schedule is not None and self.schedule.start <= entry.start_at < self.schedule.end:
            self.schedule = Schedule(self.schedule.start, self.schedule.end,
                                     tuple(sorted((*self.schedule.entries, entry), key=lambda e: e.start_at)))
            self._render()
        self.canvas.selected_slot = None
        self.show_notice(f"Booked {entry.client_name} \u2014 {entry.service_name} with {entry.provider_name}, "
                         f"{format_time(entry.start_at, self.sdesk.tz)}. Tentative until the clinic server "
                         "accepts it.", "ok")

    def _dialog_gone(self, name: str, dialog: QWidget) -> None:
        if getattr(self, name, None) is dialog:
            setattr(self, name, None)

    # --- notices ------------------------------------------------------------------------------

    def show_notice(self, text: str, tone: str = "info") -> None:
        self.notice.setProperty("tone", tone)
        self.notice.style().unpolish(self.notice)
        self.notice.style().polish(self.notice)
        self.notice_label.style().unpolish(self.notice_label)
        self.notice_label.style().polish(self.notice_label)
        self.notice_label.setText(text)
        self.notice.show()
        self._place_notice()
        self._notice_timer.start(NOTICE_MS.get(tone, 8_000))

    def hide_notice(self) -> None:
        self.notice.hide()

    def notice_text(self) -> str:
        return self.notice_label.text() if self.notice.isVisibleTo(self) else ""

    # --- keeping up to date -------------------------------------------------------------------

    def _changes_did_happen(self, changes: set[str], initiator: Any) -> None:
        # appointments, and what the blocks and columns show: client names, the service menu,
        # staff (columns and colours), rooms and devices; whoever wrote it (this desk or sync)
        if changes & REFRESH_ON:
            self._refresh_timer.start(0)

    def activate(self) -> None:
        """The host shows this page: the keyboard goes to the schedule; a stale page reloads."""
        editable = self.sdesk.can_book
        self.canvas.editable = editable
        self.new_button.setEnabled(editable)
        self.canvas.setFocus(Qt.FocusReason.OtherFocusReason)
        if self._stale:
            self.refresh()

    def _tick(self) -> None:
        self.canvas.set_now(self.sdesk.now(), self.sdesk.today())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        compact = self.width() < COMPACT_WIDTH
        if compact != self._compact:
            self._compact = compact
            self.new_button.setText("New" if compact else "New appointment")
            self.legend.setVisible(not compact)
            self._update_title()
        self._arrange_toolbar()
        if self.notice.isVisible():
            self._place_notice()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods:
            super().keyPressEvent(event)
            return
        actions: dict[Qt.Key, Callable[[], None]] = {
            Qt.Key.Key_Left: self.previous,
            Qt.Key.Key_Right: self.next,
            Qt.Key.Key_T: self.go_today,
            Qt.Key.Key_Home: self.go_today,
            Qt.Key.Key_D: lambda: self.set_mode(DAY),
            Qt.Key.Key_W: lambda: self.set_mode(WEEK),
            Qt.Key.Key_R: lambda: self.set_group(BY_ROOM if self.group == BY_PROVIDER else BY_PROVIDER),
            Qt.Key.Key_N: lambda: self.new_appointment(None),
        }
        action = actions.get(Qt.Key(key))
        if action is None:
            super().keyPressEvent(event)
            return
        action()

    def sizeHint(self) -> QSize:
        return QSize(1200, 800)
