"""The two dialogs of the schedule: an appointment opened from its block, and a new booking.

Both talk to the store only through :class:`~app.ui.schedule.facade.ScheduleDesk` (operations on
the DB worker). The booking dialog checks the slot as fields change, with the same checks the
service makes when it books (provider, room, device, buffers, qualification), and says why a slot
is not free before Book is pressed; the service checks again when it writes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from PySide6.QtCore import QDate, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.appointments import (
    STATUS_LABELS,
    AppointmentDetails,
    BookingConflict,
    Problem,
    ScheduleEntry,
    ScheduleSetup,
    format_span,
)
from app.ui import theme
from app.ui.errors import user_message
from app.ui.operations import Op
from app.ui.schedule.facade import ScheduleDesk
from app.ui.schedule.layout import Target
from core.money import Money
from core.phone import format_phone

#: status button text, in the order they are offered
STATUS_ACTIONS = (
    ("confirmed", "Confirm"),
    ("checked_in", "Check in"),
    ("completed", "Complete"),
    ("no_show", "No-show"),
    ("late_cancelled", "Late cancel"),
    ("cancelled", "Cancel booking"),
)
STATUS_TONES = {"booked": "accent", "confirmed": "accent", "checked_in": "ok", "completed": "muted",
                "cancelled": "muted", "late_cancelled": "muted", "no_show": "danger"}
CHECK_DELAY_MS = 120

#: ``@tokens`` are the theme's colours (light or dark)
DIALOG_STYLE = """
QDialog { background: palette(base); }
QLabel#DialogTitle { font-size: 15pt; font-weight: 600; }
QLabel#DialogSubtitle, QLabel[kind="muted"] { color: @muted; }
QLabel#Problem { color: @danger; font-weight: 600; }
QLabel#Alerts { background: @danger-soft; border: 1px solid @danger-line; border-left: 4px solid @danger;
                border-radius: 6px; color: @danger-text; font-weight: 600; padding: 6px 10px; }
QLabel#Tentative { background: @warn-soft; border: 1px solid @warn-line; border-radius: 6px; color: @warn;
                   padding: 6px 10px; }
QLabel[kind="chip"] { border-radius: 8px; padding: 3px 10px; font-size: 9pt; font-weight: 600;
                      background: @chip; color: @text2; }
