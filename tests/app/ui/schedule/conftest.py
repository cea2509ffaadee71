"""Today on a real encrypted demo clinic (150 clients, a fixed "now"), one copy per test.

The demo clinic is generated once per session into a template folder; each test gets its own
copy of the database and its key file, so tests that book and move appointments never see each
other's changes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.services.demo import generate_demo
from app.services.workspace import open_workspace
from app.ui.desk import Desk
from app.ui.schedule.today import TodayView
from core.clock import FixedClock
from tests.app.ui.schedule._helpers import NOW, make_desk, open_today


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("today-template")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GLOWDESK_KEY_FILE", str(folder / "db.key"))
        workspace = open_workspace(folder / "home", clock=FixedClock(NOW))
        try:
            generate_demo(workspace.store, patients=150, seed=42, now=NOW)
        finally:
            workspace.close()
    return folder


@pytest.fixture
def demo_home(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(demo_template, tmp_path / "demo")
    monkeypatch.setenv("GLOWDESK_KEY_FILE", str(tmp_path / "demo" / "db.key"))
    return tmp_path / "demo" / "home"


@pytest.fixture
def today_desk(qapp: Any, demo_home: Path) -> Iterator[Desk]:
    desk = make_desk(demo_home)
    try:
        yield desk
    finally:
        assert desk.ops.shutdown(final=desk.workspace.close)


@pytest.fixture
def view(qtbot: Any, today_desk: Desk) -> TodayView:
    return open_today(qtbot, today_desk)
