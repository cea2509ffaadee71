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
    OPEN_RECORD = auto()
    CLOSE_RECORD = auto()
    REFRESH = auto()
    QUIT = auto()
    ABOUT = auto()


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
    ActionId.OPEN_RECORD: ActionSpec("&Open record", ("Ctrl+O",), "user",
                                     "Open the selected client's record", Permission.PATIENT_READ),
    ActionId.CLOSE_RECORD: ActionSpec("&Close record", ("Ctrl+W",), None,
                                      "Close the client record and go back to the search"),
    ActionId.REFRESH: ActionSpec("&Refresh", (Key.Refresh,), "refresh", "Search again and recount"),
    ActionId.QUIT: ActionSpec("&Quit", (Key.Quit, "Ctrl+Q"), "quit", "Close Glowdesk",
                              menu_role=QAction.MenuRole.QuitRole),
    ActionId.ABOUT: ActionSpec("&About Glowdesk", (), None, "", menu_role=QAction.MenuRole.AboutRole),
}

#: the menu bar: (title, actions; None is a separator)
MENUS: tuple[tuple[str, tuple[ActionId | None, ...]], ...] = (
    ("&File", (ActionId.QUIT,)),
    ("&Clients", (ActionId.FIND, ActionId.OPEN_RECORD, ActionId.CLOSE_RECORD, None, ActionId.REFRESH)),
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
            if spec.permission is not None and role is not None:
                self._actions[action_id].setVisible(has_permission(role, spec.permission))

    def fill_menu_bar(self, bar: QMenuBar) -> None:
        for title, ids in MENUS:
            menu: QMenu = bar.addMenu(title)
            for action_id in ids:
                if action_id is None:
                    menu.addSeparator()
                else:
                    menu.addAction(self._actions[action_id])


def _key_sequences(shortcuts: tuple[Key | str, ...]) -> list[QKeySequence]:
    """The platform's bindings of standard keys plus explicit ones, without duplicates."""
    out: list[QKeySequence] = []
    for shortcut in shortcuts:
        sequences = QKeySequence.keyBindings(shortcut) if isinstance(shortcut, Key) else [QKeySequence(shortcut)]
        for sequence in sequences:
            if not sequence.isEmpty() and sequence not in out:
                out.append(sequence)
    return out
