"""The actions registry: one QAction per id, shortcuts, menus, and roles."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow

from app.ui.actions import MENUS, SPECS, ActionId, Actions


def test_every_action_is_registered_once_with_its_shortcut(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    actions = Actions(window)
    assert set(actions) == set(ActionId) == set(SPECS)
    assert actions[ActionId.FIND].shortcut().toString() == "Ctrl+F"
    assert [s.toString() for s in actions[ActionId.QUIT].shortcuts()] == ["Ctrl+Q"]  # no duplicates
    assert actions[ActionId.REFRESH].shortcut().toString() == "F5"
    in_menus = {a for _, ids in MENUS for a in ids if a is not None}
    assert in_menus == set(ActionId)


def test_triggering_runs_the_slot(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    actions = Actions(window)
    calls: list[str] = []
    actions.on(ActionId.REFRESH, lambda: calls.append("refresh"))
    actions[ActionId.REFRESH].trigger()
    assert calls == ["refresh"]


def test_actions_follow_the_role(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    actions = Actions(window)
    actions.apply_role("front_desk")
    assert actions[ActionId.FIND].isVisible()
    actions.apply_role(None)  # the system may do everything
    assert all(actions[a].isVisible() for a in ActionId)
