"""Create or edit a client: inline validation next to each field, a duplicate warning while typing.

Validation is the service's own (``app.services.patients.validate``: E.164 phone in the clinic's
region, email, date of birth, Instagram handle), run on the UI thread as the person types (it
touches no storage). A field's error shows once the field has been left or Save was pressed, and
goes away as soon as the value is fixed. The duplicate check (same phone, email, Instagram, or
name and birthday) runs on the DB worker a moment after typing stops. Save sends the form to the
service, which validates again; nothing is written while any field is wrong.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.patients import DuplicateCandidate, FieldErrors, validate
from app.ui.errors import user_message
from app.ui.formatting import SOURCE_LABELS
from app.ui.operations import Op
from app.ui.patient_record import PatientRecord
from app.ui.widgets import icon_label, label

DUPLICATE_CHECK_MS = 250
#: (field, label, placeholder, column span)
FIELDS: tuple[tuple[str, str, str, int], ...] = (
    ("first_name", "First name", "", 1), ("last_name", "Last name", "", 1),
    ("preferred_name", "Preferred name", "optional", 1), ("pronouns", "Pronouns", "optional", 1),
    ("phone", "Mobile phone", "(415) 555-0123", 1), ("email", "Email", "name@example.com", 1),
    ("date_of_birth", "Date of birth", "MM/DD/YYYY", 1), ("instagram_handle", "Instagram", "@handle", 1),
    ("allergies", "Allergies", "e.g. lidocaine, latex", 2), ("medical_alerts", "Medical alerts", "e.g. pregnant", 2),
    ("tags", "Tags", "comma separated, e.g. botox regular, membership", 2),
)
DUPLICATE_KEYS = ("phone", "email", "instagram_handle", "first_name", "last_name", "date_of_birth")
ACQUISITION = ("", "walk_in", "phone", "referral", "instagram_dm", "meta_lead_ad", "google_ads", "web_form", "manual")


class PatientEditor(QDialog):
    """``saved(patient_id)`` after a successful save; the dialog then closes."""

    saved = Signal(str)
    open_existing = Signal(str)

    def __init__(self, desk: Any, record: PatientRecord | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PatientEditor")
        self._desk = desk
        self._record = record
        self.setWindowTitle("Edit client" if record else "New client")
        self.setModal(True)
        self.setMinimumWidth(640)
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        self._touched: set[str] = set()
        self._submitted = False
        self._saving: Op | None = None
        self._dup_op: Op | None = None
        self._dup_generation = 0
        self.duplicates: list[DuplicateCandidate] = []
        self._dup_timer = QTimer(self)
        self._dup_timer.setSingleShot(True)
        self._dup_timer.setInterval(DUPLICATE_CHECK_MS)
        self._dup_timer.timeout.connect(self._check_duplicates)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(label("Edit client" if record else "New client", name="DialogTitle"))
        layout.addWidget(self._duplicate_box())
        layout.addLayout(self._grid())
        self.vip = QCheckBox("VIP client")
        self.source = QComboBox()
        self.source.setObjectName("SourceField")
        for key in ACQUISITION:
            self.source.addItem(SOURCE_LABELS.get(key, "Not asked") if key else "Not asked", key)
        extra = QHBoxLayout()
        extra.setSpacing(12)
        if record is None:
            extra.addWidget(label("How did they find us?", kind="field-label"))
            extra.addWidget(self.source)
        extra.addStretch(1)
        extra.addWidget(self.vip)
        layout.addLayout(extra)
        layout.addWidget(label("Notes", kind="field-label"))
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("NotesField")
        self.notes.setPlaceholderText("Preferences, reminders for the team (no clinical details)")
        self.notes.setFixedHeight(64)
        layout.addWidget(self.notes)
        self.form_error = label("", name="FormError", wrap=True)
        self.form_error.hide()
        layout.addWidget(self.form_error)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.reject)
        self.save = QPushButton("Save changes" if record else "Create client")
        self.save.setObjectName("SaveButton")
        self.save.setProperty("kind", "primary")
        self.save.setDefault(True)
        self.save.clicked.connect(self.submit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.save)
        layout.addLayout(buttons)
        if record is not None:
            self._fill(record)
        self._initial = self.data()
        self.fields["first_name"].setFocus()

    # --- building -----------------------------------------------------------------------------

    def _grid(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(4)
        position = 0
        for key, title, hint, span in FIELDS:
            if span == 2 and position % 2:
                position += 1
            r, c = divmod(position, 2)
            box = QVBoxLayout()
            box.setSpacing(4)
            box.addWidget(label(title, kind="field-label"))
            field = QLineEdit()
            field.setObjectName(f"field_{key}")
            field.setPlaceholderText(hint)
            field.setAccessibleName(title)
            field.textChanged.connect(lambda _text, k=key: self._edited(k))
            field.editingFinished.connect(lambda k=key: self._left(k))
            error = label("", kind="field-error", wrap=True)
            error.setObjectName(f"error_{key}")
            error.hide()
            box.addWidget(field)
            box.addWidget(error)
            box.addSpacing(6)
            grid.addLayout(box, r, c, 1, span)
            self.fields[key], self.errors[key] = field, error
            position += span
        return grid

    def _duplicate_box(self) -> QFrame:
        self.duplicate_box = QFrame()
        self.duplicate_box.setObjectName("DuplicateWarning")
        layout = QHBoxLayout(self.duplicate_box)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(10)
        layout.addWidget(icon_label("warning", size=18, color="warn"), 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(label("This may be a client you already have", name="DuplicateTitle"))
        self.duplicate_text = label("", name="DuplicateText", wrap=True)
        text.addWidget(self.duplicate_text)
        layout.addLayout(text, 1)
        self.open_duplicate = QPushButton("Open record")
        self.open_duplicate.setProperty("kind", "ghost")
        self.open_duplicate.clicked.connect(self._open_duplicate)
        layout.addWidget(self.open_duplicate, 0, Qt.AlignmentFlag.AlignVCenter)
        self.duplicate_box.hide()
        return self.duplicate_box

    def _fill(self, r: PatientRecord) -> None:
        values = {"first_name": r.first_name, "last_name": r.last_name, "preferred_name": r.preferred_name,
                  "pronouns": r.pronouns, "phone": r.phone, "email": r.email, "instagram_handle": r.instagram,
                  "date_of_birth": r.date_of_birth.strftime("%m/%d/%Y") if r.date_of_birth else "",
                  "allergies": r.allergies, "medical_alerts": r.medical_alerts, "tags": ", ".join(r.tags)}
        for key, value in values.items():
            self.fields[key].blockSignals(True)
            self.fields[key].setText(value)
            self.fields[key].blockSignals(False)
        self.vip.setChecked(r.vip)
        self.notes.setPlainText(r.notes)

    # --- the form's values --------------------------------------------------------------------

    def data(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: f.text() for k, f in self.fields.items() if k != "tags"}
        out["tags"] = [t.strip() for t in self.fields["tags"].text().split(",") if t.strip()]
        out["vip"] = self.vip.isChecked()
        out["notes"] = self.notes.toPlainText()
        return out

    def changes(self) -> dict[str, Any]:
        """What to send: every field for a new client, the edited ones for an existing client."""
        data = self.data()
        if self._record is None:
            source = self.source.currentData()
            if source:
                at = self._desk.now().astimezone(UTC).isoformat().replace("+00:00", "Z")
                data["first_touch"] = {"source": source, "at": at, "via": "desk"}
            return data
        changed = {k: v for k, v in data.items() if v != self._initial.get(k)}
        if "first_name" in changed or "last_name" in changed:  # the name is checked as a pair
            changed["first_name"], changed["last_name"] = data["first_name"], data["last_name"]
        return changed

    def field_errors(self) -> dict[str, str]:
        """The service's verdict on the form as it stands (empty: it would save)."""
        try:
            validate(self.changes() if self._record else self.data(), region=self._desk.region,
                     today=self._desk.today(), partial=self._record is not None)
        except FieldErrors as exc:
            return dict(exc.errors)
        return {}

    # --- validation as they type --------------------------------------------------------------

    def _edited(self, key: str) -> None:
        if self._submitted or key in self._touched:
            self._show_errors(self.field_errors())
        if key in DUPLICATE_KEYS:
            self._dup_timer.start()

    def _left(self, key: str) -> None:
        if self.fields[key].text().strip() or key in ("first_name", "last_name") and self._submitted:
            self._touched.add(key)
        self._show_errors(self.field_errors())

    def _show_errors(self, errors: dict[str, str]) -> None:
        for key, widget in self.errors.items():
            message = errors.get(key, "") if (self._submitted or key in self._touched) else ""
            widget.setText(message)
            widget.setVisible(bool(message))
            field = self.fields[key]
            if bool(field.property("invalid")) != bool(message):
                field.setProperty("invalid", bool(message))
                field.style().unpolish(field)
                field.style().polish(field)

    def visible_errors(self) -> dict[str, str]:
        return {k: w.text() for k, w in self.errors.items() if w.isVisibleTo(self) and w.text()}

    # --- duplicates ---------------------------------------------------------------------------

    def _check_duplicates(self) -> None:
        data = {k: self.fields[k].text() for k in DUPLICATE_KEYS}
        if not any(data[k].strip() for k in ("phone", "email", "instagram_handle")) and not (
                data["first_name"].strip() and data["last_name"].strip()):
            self._show_duplicates([])
            return
        self._dup_generation += 1
        generation = self._dup_generation
        if self._dup_op is not None and not self._dup_op.done:
            self._dup_op.cancel()
        exclude = self._record.id if self._record else None
        self._dup_op = self._desk.find_duplicates(
            data, exclude_id=exclude, on_success=lambda found: self._got_duplicates(generation, found))

    def _got_duplicates(self, generation: int, found: list[DuplicateCandidate]) -> None:
        if generation == self._dup_generation:
            self._show_duplicates(found)

    @property
    def checking_duplicates(self) -> bool:
        return self._dup_timer.isActive() or (self._dup_op is not None and not self._dup_op.done)

    def _show_duplicates(self, found: list[DuplicateCandidate]) -> None:
        self.duplicates = list(found)
        if not found:
            self.duplicate_box.hide()
            return
        lines = [f"{c.name} \u2014 {c.reason}" for c in found[:3]]
        if len(found) > 3:
            lines.append(f"and {len(found) - 3} more")
        self.duplicate_text.setText("\n".join(lines))
        self.open_duplicate.setText("Open record" if len(found) == 1 else f"Open {found[0].name.split()[0]}")
        self.duplicate_box.show()

    def _open_duplicate(self) -> None:
        if self.duplicates:
            self.open_existing.emit(self.duplicates[0].patient_id)
            self.reject()

    # --- saving -------------------------------------------------------------------------------

    def submit(self) -> None:
        if self._saving is not None and not self._saving.done:
            return
        self._submitted = True
        errors = self.field_errors()
        self._show_errors(errors)
        if errors:
            first = next(k for k, _t, _h, _s in FIELDS if k in errors) if any(
                k in errors for k, _t, _h, _s in FIELDS) else None
            self.form_error.setText("Fix the highlighted field." if len(errors) == 1 else
                                    f"Fix the {len(errors)} highlighted fields.")
            self.form_error.show()
            if first:
                self.fields[first].setFocus()
            return
        changes = self.changes()
        if self._record is not None and not changes:
            self.accept()
            return
        self.form_error.hide()
        self.save.setEnabled(False)
        self.save.setText("Saving\u2026")
        if self._record is None:
            self._saving = self._desk.create_patient(changes, on_success=self._done, on_failure=self._failed)
        else:
            pid = self._record.id
            self._saving = self._desk.update_patient(pid, changes, on_success=lambda _diff: self._done(pid),
                                                     on_failure=self._failed)

    def _done(self, patient_id: str) -> None:
        self.saved.emit(patient_id)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save.setEnabled(True)
        self.save.setText("Save changes" if self._record else "Create client")
        if isinstance(exc, FieldErrors):
            self._show_errors(exc.errors)
        self.form_error.setText(user_message(exc))
        self.form_error.show()
