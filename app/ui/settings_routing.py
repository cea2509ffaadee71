"""Settings > Lead routing (owners and managers): how new leads are shared out and how fast they
must be answered, as a clinic manager thinks of it: a reply deadline per lead source, how long a
claim lasts without contact, the assignment rules in order (service interest, VIP to a senior,
round robin on shift, fewest open leads), who gets a lead nobody else can take, and who hears
about a missed reply.

The rules are the server's (it routes the leads): the page reads them from the clinic server and
saves them there (:meth:`app.ui.server_actions.ServerActions.lead_routing`, network pool; never
on the UI thread). Offline, it says that routing can be changed only when connected. A save
based on rules someone else has changed since is refused (409): the page reloads theirs and says
so. Input is checked with :func:`core.routing.parse_policy` before anything is sent, and the
server's own refusal (naming a field) is shown the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme
from app.ui.errors import user_message
from app.ui.formatting import SOURCE_LABELS, role_label
from app.ui.routing_rule_dialog import KIND_TITLES, PICKS, RuleDialog
from app.ui.widgets import FlowLayout, label, row
from core.routing import (
    CLOCK,
    MAX_CLAIM_MINUTES,
    MAX_SLA_MINUTES,
    NEXT_OPENING,
    RoutingSettingsError,
    RuleKind,
    parse_policy,
)

if TYPE_CHECKING:  # the sync client loads with the first request (start-up stays light)
    from app.sync.requests import RoutingSheet

#: the sources a clinic sees, in the order a manager thinks of them
SOURCES = ("meta_lead_ad", "instagram_dm", "google_ads", "web_form", "sms", "phone", "referral", "manual",
           "walk_in")
OFFLINE = ("Lead routing can be changed only when this workstation is connected to the clinic server. "
           "It cannot reach the server right now; try again once it is back online.")
CHANGED = ("Someone else changed the lead routing while you were editing. The page now shows their "
           "rules; make your changes again and save.")


def _source_label(source: str) -> str:
    return {"sms": "Text message (SMS)", "manual": "Added by staff"}.get(source, SOURCE_LABELS.get(source, source))


def describe_rule(rule: dict[str, Any], names: dict[str, str]) -> str:
    """``Service interest: laser, ipl  \u2192  Elena Rossi, Jasmine Okafor (fewest open leads)``."""
    kind = RuleKind(rule["kind"])
    head = KIND_TITLES[kind]
    if kind is RuleKind.SERVICE:
        head += ": " + ", ".join(rule.get("match", []))
    who = [names.get(i, "someone no longer here") for i in rule.get("staff", [])]
    who += [f"any {role_label(r).lower()}" for r in rule.get("roles", [])]
    text = f"{head}  \u2192  {', '.join(who)}"
    if kind in (RuleKind.SERVICE, RuleKind.VIP) and (len(rule.get("staff", [])) > 1 or rule.get("roles")):
        text += f"  ({dict(PICKS)[rule.get('pick', 'fewest_open')].lower()})"
    return text


def _card(title: str, blurb: str) -> tuple[QFrame, QVBoxLayout]:
    card = QFrame()
    card.setObjectName("Card")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(18, 16, 18, 16)
    layout.setSpacing(10)
    layout.addWidget(label(title, kind="section"))
    layout.addWidget(label(blurb, kind="muted", wrap=True))
    return card, layout


class LeadRoutingSection(QWidget):
    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LeadRouting")
        self.desk = desk
        self.sheet: RoutingSheet | None = None
        self.rules: list[dict[str, Any]] = []
        self.busy = False
        self.dialog: RuleDialog | None = None

        self.save_button = QPushButton(theme.icon("check", "on-accent"), "Save")
        self.save_button.setObjectName("SaveRouting")
        self.save_button.setProperty("kind", "primary")
        self.save_button.clicked.connect(self.save)
        self.discard = QPushButton("Discard changes")
        self.discard.setObjectName("DiscardRouting")
        self.discard.clicked.connect(self.load)
        self.notice = label("", name="RoutingNotice", wrap=True)
        self.notice.hide()
        self.retry = QPushButton(theme.icon("refresh", "text2"), "Try again")
        self.retry.setObjectName("RetryRouting")
        self.retry.clicked.connect(self.load)
        self.retry.hide()

        self.body = QWidget()
        columns = QGridLayout(self.body)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.setHorizontalSpacing(16)
        columns.addWidget(self._rules_card(), 0, 0)
        times = self._times_card()
        times.setFixedWidth(330)
        columns.addWidget(times, 0, 1)
        columns.setColumnStretch(0, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(row(label("Lead routing", name="DialogTitle"), None, self.discard, self.save_button,
                             stretch_end=False))
        layout.addWidget(label("Who gets each new lead and how fast it must be answered. The clinic server "
                               "applies these rules to every workstation, from the next lead on.",
                               kind="subtitle", wrap=True))
        layout.addLayout(row(self.notice, self.retry))
        layout.addWidget(self.body, 1)
        self._set_enabled(False)

    # --- the two cards ------------------------------------------------------------------------

    def _rules_card(self) -> QFrame:
        card, layout = _card("Who gets a new lead", "Rules are tried from the top; the first one with "
                             "someone on shift decides.")
        self.rule_list = QListWidget()
        self.rule_list.setObjectName("RoutingRules")
        self.rule_list.setMinimumHeight(150)
        self.rule_list.setWordWrap(True)
        self.rule_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.rule_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.rule_list.itemDoubleClicked.connect(lambda _i: self.edit_rule())
        self.rule_list.currentRowChanged.connect(lambda _r: self._rule_buttons())
        layout.addWidget(self.rule_list, 1)
        self.add_rule = QPushButton(theme.icon("plus", "text2"), "Add rule")
        self.add_rule.setObjectName("AddRule")
        menu = QMenu(self.add_rule)
        for kind in RuleKind:
            action = menu.addAction(KIND_TITLES[kind])
            action.setObjectName(f"AddRule_{kind.value}")
            action.triggered.connect(lambda _c=False, k=kind: self.new_rule(k))
        self.add_rule.setMenu(menu)
        self.edit_button = QPushButton(theme.icon("edit", "text2"), "Edit")
        self.edit_button.setObjectName("EditRule")
        self.edit_button.clicked.connect(self.edit_rule)
        self.up = QPushButton("Move up")
        self.up.setObjectName("RuleUp")
        self.up.clicked.connect(lambda: self.move_rule(-1))
        self.down = QPushButton("Move down")
        self.down.setObjectName("RuleDown")
        self.down.clicked.connect(lambda: self.move_rule(1))
        self.remove = QPushButton("Remove")
        self.remove.setObjectName("RemoveRule")
        self.remove.clicked.connect(self.remove_rule)
        buttons = QWidget()
        flow = FlowLayout(buttons, spacing=6)  # a second line rather than cut words on a laptop
        for button in (self.add_rule, self.edit_button, self.up, self.down, self.remove):
            flow.addWidget(button)
        layout.addWidget(buttons)
        self.fallback = QComboBox()
        self.fallback.setObjectName("RoutingFallback")
        self.escalate = QComboBox()
        self.escalate.setObjectName("RoutingEscalation")
        layout.addSpacing(4)
        layout.addWidget(label("If no rule finds anyone on shift, the lead goes to", kind="field-label"))
        layout.addWidget(self.fallback)
        layout.addWidget(label("A missed first reply is escalated to", kind="field-label"))
        layout.addWidget(self.escalate)
        return card

    def _times_card(self) -> QFrame:
        card, layout = _card("Reply deadlines", "The first reply to a new lead is due this many minutes after "
                             "it arrives; a lead past its deadline is escalated.")
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(6)
        self.sla: dict[str, QSpinBox] = {}
        for i, source in enumerate(SOURCES):
            spin = QSpinBox()
            spin.setObjectName(f"Sla_{source}")
            spin.setRange(0, MAX_SLA_MINUTES)
            spin.setSpecialValueText("No deadline")
            spin.setSuffix(" min")
            spin.setFixedWidth(120)
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            self.sla[source] = spin
            grid.addWidget(label(_source_label(source)), i, 0)
            grid.addWidget(spin, i, 1)
        grid.setColumnStretch(0, 1)
        layout.addLayout(grid)
        layout.addSpacing(6)
        self.claim = QSpinBox()
        self.claim.setObjectName("ClaimMinutes")
        self.claim.setRange(1, MAX_CLAIM_MINUTES)
        self.claim.setSuffix(" min")
        self.claim.setFixedWidth(120)
        self.claim.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.after_hours = QComboBox()
        self.after_hours.setObjectName("AfterHours")
        self.after_hours.addItem("Start the clock when the clinic opens", NEXT_OPENING)
        self.after_hours.addItem("Start the clock when the lead arrives", CLOCK)
        more = QGridLayout()
        more.setHorizontalSpacing(12)
        more.setVerticalSpacing(8)
        more.addWidget(label("A claim lapses after", kind="field-label"), 0, 0)
        more.addWidget(self.claim, 0, 1)
        more.addWidget(label("without a text or a call from whoever claimed the lead.", kind="muted", wrap=True),
                       1, 0, 1, 2)
        more.addWidget(label("Leads that arrive after hours", kind="field-label"), 2, 0, 1, 2)
        more.addWidget(self.after_hours, 3, 0, 1, 2)
        more.setColumnStretch(0, 1)
        layout.addLayout(more)
        layout.addStretch(1)
        return card

    # --- loading ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self.sheet is None and not self.busy:
            self.load()

    def load(self) -> None:
        self.busy = True
        self._set_enabled(False)
        self._say("Loading the clinic's lead routing\u2026", "muted")
        self.desk.server.lead_routing(on_success=self._show, on_failure=self._load_failed)

    def show_sheet(self, sheet: RoutingSheet) -> None:
        """Show ``sheet`` as if the clinic server had sent it (the screen catalog's demo clinic)."""
        self._show(sheet)

    def _show(self, sheet: RoutingSheet, notice: str | None = None, tone: str = "ok") -> None:
        self.busy = False
        self.sheet = sheet
        stored = sheet.lead_routing
        self.rules = [dict(r) for r in stored.get("rules", [])]
        names = self._names()
        for source, spin in self.sla.items():
            overrides = stored.get("sla_minutes", {})
            value = overrides[source] if source in overrides else sheet.default_sla_minutes.get(source, sheet.default_sla)
            spin.setValue(value or 0)
        self.claim.setValue(int(stored.get("claim_minutes", 10)))
        self.after_hours.setCurrentIndex(max(self.after_hours.findData(stored.get("after_hours", NEXT_OPENING)), 0))
        self.fallback.clear()
        self.fallback.addItem("Nobody: the lead waits, unassigned, for someone to claim it", None)
        self.escalate.clear()
        self.escalate.addItem("The managers, then the owners", [])
        for person in sheet.staff:
            text = f"{person['name']}  \u00b7  {role_label(person['role'])}"
            self.fallback.addItem(text, person["id"])
            self.escalate.addItem(text, [person["id"]])
        self.fallback.setCurrentIndex(max(self.fallback.findData(stored.get("fallback")), 0))
        escalate = list(stored.get("escalate_to", []))
        if len(escalate) > 1:
            self.escalate.addItem(", ".join(names.get(i, "?") for i in escalate), escalate)
        found = next((i for i in range(self.escalate.count()) if self.escalate.itemData(i) == escalate), 0)
        self.escalate.setCurrentIndex(found)
        self._fill_rules()
        self._set_enabled(True)
        self._mark(None)
        if notice:
            self._say(notice, tone)
        else:
            self.notice.hide()
        self.retry.hide()

    def _load_failed(self, exc: BaseException) -> None:
        from app.sync.requests import NeedsServer  # loaded by the request that failed

        self.busy = False
        if isinstance(exc, NeedsServer):
            self._say(OFFLINE if "offline" in exc.user_message or "could not" in exc.user_message
                      else exc.user_message, "warn")
        else:
            self._say(user_message(exc), "danger")
        self.retry.show()
        self._set_enabled(False)

    # --- rules ----------------------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        return {p["id"]: p["name"] for p in (self.sheet.staff if self.sheet else [])}

    def _fill_rules(self, select: int | None = None) -> None:
        names = self._names()
        self.rule_list.clear()
        for number, rule in enumerate(self.rules, start=1):
            item = QListWidgetItem(f"{number}.  {describe_rule(rule, names)}")
            self.rule_list.addItem(item)
        if not self.rules:
            empty = QListWidgetItem("No rules: every lead goes to the fallback below, or waits to be claimed.")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.rule_list.addItem(empty)
        elif select is not None:
            self.rule_list.setCurrentRow(max(0, min(select, len(self.rules) - 1)))
        self._rule_buttons()

    def _rule_buttons(self) -> None:
        current = self.rule_list.currentRow() if self.rules else -1
        enabled = self.sheet is not None and not self.busy
        self.edit_button.setEnabled(enabled and current >= 0)
        self.remove.setEnabled(enabled and current >= 0)
        self.up.setEnabled(enabled and current > 0)
        self.down.setEnabled(enabled and 0 <= current < len(self.rules) - 1)

    def new_rule(self, kind: RuleKind) -> None:
        rule: dict[str, Any] = {"kind": kind.value}
        if kind in (RuleKind.ROUND_ROBIN, RuleKind.FEWEST_OPEN):
            rule["roles"] = ["front_desk"]
        elif kind is RuleKind.VIP:
            rule["roles"] = ["manager"]
        self._open_rule(rule, None)

    def edit_rule(self) -> None:
        current = self.rule_list.currentRow()
        if 0 <= current < len(self.rules):
            self._open_rule(self.rules[current], current)

    def _open_rule(self, rule: dict[str, Any], index: int | None) -> None:
        if self.sheet is None:
            return
        dialog = RuleDialog(rule, self.sheet.staff, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def done() -> None:
            if dialog.result_rule is None:
                return
            if index is None:
                self.rules.append(dialog.result_rule)
            else:
                self.rules[index] = dialog.result_rule
            self._fill_rules(len(self.rules) - 1 if index is None else index)
            self._mark(None)

        dialog.accepted.connect(done)
        dialog.destroyed.connect(lambda *_: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()

    def move_rule(self, step: int) -> None:
        current = self.rule_list.currentRow()
        target = current + step
        if 0 <= current < len(self.rules) and 0 <= target < len(self.rules):
            self.rules[current], self.rules[target] = self.rules[target], self.rules[current]
            self._fill_rules(target)

    def remove_rule(self) -> None:
        current = self.rule_list.currentRow()
        if 0 <= current < len(self.rules):
            del self.rules[current]
            self._fill_rules(current)

    # --- saving ---------------------------------------------------------------------------------

    def routing(self) -> dict[str, Any]:
        """The page's settings in the stored form (reply times listed only where they differ
        from the defaults)."""
        assert self.sheet is not None
        sla: dict[str, int | None] = {}
        for source, spin in self.sla.items():
            value = spin.value() or None
            if value != self.sheet.default_sla_minutes.get(source, self.sheet.default_sla):
                sla[source] = value
        out: dict[str, Any] = {"rules": self.rules, "claim_minutes": self.claim.value(), "sla_minutes": sla,
                               "after_hours": self.after_hours.currentData()}
        if self.fallback.currentData():
            out["fallback"] = self.fallback.currentData()
        if self.escalate.currentData():
            out["escalate_to"] = list(self.escalate.currentData())
        return out

    def save(self) -> None:
        if self.sheet is None or self.busy:
            return
        routing = self.routing()
        try:
            parse_policy(routing)
        except RoutingSettingsError as exc:
            self._refused(exc.user_message, exc.field)
            return
        self.busy = True
        self._set_enabled(False)
        self._say("Saving\u2026", "muted")
        self.desk.server.save_lead_routing(self.sheet.version, routing, on_success=self._saved,
                                           on_failure=self._save_failed)

    def _saved(self, sheet: RoutingSheet) -> None:
        self._show(sheet, "Saved. The clinic server routes the next lead with these rules.", "ok")

    def _save_failed(self, exc: BaseException) -> None:
        from app.sync.requests import ActionRefused, NeedsServer  # loaded by the request that failed

        self.busy = False
        self._set_enabled(True)
        if isinstance(exc, ActionRefused) and exc.status == 409:
            self.busy = True
            self.desk.server.lead_routing(on_success=lambda s: self._show(s, CHANGED, "warn"),
                                          on_failure=self._load_failed)
        elif isinstance(exc, ActionRefused) and exc.status == 422:
            self._refused(exc.user_message, exc.field)
        elif isinstance(exc, NeedsServer):
            self._say(OFFLINE + " Your changes are still on this page.", "warn")
        else:
            self._say(user_message(exc), "danger")

    def _refused(self, message: str, field: str | None) -> None:
        self._say(message, "danger")
        self._mark(field)

    def _mark(self, field: str | None) -> None:
        """Outline the control ``field`` names (``claim_minutes``, ``sla_minutes.web_form``,
        ``rules[2].staff``, ``fallback``...); None clears the marks."""
        widgets: list[QWidget] = [self.claim, self.after_hours, self.fallback, self.escalate, self.rule_list,
                                  *self.sla.values()]
        target: QWidget | None = None
        if field:
            head = field.split(".")[0].split("[")[0]
            if head == "sla_minutes" and "." in field:
                target = self.sla.get(field.split(".", 1)[1])
            elif head == "rules":
                target = self.rule_list
                number = field.split("[", 1)[1].split("]")[0] if "[" in field else ""
                if number.isdigit():
                    self.rule_list.setCurrentRow(int(number) - 1)
            else:
                target = {"claim_minutes": self.claim, "after_hours": self.after_hours, "fallback": self.fallback,
                          "escalate_to": self.escalate}.get(head)
        for widget in widgets:
            widget.setProperty("invalid", widget is target)
            widget.style().polish(widget)
        if target is not None:
            target.setFocus()

    # --- chrome ---------------------------------------------------------------------------------

    def _say(self, text: str, tone: str) -> None:
        self.notice.setText(text)
        self.notice.setProperty("tone", tone)
        self.notice.style().polish(self.notice)
        self.notice.show()

    def _set_enabled(self, on: bool) -> None:
        self.body.setEnabled(on)
        self.save_button.setEnabled(on)
        self.discard.setEnabled(on)
        self._rule_buttons()
