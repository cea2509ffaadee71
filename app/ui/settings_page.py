"""Settings (owners and managers): the service menu, rooms, devices, staff, text templates, lead
routing (on the clinic server), this clinic's idle-lock time and this workstation's notifications. Lists with Add and Edit; nothing is
deleted, items are made inactive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.clinic_settings import (
    CLINICAL_ROLES,
    IDLE_LOCK_RANGE,
    PRICE_UNITS,
    ROOM_KINDS,
    SERVICE_CATEGORIES,
    ClinicSettings,
    kind_label,
)
from app.ui import theme
from app.ui.errors import user_message
from app.ui.formatting import display_money, role_label
from app.ui.models.table_model import Col, RowTableModel
from app.ui.operations import Op
from app.ui.settings_forms import Field, FormDialog
from app.ui.settings_routing import LeadRoutingSection
from app.ui.settings_templates import TemplatesSection
from app.ui.tables import RowTable
from app.ui.ui_settings import UiSettings
from app.ui.widgets import label, row
from core.money import Money
from core.permissions import Permission, Role


def _active(item: Any) -> str:
    return "Active" if item.active else "Inactive"


def _tone(item: Any) -> str:
    return "ok" if item.active else "muted"


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blurb: str
    columns: tuple[Col, ...]


SECTIONS = (
    Section("service", "Services", "The menu clients book from: durations, set-up and clean-up time, prices "
            "and deposits, who may perform each and the device it needs.", (
                # names that share their first words (Juv\u00e9derm ..., Laser Hair Removal ...) are cut in
                # the middle, so that what tells them apart stays in sight
                Col("Service", lambda s: s.name, None, bold=True, min_width=220, elide="middle"),
                Col("Category", lambda s: s.category.capitalize(), 124, muted=True, drop=1),
                Col("Length", lambda s: f"{s.duration_min} min" + (
                    f" +{s.buffer_before_min + s.buffer_after_min}" if s.buffer_before_min + s.buffer_after_min
                    else ""), 104),
                Col("Price", lambda s: (display_money(s.price_minor, s.currency, cents=False) + (
                    f" / {s.price_unit}" if s.price_unit != "session" else "")) if s.price_minor else "Free",
                    136, right=True),
                Col("Deposit", lambda s: display_money(s.deposit_minor, s.currency, cents=False)
                    if s.deposit_minor else "\u2014", 76, right=True),
                Col("Device", lambda s: kind_label(s.device_kind) or "\u2014", 140, muted=True),
                Col("Performed by", lambda s: ", ".join(role_label(r) for r in s.qualified_roles) or "\u2014", 190,
                    muted=True, drop=2),
                Col("", _active, 84, tone=_tone))),
    Section("room", "Rooms", "Treatment and consult rooms at each location; a booking holds its room.", (
        Col("Room", lambda r: r.name, None, bold=True), Col("Location", lambda r: r.location, 180),
        Col("Kind", lambda r: r.kind.capitalize(), 140, muted=True), Col("", _active, 90, tone=_tone))),
    Section("device", "Devices", "Lasers and machines that services need; a booking holds its device.", (
        Col("Device", lambda d: d.name, None, bold=True), Col("Kind", lambda d: kind_label(d.kind), 190, muted=True),
        Col("Model", lambda d: d.model or "", 200, muted=True), Col("Location", lambda d: d.location, 140),
        Col("", _active, 90, tone=_tone))),
    Section("staff", "Staff", "Who works here, their role (it decides what they can see and do) and their "
            "sign-in PIN.", (
                Col("Name", lambda s: s.display_name, None, bold=True, min_width=180),
                Col("Role", lambda s: role_label(s.role), 140),
                Col("Title", lambda s: s.title or "", 200, muted=True, drop=1),
                Col("Working hours", lambda s: s.working_hours or "Opening hours", 220, muted=True),
                Col("PIN", lambda s: "Set" if s.has_pin else "Not set", 80, tone=lambda s: "ok" if s.has_pin
                    else "warn"),
                Col("", _active, 90, tone=_tone))),
)


class SettingsPage(QWidget):
    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Page")
        self.desk = desk
        self.settings: ClinicSettings | None = None
        self._op: Op | None = None
        self.dialog: FormDialog | None = None
        self.nav = QListWidget()
        self.nav.setObjectName("SettingsNav")
        self.nav.setFixedWidth(200)
        self.stack = QStackedWidget()
        self.models: dict[str, RowTableModel] = {}
        self.tables: dict[str, RowTable] = {}
        for section in SECTIONS:
            self.nav.addItem(section.title)
            self.stack.addWidget(self._section_page(section))
        self.nav.addItem("Text templates")
        self.templates = TemplatesSection(desk)
        self.stack.addWidget(self.templates)
        self.nav.addItem("Lead routing")
        self.routing = LeadRoutingSection(desk)
        self.stack.addWidget(self.routing)
        self.nav.addItem("Workstation")
        self.stack.addWidget(self._workstation_page())
        # tall enough for every section: no scrolling to find one
        self.nav.setMinimumHeight(sum(self.nav.sizeHintForRow(i) for i in range(self.nav.count())) + 24)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)
        self.error = label("", name="FormError", wrap=True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 24, 16)
        layout.setSpacing(12)
        layout.addWidget(label("Settings", name="PageTitle"))
        layout.addWidget(self.error)
        body = QHBoxLayout()
        body.setSpacing(20)
        body.addWidget(self.nav, 0, Qt.AlignmentFlag.AlignTop)
        body.addWidget(self.stack, 1)
        layout.addLayout(body, 1)
        self.refresh()

    # --- pages --------------------------------------------------------------------------------

    def _section_page(self, section: Section) -> QWidget:
        page = QWidget()
        model = RowTableModel(section.columns, self)
        table = RowTable(model, name=f"Settings_{section.key}")
        table.activated_row.connect(lambda r, key=section.key: self.edit(key, self.models[key].id_at(r)))
        self.models[section.key], self.tables[section.key] = model, table
        add = QPushButton(theme.icon("plus", "on-accent"), f"Add {section.title.lower().rstrip('s')}"
                          if section.key != "staff" else "Add staff member")
        add.setObjectName(f"Add_{section.key}")
        add.setProperty("kind", "primary")
        add.clicked.connect(lambda _c=False, key=section.key: self.edit(key, None))
        edit = QPushButton(theme.icon("edit", "text2"), "Edit")
        edit.clicked.connect(lambda _c=False, key=section.key: self.edit(key, self.models[key].id_at(
            self.tables[key].current_row())))
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(row(label(section.title, name="DialogTitle"), None, edit, add, stretch_end=False))
        layout.addWidget(label(section.blurb, kind="subtitle", wrap=True))
        layout.addWidget(table, 1)
        return page

    def _workstation_page(self) -> QWidget:
        page = QWidget()
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setObjectName("IdleMinutes")
        self.idle_minutes.setRange(*IDLE_LOCK_RANGE)
        self.idle_minutes.setSuffix(" minutes")
        save = QPushButton("Save")
        save.setProperty("kind", "primary")
        save.clicked.connect(self.save_idle_lock)
        self.idle_note = label("", kind="muted")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(label("Workstation", name="DialogTitle"))
        layout.addWidget(label("Every workstation of the clinic locks itself when nobody has touched it for this "
                               "long, hiding client data until someone signs in again.", kind="subtitle", wrap=True))
        layout.addLayout(row(label("Lock after", kind="field-label"), self.idle_minutes, save, self.idle_note))
        layout.addSpacing(12)
        self.show_text = QCheckBox("Show the text of new client messages in desktop notifications")
        self.show_text.setObjectName("ShowMessageText")
        self.show_text.setChecked(UiSettings(self.desk.workspace.home).show_message_text())
        self.show_text.toggled.connect(lambda on: UiSettings(self.desk.workspace.home).set_show_message_text(on))
        layout.addWidget(self.show_text)
        layout.addWidget(label("Off (recommended on a shared screen): a notification names the client and "
                               "nothing else. On this workstation only.", kind="muted", wrap=True))
        layout.addStretch(1)
        return page

    # --- data ---------------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self._op is not None and not self._op.done

    def refresh(self) -> None:
        self._op = self.desk.clinic_settings(on_success=self._show, on_failure=self._failed)

    def _show(self, settings: ClinicSettings) -> None:
        self.settings = settings
        self.error.hide()
        for key, items in (("service", settings.services), ("room", settings.rooms),
                           ("device", settings.devices), ("staff", settings.staff)):
            keep = self.models[key].id_at(self.tables[key].current_row())
            self.models[key].set_rows(items)
            if items:
                self.tables[key].selectRow(max(self.models[key].row_of(keep) if keep else 0, 0))
        self.idle_minutes.setValue(settings.idle_lock_minutes)

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(user_message(exc))
        self.error.show()

    def show_section(self, key: str) -> None:
        keys = [s.key for s in SECTIONS] + ["template", "lead_routing", "workstation"]
        self.nav.setCurrentRow(keys.index(key))

    def save_idle_lock(self) -> None:
        self.desk.save_setting("idle_lock", None, {"minutes": self.idle_minutes.value()},
                               on_success=lambda m: self.idle_note.setText(f"Saved: {m} minutes."),
                               on_failure=self._failed)

    # --- editing ------------------------------------------------------------------------------

    def edit(self, key: str, item_id: str | None) -> None:
        if self.settings is None:
            return
        if key == "staff" and not self.desk.can(Permission.STAFF_MANAGE):
            return
        items = {"service": self.settings.services, "room": self.settings.rooms, "device": self.settings.devices,
                 "staff": self.settings.staff}[key]
        item = next((i for i in items if i.id == item_id), None)
        if item_id is not None and item is None:
            return
        fields, values = self._form(key, item)
        noun = {"service": "service", "room": "room", "device": "device", "staff": "staff member"}[key]
        title = f"Edit {noun}" if item else f"New {noun}"

        def save(data: dict[str, Any], **callbacks: Any) -> Op:
            return self.desk.save_setting(key, item_id, data, **callbacks)

        dialog = FormDialog(title, fields, values, save, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda _id: self.refresh())
        dialog.destroyed.connect(lambda *_: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()

    def _form(self, key: str, item: Any) -> tuple[tuple[Field, ...], dict[str, Any]]:
        s = self.settings
        assert s is not None
        locations = tuple((loc.id, loc.name) for loc in s.locations)
        if key == "service":
            kinds = sorted({d.kind for d in s.devices})
            fields = (
                Field("name", "Name", wide=True),
                Field("category", "Category", "choice", tuple((c, c.capitalize()) for c in SERVICE_CATEGORIES)),
                Field("duration_min", "Length (minutes)"),
                Field("buffer_before_min", "Set-up (minutes)"), Field("buffer_after_min", "Clean-up (minutes)"),
                Field("price", "Price", hint=f"In {s.currency}, per unit chosen"),
                Field("price_unit", "Priced per", "choice", tuple((u, u) for u in PRICE_UNITS)),
                Field("deposit", "Deposit to book", hint="0 for none"),
                Field("device_kind", "Needs a device", "choice",
                      (("", "No device"), *((k, kind_label(k)) for k in kinds))),
                Field("qualified_roles", "Performed by", "checks", tuple((r, role_label(r)) for r in CLINICAL_ROLES),
                      wide=True),
                Field("requires_room", "Needs a room", "check"), Field("active", "Active (bookable)", "check"),
                Field("description", "Description", "area", wide=True),
            )
            if item is None:
                return fields, {"category": "neuromodulators", "duration_min": 30, "buffer_before_min": 0,
                                "buffer_after_min": 10, "price_unit": "session", "qualified_roles": ["provider"],
                                "requires_room": True, "active": True, "price": "", "deposit": "0"}
            return fields, {**vars(item), "price": _amount(item.price_minor, item.currency),
                            "deposit": _amount(item.deposit_minor, item.currency),
                            "device_kind": item.device_kind or ""}
        if key == "room":
            fields = (Field("name", "Name"), Field("location_id", "Location", "choice", locations),
                      Field("kind", "Kind", "choice", tuple((k, k.capitalize()) for k in ROOM_KINDS)),
                      Field("active", "Active", "check"))
            return fields, vars(item) if item else {"kind": "treatment", "active": True}
        if key == "device":
            kinds = sorted({d.kind for d in s.devices})
            fields = (Field("name", "Name"), Field("model", "Make and model"),
                      Field("kind", "Kind", "choice", tuple((k, kind_label(k)) for k in kinds), editable_choice=True,
                            hint="Services that need this kind of device can use it"),
                      Field("location_id", "Location", "choice", locations), Field("active", "Active", "check"))
            return fields, vars(item) if item else {"active": True}
        roles = tuple(r.value for r in Role)
        if self.desk.actor_role not in (None, Role.OWNER.value):
            roles = tuple(r for r in roles if r != Role.OWNER.value) if not (item and item.role == "owner") else roles
        fields = (Field("display_name", "Name (as they sign in)"), Field("title", "Title"),
                  Field("role", "Role", "choice", tuple((r, role_label(r)) for r in roles)),
                  Field("pin", "New PIN" if item else "PIN", "password",
                        hint="4 to 6 digits" + ("; leave empty to keep the current PIN" if item else "")),
                  Field("email", "Email"), Field("phone", "Phone"),
                  Field("working_hours", "Working hours (who is on shift for new leads)", wide=True,
                        hint="Such as Mon-Fri 9:00-17:00; Sat 10:00-14:00. Empty: the clinic's opening hours."),
                  Field("active", "Active (can sign in)", "check"))
        return fields, ({**vars(item), "pin": ""} if item else {"role": "front_desk", "active": True})


def _amount(minor: int, currency: str) -> str:
    return f"{Money(minor, currency).decimal:f}"
