"""Signing in on a shared workstation: pick your name, type your PIN, Enter.

The screen also serves the idle lock and quick user switching: locked, it names who was signed in
and has them chosen already; switching, nobody is chosen. A wrong PIN says so plainly, clears the
PIN and stays here; after :data:`MAX_TRIES` wrong PINs in a row the screen waits
:data:`COOL_DOWN_S` seconds before the next try.
"""

from __future__ import annotations

import hashlib
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.services.staff import SignInChoice
from app.ui import theme
from app.ui.errors import user_message
from app.ui.formatting import role_label
from app.ui.operations import Op
from app.ui.widgets import AVATAR_COLORS, icon_label, label

MAX_TRIES = 5
COOL_DOWN_S = 30
STAFF_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


def initials(name: str) -> str:
    parts = [p for p in name.replace(".", " ").split() if p[:1].isalpha() and p.lower() not in ("dr", "mr", "ms")]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def staff_color(choice: SignInChoice) -> str:
    if choice.color:
        return choice.color
    return AVATAR_COLORS[int(hashlib.sha1(choice.staff_id.encode()).hexdigest(), 16) % len(AVATAR_COLORS)]


class StaffDelegate(QStyledItemDelegate):
    """A staff member as a round badge with initials, the name, and the role below."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        if opt.widget is not None:
            opt.widget.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        choice: SignInChoice = index.data(STAFF_ROLE)
        rect = opt.rect.adjusted(10, 6, -10, -6)
        size = rect.height()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        color = QColor(staff_color(choice))
        painter.setBrush(color)
        painter.drawEllipse(rect.x(), rect.y(), size, size)
        small = QFont(opt.font)
        small.setPointSizeF(max(opt.font.pointSizeF() - 1, 7.5))
        small.setWeight(QFont.Weight.DemiBold)
        painter.setFont(small)
        painter.setPen(QColor("#ffffff") if color.lightness() < 170 else QColor("#3b2a8a"))
        painter.drawText(QRect(rect.x(), rect.y(), size, size), Qt.AlignmentFlag.AlignCenter, initials(choice.name))
        bold = QFont(opt.font)
        bold.setWeight(QFont.Weight.DemiBold)
        line = QFontMetrics(bold).height()
        text_x = rect.x() + size + 12
        width = rect.right() - text_x
        painter.setFont(bold)
        painter.setPen(theme.qcolor("text"))
        painter.drawText(QRect(text_x, rect.center().y() - line, width, line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, choice.name)
        small.setWeight(QFont.Weight.Normal)
        painter.setFont(small)
        painter.setPen(theme.qcolor("muted"))
        painter.drawText(QRect(text_x, rect.center().y() + 1, width, line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, role_label(choice.role))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(option.rect.width(), 50)


class _StaffList(QListWidget):
    """Digits typed here go to the PIN field; Enter moves there."""

    digit_typed = Signal(str)
    chosen = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.text().isdigit():
            self.digit_typed.emit(event.text())
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.chosen.emit()
            return
        super().keyPressEvent(event)


class SignInScreen(QWidget):
    """``signed_in(actor)`` when a PIN matched; ``choices_shown(count)`` when the staff list is in."""

    signed_in = Signal(object)
    choices_shown = Signal(int)

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SignInScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._desk = desk
        self._choices: list[SignInChoice] = []
        self._preselect: str | None = None
        self._op: Op | None = None
        self._failures = 0
        self._cool = QTimer(self)
        self._cool.setSingleShot(True)
        self._cool.timeout.connect(self._cooled)

        self.staff = _StaffList()
        self.staff.setObjectName("StaffList")
        self.staff.setItemDelegate(StaffDelegate(self.staff))
        self.staff.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.staff.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.staff.currentItemChanged.connect(lambda *_: self._chose())
        self.staff.digit_typed.connect(self._digit)
        self.staff.chosen.connect(lambda: self.pin.setFocus())
        self.staff.itemDoubleClicked.connect(lambda _item: self.pin.setFocus())

        self.who = label("Choose your name", name="SignInWho")
        self.role = label("", name="PageSubtitle")
        self.banner = QFrame()
        self.banner.setObjectName("LockedBanner")
        banner_line = QHBoxLayout(self.banner)
        banner_line.setContentsMargins(12, 8, 12, 8)
        banner_line.addWidget(icon_label("lock", size=16, color="accent-text"))
        self.banner_text = label("", wrap=True)
        banner_line.addWidget(self.banner_text, 1)
        self.banner.hide()
        self.pin = QLineEdit()
        self.pin.setObjectName("PinField")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(6)
        self.pin.setPlaceholderText("PIN")
        self.pin.setAccessibleName("PIN")
        self.pin.setValidator(QRegularExpressionValidator(r"\d{0,6}", self.pin))
        self.pin.returnPressed.connect(self.submit)
        self.pin.textEdited.connect(lambda _t: self.error.hide())
        self.button = QPushButton("Sign in")
        self.button.setObjectName("SignInButton")
        self.button.setProperty("kind", "primary")
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        self.error = label("", name="SignInError", wrap=True)
        self.error.hide()
        self.hint = label("", name="SignInHint", wrap=True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.hint.setVisible(bool(desk.is_demo))
        if desk.is_demo:
            self.hint.setText("Demo clinic \u2014 Olivia Owens (owner) signs in with 1234, Felix Park (front desk) "
                              "with 5555. Every demo PIN is in the staff guide.")
        self._layout()

    def _layout(self) -> None:
        left = QVBoxLayout()
        left.setSpacing(10)
        brand = QHBoxLayout()
        brand.setSpacing(10)
        brand.addWidget(icon_label("glowdesk", size=32, color=None))
        brand.addWidget(label(self._desk.clinic.name, name="SignInClinic"), 1)
        left.addLayout(brand)
        left.addSpacing(6)
        left.addWidget(label("Who\u2019s signing in?", kind="section"))
        left.addWidget(self.staff, 1)
        right = QVBoxLayout()
        right.setSpacing(10)
        right.addWidget(label("Sign in", name="SignInTitle"))
        right.addWidget(label("Glowdesk keeps client records locked until a staff member signs in with "
                              "their PIN.", kind="subtitle", wrap=True))
        right.addSpacing(12)
        right.addWidget(self.banner)
        right.addWidget(self.who)
        right.addWidget(self.role)
        right.addSpacing(4)
        right.addWidget(self.pin)
        right.addWidget(self.error)
        right.addWidget(self.button)
        right.addStretch(1)
        right.addWidget(label("Lock the screen with Ctrl+L when you step away. It locks by itself after a few "
                              "idle minutes.", name="SignInNote", wrap=True))
        card = QFrame()
        card.setObjectName("SignInCard")
        card.setFixedSize(820, 500)
        body = QHBoxLayout(card)
        body.setContentsMargins(28, 28, 32, 28)
        body.setSpacing(32)
        left_box, right_box = QWidget(), QWidget()
        left_box.setLayout(left)
        right_box.setLayout(right)
        left_box.setFixedWidth(330)
        body.addWidget(left_box)
        body.addWidget(right_box, 1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addSpacing(14)
        self.hint.setFixedWidth(820)
        outer.addWidget(self.hint, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(1)

    # --- public -------------------------------------------------------------------------------

    def prepare(self, *, previous: tuple[str, str] | None = None, reason: str = "") -> None:
        """Show the screen fresh: ``previous`` (staff id, name) is chosen already (a lock)."""
        self.pin.clear()
        self.error.hide()
        self._preselect = previous[0] if previous else None
        self.staff.setCurrentRow(-1)
        self.staff.clearSelection()
        if self._preselect:
            self.choose(self._preselect)  # at once from the list shown; the reload below keeps it
        self.banner.setVisible(bool(reason))
        self.banner_text.setText(reason)
        self.reload()

    def reload(self) -> None:
        self._desk.sign_in_choices(on_success=self._got_choices)

    @property
    def current(self) -> SignInChoice | None:
        item = self.staff.currentItem()
        return item.data(STAFF_ROLE) if item is not None else None

    def choose(self, staff_id: str) -> None:
        for i in range(self.staff.count()):
            if self.staff.item(i).data(STAFF_ROLE).staff_id == staff_id:
                self.staff.setCurrentRow(i)
                return

    def submit(self) -> None:
        choice = self.current
        if self._cool.isActive() or (self._op is not None and not self._op.done):
            return
        if choice is None:
            self._say("Choose your name in the list first.")
            return
        pin = self.pin.text()
        if not pin:
            self._say("Enter your PIN.")
            self.pin.setFocus()
            return
        self.button.setEnabled(False)
        self._op = self._desk.sign_in(choice.staff_id, pin, on_success=self._success, on_failure=self._failure)

    @property
    def busy(self) -> bool:
        return self._op is not None and not self._op.done

    # --- answers ------------------------------------------------------------------------------

    def _got_choices(self, choices: list[SignInChoice]) -> None:
        keep = self._preselect or (self.current.staff_id if self.current else None)
        self._choices = choices
        self.staff.clear()
        for choice in choices:
            item = QListWidgetItem(choice.name)
            item.setData(STAFF_ROLE, choice)
            item.setToolTip(choice.title or role_label(choice.role))
            self.staff.addItem(item)
        if not choices:
            self._say("No staff are set up on this workstation yet. Sync with the clinic's server, "
                      "or ask an administrator.")
        if keep:
            self.choose(keep)
        if self.current is not None:
            self.pin.setFocus()
        else:
            self.staff.setFocus()
            self._chose()
        self.choices_shown.emit(len(choices))

    def _chose(self) -> None:
        choice = self.current
        self.who.setText(choice.name if choice else "Choose your name")
        self.role.setText((choice.title or role_label(choice.role)) if choice else
                          "Pick yourself in the list, then type your PIN.")
        self.pin.clear()
        self.error.hide()
        if choice is not None and not choice.has_pin:
            self._say("No PIN is set for you yet. Ask a manager to set one in Settings \u2192 Staff.")

    def _digit(self, digit: str) -> None:
        self.pin.setFocus()
        self.pin.insert(digit)

    def _success(self, actor: Any) -> None:
        self._failures = 0
        self.button.setEnabled(True)
        self.pin.clear()
        self.error.hide()
        self.signed_in.emit(actor)

    def _failure(self, exc: BaseException) -> None:
        self.button.setEnabled(True)
        self._failures += 1
        self.pin.clear()
        self.pin.setFocus()
        if self._failures >= MAX_TRIES:
            self._failures = 0
            self.button.setEnabled(False)
            self.pin.setEnabled(False)
            self._cool.start(COOL_DOWN_S * 1000)
            self._say(f"Too many wrong PINs. Wait {COOL_DOWN_S} seconds, then try again.")
            return
        self._say(user_message(exc))

    def _cooled(self) -> None:
        self.button.setEnabled(True)
        self.pin.setEnabled(True)
        self.error.hide()
        self.pin.setFocus()

    def _say(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
