"""One small form dialog for every settings item: fields described as data, the service's
field errors shown next to each field, saved on the DB worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.patients import FieldErrors
from app.ui.errors import user_message
from app.ui.widgets import label


@dataclass(frozen=True)
class Field:
    key: str
    title: str
    kind: str = "text"  # text, password, choice, check, checks, area
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for choice and checks
    hint: str = ""
    wide: bool = False
    editable_choice: bool = False


class FormDialog(QDialog):
    """``saved(item_id)`` once the save succeeded."""

    saved = Signal(object)

    def __init__(self, title: str, fields: tuple[Field, ...], values: dict[str, Any],
                 save: Callable[..., Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SettingsForm")
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(560)
        self._save = save
        self.widgets: dict[str, Any] = {}
        self.errors: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(label(title, name="DialogTitle"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(4)
        position = 0
        for field in fields:
            if field.wide and position % 2:
                position += 1
            r, c = divmod(position, 2)
            box = QVBoxLayout()
            box.setSpacing(4)
            widget = self._widget(field, values.get(field.key))
            if field.kind != "check":
                box.addWidget(label(field.title, kind="field-label"))
            box.addWidget(widget)
            if field.hint:
                box.addWidget(label(field.hint, kind="field-help", wrap=True))
            error = label("", kind="field-error", wrap=True)
            error.setObjectName(f"error_{field.key}")
            error.hide()
            box.addWidget(error)
            box.addSpacing(6)
            grid.addLayout(box, r, c, 1, 2 if field.wide else 1)
            self.widgets[field.key], self.errors[field.key] = widget, error
            position += 2 if field.wide else 1
        layout.addLayout(grid)
        self.form_error = label("", name="FormError", wrap=True)
        self.form_error.hide()
        layout.addWidget(self.form_error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("SaveButton")
        self.save_button.setProperty("kind", "primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.submit)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

    def _widget(self, field: Field, value: Any) -> QWidget:
        if field.kind == "check":
            box = QCheckBox(field.title)
            box.setChecked(bool(value))
            return box
        if field.kind == "choice":
            combo = QComboBox()
            combo.setEditable(field.editable_choice)
            for data, text in field.options:
                combo.addItem(text, data)
            index = combo.findData(value)
            if index >= 0:
                combo.setCurrentIndex(index)
            elif field.editable_choice and value:
                combo.setEditText(str(value))
            return combo
        if field.kind == "checks":
            holder = QWidget()
            line = QHBoxLayout(holder)
            line.setContentsMargins(0, 0, 0, 0)
            chosen = set(value or ())
            for data, text in field.options:
                check = QCheckBox(text)
                check.setProperty("value", data)
                check.setChecked(data in chosen)
                line.addWidget(check)
            line.addStretch(1)
            return holder
        if field.kind == "area":
            area = QPlainTextEdit(str(value or ""))
            area.setFixedHeight(64)
            return area
        edit = QLineEdit("" if value is None else str(value))
        edit.setObjectName(f"field_{field.key}")
        if field.kind == "password":
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setMaxLength(6)
        return edit

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, widget in self.widgets.items():
            if isinstance(widget, QCheckBox):
                out[key] = widget.isChecked()
            elif isinstance(widget, QComboBox):
                text = widget.currentText()
                data = widget.currentData()
                out[key] = data if data is not None and widget.itemText(widget.currentIndex()) == text else text
            elif isinstance(widget, QPlainTextEdit):
                out[key] = widget.toPlainText()
            elif isinstance(widget, QLineEdit):
                out[key] = widget.text()
            else:
                out[key] = [c.property("value") for c in widget.findChildren(QCheckBox) if c.isChecked()]
        return out

    def submit(self) -> None:
        self.save_button.setEnabled(False)
        self._save(self.values(), on_success=self._done, on_failure=self._failed)

    def _done(self, item_id: Any) -> None:
        self.saved.emit(item_id)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        errors = exc.errors if isinstance(exc, FieldErrors) else {}
        for key, widget in self.errors.items():
            widget.setText(errors.get(key, ""))
            widget.setVisible(key in errors)
        unplaced = [m for k, m in errors.items() if k not in self.errors]
        message = " ".join(unplaced) if unplaced else (
            "Fix the highlighted fields." if errors else user_message(exc))
        self.form_error.setText(message)
        self.form_error.show()
        self.form_error.setAlignment(Qt.AlignmentFlag.AlignLeft)
