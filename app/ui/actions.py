"""Every user command as a QAction in one registry keyed by :class:`ActionId`.

Menus, toolbars and shortcuts are built from the registry, never wired by hand in a window.
An action that needs a permission is hidden from roles without it (core's permission table).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum, auto

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

from app.ui import theme
from core.permissions import Permission, has_permission

Key = QKeySequence.StandardKey


class ActionId(Enum):
    FIND = auto()
    NEW_PATIENT = auto()
    EDIT_PATIENT = auto()
    OPEN_RECORD = auto()
    CLOSE_RECORD = auto()
    REFRESH = auto()
    GO_TODAY = auto()
    GO_CLIENTS = auto()
    GO_LEADS = auto()
    GO_DUPLICATES = auto()
    GO_SETTINGS = auto()
    SIGN_CHART = auto()
    COSIGN_CHART = auto()
    IMPORT_CLIENTS = auto()
    SYNC_NOW = auto()
    SYNC_REVIEW = auto()
    LOCK = auto()
    SWITCH_USER = auto()
    QUIT = auto()
    ABOUT = auto()


#: what stays usable while the screen is locked
WHILE_LOCKED = frozenset({ActionId.QUIT, ActionId.ABOUT, ActionId.SYNC_NOW})
#: never enabled in this version (charting is not built yet); shown only to roles that may use it
NOT_YET = frozenset({ActionId.SIGN_CHART, ActionId.COSIGN_CHART})


@dataclass(frozen=True)
class ActionSpec:
    text: str
    shortcuts: tuple[Key | str, ...] = ()
    icon: str | None = None
    tip: str = ""
    permission: Permission | None = None
    menu_role: QAction.MenuRole = QAction.MenuRole.NoRole


SPECS: dict[ActionId, ActionSpec] = {
    ActionId.FIND: ActionSpec("&Find a client", (Key.Find,), "search",
                              "Search by name, phone digits, email or Instagram handle",
                              Permission.PATIENT_READ),
    ActionId.NEW_PATIENT: ActionSpec("&New client\u2026", (Key.New,), "plus", "Add a client",
                                     Permission.PATIENT_WRITE),
    ActionId.EDIT_PATIENT: ActionSpec("&Edit client\u2026", ("Ctrl+E",), "edit", "Edit the open client's details",
                                      Permission.PATIENT_WRITE),
    ActionId.OPEN_RECORD: ActionSpec("&Open record", ("Ctrl+O",), "user",
                                     "Open the selected client's record", Permission.PATIENT_READ),
    ActionId.CLOSE_RECORD: ActionSpec("&Close record", ("Ctrl+W",), None,
                                      "Close the client record and go back to the search"),
    ActionId.REFRESH: ActionSpec("&Refresh", (Key.Refresh,), "refresh", "Search again and recount"),
    ActionId.GO_TODAY: ActionSpec("&Today", ("Ctrl+1",), "calendar", "Today's schedule",
                                  Permission.APPOINTMENT_READ),
    ActionId.GO_CLIENTS: ActionSpec("&Clients", ("Ctrl+2",), "users", "Find and open clients",
                                    Permission.PATIENT_READ),
    ActionId.GO_LEADS: ActionSpec("&Leads", ("Ctrl+3",), "inbox", "New leads and their follow-up",
                                  Permission.LEAD_READ),
    ActionId.GO_DUPLICATES: ActionSpec("&Duplicates", ("Ctrl+4",), "clipboard",
                                       "Possible duplicate clients to merge or tell apart", Permission.PATIENT_MERGE),
    ActionId.GO_SETTINGS: ActionSpec("&Settings", ("Ctrl+,",), "settings",
                                     "Services, rooms, devices and staff", Permission.SETTINGS_MANAGE,
                                     menu_role=QAction.MenuRole.PreferencesRole),
    ActionId.SIGN_CHART: ActionSpec("&Sign chart", (), None, "Charting is not in this version yet",
                                    Permission.CHART_SIGN),
    ActionId.COSIGN_CHART: ActionSpec("&Co-sign chart", (), None, "Charting is not in this version yet",
                                      Permission.CHART_COSIGN),
    ActionId.IMPORT_CLIENTS: ActionSpec("&Import clients from a file\u2026", (), "upload",
                                        "Add a client list exported from another system (CSV)",
                                        Permission.PATIENT_IMPORT),
    ActionId.SYNC_NOW: ActionSpec("S&ync now", ("F9",), "refresh",
                                  "Send this workstation's changes and fetch the clinic's now"),
    ActionId.SYNC_REVIEW: ActionSpec("Sync &details and review\u2026", (), "cloud",
                                     "How syncing is going; conflicts and refused changes to look at",
                                     Permission.PATIENT_READ),
    ActionId.LOCK: ActionSpec("&Lock screen", ("Ctrl+L",), "lock", "Hide client data until you sign in again"),
    ActionId.SWITCH_USER: ActionSpec("S&witch user\u2026", ("Ctrl+Shift+L",), "switch",
                                     "Let someone else sign in on this workstation"),
    ActionId.QUIT: ActionSpec("&Quit", (Key.Quit, "Ctrl+Q"), "quit", "Close Glowdesk",
                              menu_role=QAction.MenuRole.QuitRole),
    ActionId.ABOUT: ActionSpec("&About Glowdesk", (), None, "", menu_role=QAction.MenuRole.AboutRole),
}

#: the menu bar: (title, actions; None is a separator)
MENUS: tuple[tuple[str, tuple[ActionId | None, ...]], ...] = (
    ("&File", (ActionId.SYNC_NOW, ActionId.SYNC_REVIEW, None, ActionId.LOCK, ActionId.SWITCH_USER, None,
               ActionId.QUIT)),
    ("&Go", (ActionId.GO_TODAY, ActionId.GO_CLIENTS, ActionId.GO_LEADS, ActionId.GO_DUPLICATES, None,
             ActionId.GO_SETTINGS)),
    ("&Clients", (ActionId.FIND, ActionId.NEW_PATIENT, ActionId.EDIT_PATIENT, ActionId.OPEN_RECORD,
                  ActionId.CLOSE_RECORD, None, ActionId.IMPORT_CLIENTS, None, ActionId.REFRESH)),
    ("C&harts", (ActionId.SIGN_CHART, ActionId.COSIGN_CHART)),
    ("&Help", (ActionId.ABOUT,)),
)


class Actions(QObject):
    """The registry: one QAction per :class:`ActionId`, owned by (and active in) ``window``."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._actions: dict[ActionId, QAction] = {}
        for action_id, spec in SPECS.items():
            action = QAction(spec.text, window)
            action.setObjectName(f"action_{action_id.name.lower()}")
            if spec.shortcuts:
                action.setShortcuts(_key_sequences(spec.shortcuts))
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            if spec.icon:
                action.setIcon(theme.icon(spec.icon))
            if spec.tip:
                action.setStatusTip(spec.tip)
                action.setToolTip(spec.tip)
            action.setMenuRole(spec.menu_role)
            action.setEnabled(action_id not in NOT_YET)
            window.addAction(action)
            self._actions[action_id] = action

    def __getitem__(self, action_id: ActionId) -> QAction:
        return self._actions[action_id]

    def __iter__(self) -> Iterator[ActionId]:
        return iter(self._actions)

    def on(self, action_id: ActionId, slot: Callable[[], object]) -> None:
        """Run ``slot`` when the action fires (by menu, shortcut or button)."""
        self._actions[action_id].triggered.connect(lambda _checked=False: slot())

    def set_enabled(self, action_id: ActionId, enabled: bool) -> None:
        self._actions[action_id].setEnabled(enabled)

    def apply_role(self, role: str | None) -> None:
        """Hide what ``role`` may not do (``None``: the system, which may do everything)."""
        for action_id, spec in SPECS.items():
            allowed = spec.permission is None or role is None or has_permission(role, spec.permission)
            self._actions[action_id].setVisible(allowed)
        self._update_menus()

    def apply_lock(self, locked: bool) -> None:
        """Locked: only quitting and About work. Unlocked: everything but what is not built yet."""
        self._locked = locked
        for action_id, action in self._actions.items():
            action.setEnabled(action_id not in NOT_YET and (not locked or action_id in WHILE_LOCKED))
        self._update_menus()

    def fill_menu_bar(self, bar: QMenuBar) -> None:
        self._menus: list[QMenu] = []
        for title, ids in MENUS:
            menu: QMenu = bar.addMenu(title)
            for action_id in ids:
                if action_id is None:
                    menu.addSeparator()
                else:
                    menu.addAction(self._actions[action_id])
            self._menus.append(menu)
        self._update_menus()

    def _update_menus(self) -> None:
        """A menu with nothing visible in it is hidden (the front desk has no Charts menu)."""
        locked = getattr(self, "_locked", False)
        for menu in getattr(self, "_menus", []):
            visible = any(a.isVisible() and not a.isSeparator() and (a.isEnabled() or not locked)
                          for a in menu.actions())
            menu.menuAction().setVisible(visible)


def _key_sequences(shortcuts: tuple[Key | str, ...]) -> list[QKeySequence]:
    """The platform's bindings of standard keys plus explicit ones, without duplicates."""
    out: list[QKeySequence] = []
    for shortcut in shortcuts:
        sequences = QKeySequence.keyBindings(shortcut) if isinstance(shortcut, Key) else [QKeySequence(shortcut)]
        for sequence in sequences:
            if not sequence.isEmpty() and sequence not in out:
                out.append(sequence)
    return out
