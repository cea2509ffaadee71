"""The desktop app (its real window, operations and sync) on an enrolled store, for the
integration tests that run it against a real server process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.services.workspace import Workspace, open_workspace
from app.ui.desk import Desk as UiDesk
from app.ui.main_window import MainWindow
from app.ui.operations import Operations
from app.ui.sync_controller import RunnerOptions, SyncController
from tests.integration.conftest import Desk

#: quick retries so a server coming back is seen within a second or two
FAST = RunnerOptions(interval=30.0, debounce=0.05, backoff_base=0.2, backoff_cap=1.0)


@dataclass
class App:
    window: MainWindow
    ops: Operations
    workspace: Workspace
    closed: bool = False

    @property
    def sync(self) -> SyncController:
        return self.window.sync

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.window.close()
        assert self.ops.shutdown(final=self.workspace.close)

    def text(self) -> str:
        """Every label a person can see in the window right now."""
        return "\n".join(w.text() for w in self.window.findChildren(QLabel) if w.isVisible() and w.text())


def open_app(qtbot: Any, desk: Desk, monkeypatch: pytest.MonkeyPatch, *, options: RunnerOptions = FAST) -> App:
    """Close the test's own handle on ``desk``'s store and open the app on its data folder."""
    desk.store.close()
    monkeypatch.setenv("GLOWDESK_KEY_FILE", str(desk.key_file))
    workspace = open_workspace(desk.home)
    ops = Operations()
    sync = SyncController(ops, workspace, options=options)
    window = MainWindow(UiDesk(ops, workspace, actor=None), sync=sync)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return App(window, ops, workspace)


def sign_in(qtbot: Any, app: App, name: str, pin: str) -> None:
    signin = app.window.signin
    qtbot.waitUntil(lambda: any(signin.staff.item(i).text() == name for i in range(signin.staff.count())),
                    timeout=10_000)
    for i in range(signin.staff.count()):
        if signin.staff.item(i).text() == name:
            signin.staff.setCurrentRow(i)
    signin.pin.setFocus()
    qtbot.keyClicks(signin.pin, pin)
    qtbot.keyClick(signin.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not app.window.locked, timeout=10_000)


def indicator(app: App) -> str:
    return app.window.sync_chrome.indicator.text


def banner(app: App) -> str:
    chrome = app.window.sync_chrome
    return chrome.banner.message.text() if chrome.banner.isVisible() else ""


def search(qtbot: Any, app: App, text: str) -> None:
    window = app.window
    window.show_page("clients")
    window.clients.show_search()
    window.search.field.setFocus()
    window.search.field.selectAll()
    qtbot.keyClicks(window.search.field, text)
    qtbot.waitUntil(lambda: not window.search.searching, timeout=10_000)


def result_names(app: App) -> list[str]:
    model = app.window.search.model
    return [str(model.index(r, 0).data()) for r in range(model.rowCount())]


def wait_online(qtbot: Any, app: App, timeout: int = 15_000) -> None:
    qtbot.waitUntil(lambda: app.sync.state.online is True and not app.sync.state.syncing
                    and app.sync.state.live_connected, timeout=timeout)


def local_midday(tz_name: str, now: datetime) -> datetime:
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(tz_name))
    return local.replace(hour=12, minute=0, second=0, microsecond=0)
