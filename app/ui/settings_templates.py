"""Settings > Text templates (owners and managers): the clinic's templates, with Add and Edit.

A template is checked when it is saved (core.templates: DOMAIN.md's variables, conditionals,
nothing else); a mistake is shown next to the text, and nothing is saved. Templates are never
deleted: an inactive one is no longer offered in the compose box.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from app.services.messaging import TemplateItem
from app.ui import theme
from app.ui.errors import user_message
from app.ui.message_ops import MESSAGE_TEMPLATE, MessageOps
from app.ui.models.table_model import Col, RowTableModel
from app.ui.operations import Op
from app.ui.settings_forms import Field, FormDialog
from app.ui.tables import RowTable
from app.ui.widgets import label, row
from core.templates import VARIABLES

COLUMNS = (
    Col("Template", lambda t: t.name, 220, bold=True),
    Col("Text", lambda t: " ".join(t.body.split()), None, muted=True),
    Col("Purpose", lambda t: "Marketing" if t.purpose == "marketing" else "Appointments & service", 170),
    Col("", lambda t: "Active" if t.active else "Inactive", 84, tone=lambda t: "ok" if t.active else "muted"),
)
FIELDS = (
    Field("name", "Name"),
    Field("purpose", "Purpose", "choice", (("transactional", "Appointments & service"), ("marketing", "Marketing")),
          hint="Marketing texts need the client's marketing consent and wait out quiet hours"),
    Field("body", "Text", "area", wide=True,
          hint="Variables: " + ", ".join("{{ " + v + " }}" for v in VARIABLES)
               + ". Conditionals: {% if deposit_link %} ... {% endif %}."),
    Field("active", "Offered in the compose box", "check"),
)


class TemplatesSection(QWidget):
    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.ops = MessageOps(desk)
        self.items: list[TemplateItem] = []
        self._op: Op | None = None
        self.dialog: FormDialog | None = None
        self.model = RowTableModel(COLUMNS, self)
        self.table = RowTable(self.model, name="Settings_template")
        self.table.activated_row.connect(lambda r: self.edit(self.model.id_at(r)))
        add = QPushButton(theme.icon("plus", "on-accent"), "Add template")
        add.setObjectName("Add_template")
        add.setProperty("kind", "primary")
        add.clicked.connect(lambda: self.edit(None))
        edit = QPushButton(theme.icon("edit", "text2"), "Edit")
        edit.clicked.connect(lambda: self.edit(self.model.id_at(self.table.current_row())))
        self.error = label("", name="FormError", wrap=True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(row(label("Text templates", name="DialogTitle"), None, edit, add, stretch_end=False))
        layout.addWidget(label("What the desk picks from when texting a client. Variables fill in from the "
                               "client's record and next appointment; the compose box shows the result before "
                               "it is sent.", kind="subtitle", wrap=True))
        layout.addWidget(self.error)
        layout.addWidget(self.table, 1)
        desk.ops.changes_did_happen.connect(self._changes)
        self.refresh()

    def _changes(self, changes: set[str], _initiator: Any) -> None:
        if MESSAGE_TEMPLATE in changes and self.window().isVisible():
            self.refresh()

    @property
    def loading(self) -> bool:
        return self._op is not None and not self._op.done

    def refresh(self) -> None:
        self._op = self.ops.templates(on_success=self._show, on_failure=self._failed)

    def _show(self, items: list[TemplateItem]) -> None:
        self.items = items
        self.error.hide()
        keep = self.model.id_at(self.table.current_row())
        self.model.set_rows(items)
        if items:
            self.table.selectRow(max(self.model.row_of(keep) if keep else 0, 0))

    def _failed(self, exc: BaseException) -> None:
        self.error.setText(user_message(exc))
        self.error.show()

    def edit(self, template_id: str | None) -> None:
        item = next((t for t in self.items if t.id == template_id), None)
        if template_id is not None and item is None:
            return
        values = vars(item) if item else {"purpose": "transactional", "active": True, "body": ""}

        def save(data: dict[str, Any], **callbacks: Any) -> Op:
            return self.ops.save_template(template_id, data, **callbacks)

        dialog = FormDialog("Edit template" if item else "New template", FIELDS, values, save, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda _id: self.refresh())
        dialog.destroyed.connect(lambda *_: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
