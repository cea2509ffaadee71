"""UI fixtures: the session's QApplication themed like the app, a real encrypted clinic store,
the background helpers, and the main window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services.workspace import open_workspace
from app.ui import theme
from app.ui.desk import Desk
from app.ui.main_window import MainWindow
from app.ui.operations import Operations
from app.ui.screen_catalog import Stage, demo_stage
from tests.app.ui._clinic import ClinicHome, build_clinic


@pytest.fixture(scope="session", autouse=True)
def _themed(qapp):  # one QApplication for the whole session (pytest-qt's), with our look
    theme.apply_theme(qapp)
    return qapp


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keys" / "glowdesk.key"
    monkeypatch.setenv("GLOWDESK_KEY_FILE", str(path))
    return path


@pytest.fixture
def clinic(tmp_path: Path, key_file: Path) -> ClinicHome:
    return build_clinic(tmp_path / "home", key_file)


@pytest.fixture
def desk(qapp, clinic: ClinicHome) -> Iterator[Desk]:
    ops = Operations()
    workspace = open_workspace(clinic.home)
    try:
        yield Desk(ops, workspace, actor=workspace.default_actor())
    finally:
        assert ops.shutdown(final=workspace.close)


@pytest.fixture
def window(qtbot, desk: Desk) -> MainWindow:
    win = MainWindow(desk)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.summary is not None)
    return win


@pytest.fixture(scope="module")
def catalog_stage(qapp, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    """The screen catalog's stage: the main window on a demo clinic (150 clients, or the test
    module's ``CATALOG_PATIENTS``) at the catalog's fixed moment, the demo owner signed in; one
    per test module."""
    theme.apply_theme(qapp)
    root = tmp_path_factory.mktemp("catalog")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GLOWDESK_KEY_FILE", str(root / "glowdesk.key"))
        with demo_stage(root / "home", patients=getattr(request.module, "CATALOG_PATIENTS", 150)) as stage:
            yield stage
