"""The navigation rail: the screens this person may use (core's permission table decides), who
is signed in, and Lock / Switch user."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui import theme
from app.ui.formatting import role_label
from app.ui.widgets import icon_label, label, row
from core.permissions import Permission, has_permission


@dataclass(frozen=True)
class PageSpec:
    key: str
    title: str
    icon: str
    permission: Permission
    shortcut: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("today", "Today", "calendar", Permission.APPOINTMENT_READ, "Ctrl+1"),
    PageSpec("clients", "Clients", "users", Permission.PATIENT_READ, "Ctrl+2"),
    PageSpec("leads", "Leads", "inbox", Permission.LEAD_READ, "Ctrl+3"),
    PageSpec("duplicates", "Duplicates", "clipboard", Permission.PATIENT_MERGE, "Ctrl+4"),
    PageSpec("settings", "Settings", "settings", Permission.SETTINGS_MANAGE, "Ctrl+,"),
)


def pages_for(role: str | None) -> list[PageSpec]:
    """The screens ``role`` may open (``None``: the system, all of them)."""
    return [p for p in PAGES if role is None or has_permission(role, p.permission)]


class NavRail(QFrame):
    page_requested = Signal(str)
    lock_requested = Signal()
    switch_requested = Signal()

    def __init__(self, clinic_name: str, *, demo: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NavRail")
        self.setFixedWidth(212)
        self.buttons: dict[str, QPushButton] = {}
        self.badges: dict[str, QLabel] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 16, 12, 14)
        layout.setSpacing(4)
        brand = row(icon_label("glowdesk", size=28, color=None), label("Glowdesk", name="NavBrand"), spacing=10)
        layout.addLayout(brand)
        clinic = label(clinic_name, name="NavClinic", wrap=True)
        layout.addWidget(clinic)
        if demo:
            layout.addLayout(row(label("Demo clinic", kind="nav-chip")))
        layout.addSpacing(18)
        for spec in PAGES:
            button = QPushButton(theme.icon(spec.icon, "nav-text"), f"  {spec.title}")
            button.setObjectName("NavButton")
            button.setCheckable(True)
            button.setIconSize(QSize(18, 18))
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setToolTip(f"{spec.title} ({spec.shortcut})")
            button.clicked.connect(lambda _checked=False, key=spec.key: self.page_requested.emit(key))
            group.addButton(button)
            layout.addWidget(button)
            self.buttons[spec.key] = button
        layout.addStretch(1)
        line = QFrame()
        line.setObjectName("NavSeparator")
        layout.addWidget(line)
        layout.addSpacing(8)
        self.user_name = label("", name="NavUserName", wrap=True)
        self.user_role = label("", name="NavUserRole")
        layout.addWidget(self.user_name)
        layout.addWidget(self.user_role)
        layout.addSpacing(8)
        self.lock = QPushButton(theme.icon("lock", "nav-text"), "  Lock screen")
        self.switch = QPushButton(theme.icon("switch", "nav-text"), "  Switch user")
        for button, signal, tip in ((self.lock, self.lock_requested, "Ctrl+L"),
                                    (self.switch, self.switch_requested, "Ctrl+Shift+L")):
            button.setObjectName("NavAction")
            button.setIconSize(QSize(16, 16))
            button.setToolTip(tip)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.clicked.connect(signal.emit)
            layout.addWidget(button)

    def apply(self, role: str | None, name: str, title: str = "") -> None:
        allowed = {p.key for p in pages_for(role)}
        for key, button in self.buttons.items():
            button.setVisible(key in allowed)
        self.user_name.setText(name)
        self.user_role.setText(title or role_label(role) or "System")

    def set_badge(self, key: str, count: int, tip: str = "") -> None:
        """A count on a screen's button (unread messages on Clients); 0 hides it."""
        button = self.buttons.get(key)
        if button is None:
            return
        badge = self.badges.get(key)
        if badge is None:
            badge = QLabel(button)
            badge.setObjectName("NavBadge")
            badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
            badge.setFixedHeight(20)
            line = QHBoxLayout(button)
            line.setContentsMargins(0, 0, 10, 0)
            line.addStretch(1)
            line.addWidget(badge, 0, Qt.AlignmentFlag.AlignVCenter)
            self.badges[key] = badge
        badge.setText(str(count) if count < 100 else "99+")
        badge.setVisible(count > 0)
        spec = next(p for p in PAGES if p.key == key)
        button.setToolTip(f"{spec.title} ({spec.shortcut})" + (f" — {tip}" if tip and count else ""))

    def badge(self, key: str) -> int:
        badge = self.badges.get(key)
        if badge is None or badge.isHidden() or not badge.text():
            return 0
        return 100 if badge.text() == "99+" else int(badge.text())

    def set_current(self, key: str) -> None:
        if key in self.buttons:
            self.buttons[key].setChecked(True)

    def visible_pages(self) -> list[str]:
        return [k for k, b in self.buttons.items() if b.isVisibleTo(self)]