QLabel[kind="chip"][tone="accent"] { background: @accent-soft; color: @accent-strong; }
QLabel[kind="chip"][tone="ok"] { background: @ok-chip; color: @ok; }
QLabel[kind="chip"][tone="danger"] { background: @danger-chip; color: @danger; }
QLabel[kind="chip"][tone="muted"] { background: @chip-muted; color: @faint; }
QListWidget#ClientResults { border: 1px solid @line; border-radius: 8px; }
QListWidget#ClientResults::item { padding: 3px 6px; }
QFrame#Line { background: @line2; max-height: 1px; border: none; }
QPushButton:default:disabled { background: @accent-soft; border-color: @accent-soft; color: @on-accent; }
QPushButton:disabled { color: @placeholder; }
"""


def _label(text: str = "", *, name: str | None = None, kind: str | None = None, wrap: bool = False) -> QLabel:
    widget = QLabel(text)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    widget.setWordWrap(wrap)
    if name:
        widget.setObjectName(name)
    if kind:
        widget.setProperty("kind", kind)
    return widget


def _chip(text: str, tone: str) -> QLabel:
    widget = _label(text, kind="chip")
    widget.setProperty("tone", tone)
    return widget


def _line() -> QFrame:
    line = QFrame()
    line.setObjectName("Line")
    line.setFrameShape(QFrame.Shape.NoFrame)
    line.setFixedHeight(1)
    return line


def money(minor: int, currency: str) -> str:
    text = Money(minor, currency).format()
    return text[:-3] if text.endswith(".00") else text


def when_text(entry: ScheduleEntry, tz: Any) -> str:
    day = entry.start_at.astimezone(tz)
    return f"{day:%a}, {day:%b} {day.day} \u00b7 {format_span(entry.start_at, entry.end_at, tz)}"


# --- an appointment -------------------------------------------------------------------------------


class AppointmentDialog(QDialog):
    """The appointment behind a block: who, what, when, where, deposit; status actions."""

    open_patient_requested = Signal(str)
    #: the details on screen (after the first load and after every status change)
    details_shown = Signal(object)

    def __init__(self, sdesk: ScheduleDesk, appointment_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AppointmentDialog")
        self.setWindowTitle("Appointment")
        self.setStyleSheet(theme.stylesheet(text=DIALOG_STYLE))
        self.setMinimumWidth(580)
        self.sdesk = sdesk
        self.appointment_id = appointment_id
        self.details: AppointmentDetails | None = None
        self.error: str | None = None
        self._op: Op | None = None
        self._body = QVBoxLayout(self)
        self._body.setContentsMargins(24, 20, 24, 16)
        self._body.setSpacing(10)
        self._content = QWidget()
        self._body.addWidget(self._content, 1)
        self._status_line = _label("", name="Problem", wrap=True)
        self._status_line.hide()
        self._body.addWidget(self._status_line)
        self.buttons = QDialogButtonBox()
        self.open_record = self.buttons.addButton("Open client record", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_record.setEnabled(False)
        self.open_record.clicked.connect(self._open_record)
        close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.reject)
        self._body.addWidget(self.buttons)
        self.status_buttons: dict[str, QPushButton] = {}
        self._fill([_label("Opening the appointment\u2026", kind="muted")])
        self.reload()

    def reload(self) -> None:
        if self._op is not None:
            self._op.cancel()
        self._op = self.sdesk.details(self.appointment_id, on_success=self._show, on_failure=self._failed,
                                      initiator=self)

    def visible_text(self) -> str:
        return "\n".join(w.text() for w in self.findChildren(QLabel) if w.isVisibleTo(self) and w.text())

    # --- content ------------------------------------------------------------------------------

    def _fill(self, widgets: list[QWidget]) -> None:
        old = self._content
        self._content = QWidget()
        layout = QVBoxLayout(self._content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        for w in widgets:
            layout.addWidget(w)
        self._body.replaceWidget(old, self._content)
        old.hide()
        old.deleteLater()
        self._content.show()

    def _show(self, details: AppointmentDetails) -> None:
        self.details = details
        e, tz = details.entry, self.sdesk.tz
        title = _label(("\u2605 " if e.vip else "") + e.client_name, name="DialogTitle")
        chips = QHBoxLayout()
        chips.setSpacing(6)
        chips.addWidget(_chip(e.status_label, STATUS_TONES.get(e.status, "accent")))
        if e.deposit_label:
            tone = {"authorised": "ok", "captured": "ok", "applied": "ok", "required": "danger",
                    "link_sent": "accent", "forfeited": "danger"}.get(e.deposit_status, "muted")
            chips.addWidget(_chip(e.deposit_label, tone))
        if e.vip:
            chips.addWidget(_chip("VIP", "accent"))
        chips.addStretch(1)
        chip_row = QWidget()
        chip_row.setLayout(chips)
        widgets: list[QWidget] = [title, chip_row]
        alerts = [f"Allergies: {details.allergies}" if details.allergies else "",
                  f"Medical alerts: {details.medical_alerts}" if details.medical_alerts else ""]
        if any(alerts):
            widgets.append(_label("\n".join(a for a in alerts if a), name="Alerts", wrap=True))
        if e.tentative:
            widgets.append(_label("Tentative: waiting for the clinic server to accept this booking.",
                                  name="Tentative", wrap=True))
        form = QFormLayout()
        form.setHorizontalSpacing(18)
        form.setVerticalSpacing(6)
        facts = [
            ("When", when_text(e, tz)),
            ("Service", e.service_name),
            ("Provider", e.provider_name),
            ("Room", e.room_name or "No room"),
        ]
        if e.device_name:
            facts.append(("Device", e.device_name))
        if e.deposit_minor:
            facts.append(("Deposit", f"{money(e.deposit_minor, e.currency)} \u00b7 {e.deposit_label or 'not needed'}"))
        if e.price_minor:
            facts.append(("Price", money(e.price_minor, e.currency)))
        if details.phone:
            facts.append(("Phone", format_phone(details.phone, self.sdesk.clinic.region)))
        if details.booked_by:
            facts.append(("Booked by", details.booked_by))
        if e.notes:
            facts.append(("Notes", e.notes))
        for name, value in facts:
            form.addRow(_label(name, kind="muted"), _label(value, wrap=True))
        form_box = QWidget()
        form_box.setLayout(form)
        widgets += [_line(), form_box]
        actions = QHBoxLayout()
        actions.setSpacing(6)
        self.status_buttons = {}
        if self.sdesk.can_book:
            for status, text in STATUS_ACTIONS:
                if status in details.allowed_statuses:
                    button = QPushButton(text)
                    button.setObjectName(f"Status_{status}")
                    button.clicked.connect(lambda _=False, s=status: self.set_status(s))
                    actions.addWidget(button)
                    self.status_buttons[status] = button
        actions.addStretch(1)
        if self.status_buttons:
            action_box = QWidget()
            action_box.setLayout(actions)
            widgets += [_line(), action_box]
        self._fill(widgets)
        self.open_record.setEnabled(True)
        self.details_shown.emit(details)

    def _failed(self, exc: BaseException) -> None:
        self.error = user_message(exc)
        self._status_line.setText(self.error)
        self._status_line.show()

    def set_status(self, status: str) -> None:
        for button in self.status_buttons.values():
            button.setEnabled(False)
        self._status_line.hide()
        self.sdesk.set_status(self.appointment_id, status, on_success=lambda _e: self.reload(),
                              on_failure=self._failed, initiator=self)

    def _open_record(self) -> None:
        if self.details is not None:
            self.open_patient_requested.emit(self.details.entry.patient_id)
            self.accept()


# --- a new booking --------------------------------------------------------------------------------


class _ClientField(QLineEdit):
    """The client search box: Up/Down move through the results below it; Enter takes the current
    one (and does not also press Book)."""

    navigate = Signal(int)
    take = Signal()

    def __init__(self, results: QListWidget) -> None:
        super().__init__()
        self._results = results

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            self.navigate.emit(1 if event.key() == Qt.Key.Key_Down else -1)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._results.isVisible():
            self.take.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class NewAppointmentDialog(QDialog):
    """Book a client into a slot: client, service, provider, room, day and time."""

    booked = Signal(object)  # ScheduleEntry

    def __init__(self, sdesk: ScheduleDesk, setup: ScheduleSetup, target: Target, *, entries: list[ScheduleEntry],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NewAppointmentDialog")
        self.setWindowTitle("New appointment")
        self.setStyleSheet(theme.stylesheet(text=DIALOG_STYLE))
        self.setMinimumWidth(520)
        self.sdesk, self.setup = sdesk, setup
        self.patient_id: str | None = None
        self.problems: list[Problem] = []
        self.checking = False
        self.saving = False
        self.result_entry: ScheduleEntry | None = None
        self._search_op: Op | None = None
        self._check_op: Op | None = None
        self._check_generation = 0
        tz = sdesk.tz
        local = target.start_at.astimezone(tz)

        self.results = QListWidget()
        self.results.setObjectName("ClientResults")
        self.results.setMaximumHeight(140)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results.setUniformItemSizes(True)
        self.results.hide()
        self.client = _ClientField(self.results)
        self.client.setObjectName("ClientField")
        self.client.setPlaceholderText("Search clients by name, phone or email")
        self.client.setClearButtonEnabled(True)
        self.chosen = _label("", kind="muted")
        self.provider = QComboBox()
        for p in setup.providers:
            self.provider.addItem(p.name, p.id)
        self.service = QComboBox()
        self.room = QComboBox()
        self.room.addItem("No room", None)
        for r in sorted(setup.rooms, key=lambda r: (r.location_name, r.name)):
            self.room.addItem(f"{r.name} \u2014 {r.location_name}" if len(setup.locations) > 1 else r.name, r.id)
        self.date = QDateEdit(QDate(local.year, local.month, local.day))
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("ddd, MMM d, yyyy")
        self.start = QTimeEdit(QTime(local.hour, local.minute))
        self.start.setDisplayFormat("h:mm AP")
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Notes for the provider (optional)")
        self.notes.setFixedHeight(56)
        self.summary = _label("", kind="muted", wrap=True)
        self.problem = _label("", name="Problem", wrap=True)
        self.problem.hide()

        form = QFormLayout()
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(8)
        client_box = QVBoxLayout()
        client_box.setSpacing(4)
        client_box.addWidget(self.client)
        client_box.addWidget(self.results)
        client_box.addWidget(self.chosen)
        form.addRow("Client", client_box)
        form.addRow("Provider", self.provider)
        form.addRow("Service", self.service)
        form.addRow("Room", self.room)
        when = QHBoxLayout()
        when.addWidget(self.date, 2)
        when.addWidget(self.start, 1)
        form.addRow("When", when)
        form.addRow("Notes", self.notes)

        self.buttons = QDialogButtonBox()
        self.book_button = self.buttons.addButton("Book", QDialogButtonBox.ButtonRole.AcceptRole)
        self.book_button.setObjectName("BookButton")
        self.book_button.setDefault(True)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.clicked.connect(self.reject)
        self.book_button.clicked.connect(self.book)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(12)
        layout.addWidget(_label("New appointment", name="DialogTitle"))
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        # defaults from the slot: its provider or room, else what the provider used that day
        if target.provider_id is not None:
            self.provider.setCurrentIndex(max(0, self.provider.findData(target.provider_id)))
        self._fill_services()
        room = target.room_id or self._usual_room(entries, self.provider_id(), target.day)
        if room is not None:
            self.room.setCurrentIndex(max(0, self.room.findData(room)))

        self._search_timer = QTimer(self, singleShot=True, interval=120)
        self._search_timer.timeout.connect(self._search)
        self._check_timer = QTimer(self, singleShot=True, interval=CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self._check)
        self.client.textEdited.connect(self._client_edited)
        self.client.navigate.connect(self._move_in_results)
        self.client.take.connect(self._take_current_result)
        self.results.itemActivated.connect(self._take)
        self.results.itemClicked.connect(self._take)
        self.provider.currentIndexChanged.connect(self._provider_changed)
        for signal in (self.service.currentIndexChanged, self.room.currentIndexChanged, self.date.dateChanged,
                       self.start.timeChanged):
            signal.connect(self._changed)
        self._changed()
        self.client.setFocus()

    # --- values -------------------------------------------------------------------------------

    def provider_id(self) -> str | None:
        value = self.provider.currentData()
        return str(value) if value else None

    def service_id(self) -> str | None:
        value = self.service.currentData()
        return str(value) if value else None

    def room_id(self) -> str | None:
        value = self.room.currentData()
        return str(value) if value else None

    def start_at(self) -> datetime:
        d, t = self.date.date(), self.start.time()
        local = datetime.combine(date(d.year(), d.month(), d.day()), time(t.hour(), t.minute()), self.sdesk.tz)
        return local.astimezone(UTC)

    def select_service(self, name: str) -> None:
        index = next((i for i in range(self.service.count()) if self.service.itemText(i).startswith(name)), -1)
        if index < 0:
            raise KeyError(name)
        self.service.setCurrentIndex(index)

    def select_room(self, room_id: str | None) -> None:
        self.room.setCurrentIndex(self.room.findData(room_id))

    # --- client search ------------------------------------------------------------------------

    def _client_edited(self, _text: str) -> None:
        if self.patient_id is not None:  # typing again means looking for someone else
            self.patient_id = None
            self.chosen.setText("")
            self._update_book()
        self._search_timer.start()

    def _search(self) -> None:
        text = self.client.text().strip()
        if self._search_op is not None:
            self._search_op.cancel()
        if len(text) < 2:
            self.results.clear()
            self.results.hide()
            return
        self._search_op = self.sdesk.search_clients(text, on_success=self._show_results)

    def _show_results(self, hits: list[Any]) -> None:
        self.results.clear()
        for hit in hits:
            first = hit.preferred_name or hit.first_name
            phone = format_phone(hit.phone, self.sdesk.clinic.region) if hit.phone else ""
            extra = " \u00b7 ".join(x for x in (phone, hit.email) if x)
            star = "\u2605 " if hit.vip else ""
            item = QListWidgetItem(f"{star}{first} {hit.last_name}" + (f"   {extra}" if extra else ""))
            item.setData(Qt.ItemDataRole.UserRole, (hit.id, f"{first} {hit.last_name}"))
            self.results.addItem(item)
        if not hits:
            self.results.addItem("No client found")
        self.results.setCurrentRow(0)
        self.results.show()

    def _move_in_results(self, step: int) -> None:
        if self.results.count():
            self.results.setCurrentRow(max(0, min(self.results.count() - 1, self.results.currentRow() + step)))

    def _take_current_result(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self._take(item)

    def _take(self, item: QListWidgetItem) -> None:
        data = item.data(Qt.ItemDataRole.UserRole)
        if not data:
            return
        self.patient_id, name = data
        self.client.setText(name)
        self.chosen.setText(f"Booking for {name}")
        self.results.hide()
        self.service.setFocus()
        self._changed()

    # --- checks -------------------------------------------------------------------------------

    def _provider_changed(self) -> None:
        self._fill_services()
        self._changed()

    def _fill_services(self) -> None:
        keep = self.service_id()
        provider = self.setup.provider(self.provider_id())
        self.service.blockSignals(True)
        self.service.clear()
        for s in self.setup.services_for(provider.role if provider else None):
            self.service.addItem(f"{s.name} \u00b7 {s.duration_min} min", s.id)
        if keep is not None and self.service.findData(keep) >= 0:
            self.service.setCurrentIndex(self.service.findData(keep))
        self.service.blockSignals(False)

    @staticmethod
    def _usual_room(entries: list[ScheduleEntry], provider_id: str | None, day: date) -> str | None:
        rooms = [e.room_id for e in entries if e.provider_id == provider_id and e.room_id and e.holds_slot]
        return max(set(rooms), key=rooms.count) if rooms else None

    def _changed(self) -> None:
        service = self.setup.service(self.service_id())
        if service is not None:
            end = self.start_at() + timedelta(minutes=service.duration_min)
            parts = [format_span(self.start_at(), end, self.sdesk.tz)]
            buffers = [f"{service.buffer_before_min} min set-up" if service.buffer_before_min else "",
                       f"{service.buffer_after_min} min clean-up" if service.buffer_after_min else ""]
            if any(buffers):
                parts.append(", ".join(b for b in buffers if b))
            if service.deposit_minor:
                parts.append(f"{money(service.deposit_minor, service.currency)} deposit required")
            self.summary.setText(" \u00b7 ".join(parts))
        else:
            self.summary.setText("This provider has no services on the menu.")
        self.checking = True
        self._update_book()
        self._check_timer.start()

    def _check(self) -> None:
        service_id, provider_id = self.service_id(), self.provider_id()
        if service_id is None or provider_id is None:
            self.checking = False
            self._update_book()
            return
        self._check_generation += 1
        generation = self._check_generation
        if self._check_op is not None:
            self._check_op.cancel()
        self._check_op = self.sdesk.check(
            service_id=service_id, provider_id=provider_id, start_at=self.start_at(), room_id=self.room_id(),
            on_success=lambda problems: self._checked(generation, problems),
            on_failure=lambda exc: self._check_failed(generation, exc))

    def _checked(self, generation: int, problems: list[Problem]) -> None:
        if generation != self._check_generation:
            return
        self.checking = False
        self.problems = problems
        self._show_problems([p.message for p in problems])

    def _check_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._check_generation:
            self.checking = False
            self._show_problems([user_message(exc)])

    def _show_problems(self, reasons: list[str]) -> None:
        self.problem.setText("\n".join(reasons))
        self.problem.setVisible(bool(reasons))
        self._update_book()

    def _update_book(self) -> None:
        self.book_button.setEnabled(bool(self.patient_id and self.service_id() and not self.saving
                                         and not (self.problems and not self.checking)))

    # --- booking ------------------------------------------------------------------------------

    def book(self) -> None:
        """Book it (the service checks again); a refusal stays on screen with its reason."""
        if not self.patient_id:
            self._show_problems(["Choose the client first."])
            self.client.setFocus()
            return
        service_id, provider_id = self.service_id(), self.provider_id()
        if service_id is None or provider_id is None:
            return
        self.saving = True
        self._update_book()
        self.sdesk.create(patient_id=self.patient_id, service_id=service_id, provider_id=provider_id,
                          start_at=self.start_at(), room_id=self.room_id(),
                          notes=self.notes.toPlainText(), on_success=self._booked, on_failure=self._refused,
                          initiator=self)

    def _booked(self, entry: ScheduleEntry) -> None:
        self.saving = False
        self.result_entry = entry
        self.booked.emit(entry)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.saving = False
        reasons = exc.reasons if isinstance(exc, BookingConflict) else [user_message(exc)]
        self.problems = [Problem("refused", r) for r in reasons]
        self._show_problems(reasons)


__all__ = ["STATUS_LABELS", "AppointmentDialog", "NewAppointmentDialog"]
