"""The dialog that edits one lead-routing rule (Settings > Lead routing): what it matches (service
interest words; VIP clients; every lead), who it goes to (people and/or roles) and how one of
them is chosen. Checked with :func:`core.routing.parse_rule` before it closes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.formatting import role_label
from app.ui.widgets import label, only_default, row
from core.routing import ROLES, RoutingSettingsError, RuleKind, parse_rule

KIND_TITLES = {
    RuleKind.SERVICE: "Service interest",
    RuleKind.VIP: "VIP client to a senior",
    RuleKind.ROUND_ROBIN: "Round robin on shift",
    RuleKind.FEWEST_OPEN: "Fewest open leads",
}
KIND_HELP = {
    RuleKind.SERVICE: "Leads whose service interest mentions one of these words go to these people.",
    RuleKind.VIP: "Leads from VIP clients go to these people (a senior: the manager, an owner).",
    RuleKind.ROUND_ROBIN: "Every lead goes to whoever of these people, on shift, has waited longest for one.",
    RuleKind.FEWEST_OPEN: "Every lead goes to whoever of these people, on shift, has the fewest open leads.",
}
PICKS = (("fewest_open", "Fewest open leads"), ("round_robin", "Longest waiting (round robin)"))


class RuleDialog(QDialog):
    """Edit ``rule`` (the stored form, staff by id); ``result_rule`` holds it after Save."""

    def __init__(self, rule: dict[str, Any], staff: list[dict[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = RuleKind(rule["kind"])
        self.result_rule: dict[str, Any] | None = None
        self.setObjectName("RuleDialog")
        self.setWindowTitle(KIND_TITLES[self.kind])
        self.setMinimumWidth(640)
        self.words = QLineEdit(", ".join(rule.get("match", [])))
        self.words.setObjectName("RuleWords")
        self.words.setPlaceholderText("laser, ipl, hair removal")
        self.people = QListWidget()
        self.people.setObjectName("RulePeople")
        self.people.setMaximumHeight(170)
        chosen = set(rule.get("staff", []))
        for person in staff:
            item = QListWidgetItem(f"{person['name']}  \u00b7  {role_label(person['role'])}")
            item.setData(Qt.ItemDataRole.UserRole, person["id"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if person["id"] in chosen else Qt.CheckState.Unchecked)
            self.people.addItem(item)
        self.roles: dict[str, QCheckBox] = {}
        for role in ROLES:
            box = QCheckBox(role_label(role))
            box.setObjectName(f"RuleRole_{role}")
            box.setChecked(role in rule.get("roles", []))
            self.roles[role] = box
        self.pick = QComboBox()
        self.pick.setObjectName("RulePick")
        for value, text in PICKS:
            self.pick.addItem(text, value)
        self.pick.setCurrentIndex(max(self.pick.findData(rule.get("pick", "fewest_open")), 0))
        self.error = label("", name="FormError", wrap=True)
        self.error.hide()
        save = QPushButton("Done")
        save.setObjectName("RuleDone")
        save.setProperty("kind", "primary")
        save.clicked.connect(self.accept_rule)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(10)
        layout.addWidget(label(KIND_TITLES[self.kind], name="DialogTitle"))
        layout.addWidget(label(KIND_HELP[self.kind], kind="subtitle", wrap=True))
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(8)
        r = 0
        if self.kind is RuleKind.SERVICE:
            grid.addWidget(label("Service interest mentions", kind="field-label"), r, 0)
            grid.addWidget(self.words, r, 1)
            r += 1
        grid.addWidget(label("Goes to", kind="field-label"), r, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.people, r, 1)
        r += 1
        roles = QGridLayout()
        for i, box in enumerate(self.roles.values()):
            roles.addWidget(box, i // 3, i % 3)
        grid.addWidget(label("or anyone who is a", kind="field-label"), r, 0, Qt.AlignmentFlag.AlignTop)
        grid.addLayout(roles, r, 1)
        r += 1
        if self.kind in (RuleKind.SERVICE, RuleKind.VIP):
            grid.addWidget(label("Choose among them by", kind="field-label"), r, 0)
            grid.addWidget(self.pick, r, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        layout.addWidget(label("Only people on shift are chosen; their working hours are set under Staff.",
                               kind="muted", wrap=True))
        layout.addWidget(self.error)
        layout.addLayout(row(None, cancel, save, stretch_end=False))
        only_default(self, save)

    def rule(self) -> dict[str, Any]:
        """The rule as typed (not yet checked)."""
        out: dict[str, Any] = {"kind": self.kind.value}
        staff = [str(self.people.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.people.count())
                 if self.people.item(i).checkState() == Qt.CheckState.Checked]
        roles = [r for r, box in self.roles.items() if box.isChecked()]
        if staff:
            out["staff"] = staff
        if roles:
            out["roles"] = roles
        if self.kind is RuleKind.SERVICE:
            out["match"] = [w.strip().lower() for w in self.words.text().replace(";", ",").split(",") if w.strip()]
        if self.kind in (RuleKind.SERVICE, RuleKind.VIP):
            out["pick"] = str(self.pick.currentData())
        return out

    def accept_rule(self) -> None:
        rule = self.rule()
        self.words.setProperty("invalid", False)
        try:
            parse_rule(rule, 1)
        except RoutingSettingsError as exc:
            message = str(exc).replace("Rule 1 ", "This rule ").replace("Rule 1: ", "")
            if exc.field and exc.field.endswith(".match"):
                self.words.setProperty("invalid", True)
                message = "List the words to look for in the service interest, such as laser."
            elif exc.field and exc.field.endswith(".staff"):
                message = "Choose who this rule gives leads to: a person or a role."
            self.words.style().polish(self.words)
            self.error.setText(message)
            self.error.show()
            return
        self.result_rule = rule
        self.accept()
