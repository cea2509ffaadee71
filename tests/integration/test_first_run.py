"""First run against a real server process: an empty data folder opens the first-run screen,
redeems a code, shows the download as it goes (with Cancel), and a stopped download resumes on
the next start."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.services.status import collect_status
from app.services.workspace import open_workspace
from app.ui.app import Launcher, LaunchOptions
from app.ui.enroll_dialog import FirstRunDialog
from app.ui.operations import Operations
from tests.integration.conftest import ServerProcess

pytestmark = pytest.mark.usefixtures("qapp")


@pytest.fixture
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "desk.key"
    monkeypatch.setenv("GLOWDESK_KEY_FILE", str(path))
    return path


@pytest.fixture(scope="module")
def demo_clinic(server: ServerProcess) -> dict[str, Any]:
    """A demo clinic on the server big enough for a download of several pages."""
    slug = "fr-" + secrets.token_hex(3)
    return server.cli("demo", "--patients", "120", "--slug", slug)


def code_for(server: ServerProcess, slug: str) -> str:
    return str(server.cli("enrollment-code", "--clinic", slug)["code"])


def start(qapp: Any, home: Path) -> tuple[Launcher, Operations]:
    ops = Operations()
    launcher = Launcher(qapp, ops, LaunchOptions(home=home), out=lambda _l: None, err=lambda _l: None)
    launcher.start()
    return launcher, ops


def stop(launcher: Launcher, ops: Operations) -> None:
    launcher.close_window()
    workspace = launcher.workspace
    assert ops.shutdown(final=workspace.close if workspace is not None else None)


def test_an_empty_folder_opens_the_first_run_screen_that_enrols_and_downloads_the_clinic(
    qapp: Any, qtbot: Any, server: ServerProcess, demo_clinic: dict[str, Any], tmp_path: Path, key: Path
) -> None:
    launcher, ops = start(qapp, tmp_path / "home")
    try:
        qtbot.waitUntil(lambda: launcher.first_run is not None and launcher.first_run.isVisible(), timeout=10_000)
        dialog = launcher.first_run
        assert dialog is not None and launcher.window is None
        qtbot.keyClicks(dialog.url, server.url)
        qtbot.keyClicks(dialog.code, "NOT-A-CODE")
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.connect_button.isEnabled(), timeout=10_000)
        assert dialog.pages.currentIndex() == 0 and dialog.message.text()  # the server's sentence
        assert "Connecting" not in dialog.message.text()

        dialog.code.clear()
        qtbot.keyClicks(dialog.code, code_for(server, demo_clinic["slug"]))
        seen: list[int] = []
        dialog.progressed.connect(seen.append)
        qtbot.keyClick(dialog.code, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: launcher.window is not None, timeout=30_000)
        assert seen and seen[-1] > 0  # rows so far were shown while it downloaded
        assert launcher.window.windowTitle().startswith("Lumi")  # type: ignore[union-attr]
        status = collect_status(launcher.workspace)  # type: ignore[arg-type]
        assert status["patients"] == 120 and status["sync"] == "online"
    finally:
        stop(launcher, ops)


def test_a_cancelled_first_download_keeps_what_it_has_and_resumes_on_the_next_start(
    qapp: Any, qtbot: Any, server: ServerProcess, demo_clinic: dict[str, Any], tmp_path: Path, key: Path
) -> None:
    home = tmp_path / "home"
    ops = Operations()
    workspace = open_workspace(home)
    try:
        dialog = FirstRunDialog(ops, workspace, pull_limit=40)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.keyClicks(dialog.url, server.url)
        qtbot.keyClicks(dialog.code, code_for(server, demo_clinic["slug"]))
        dialog.progressed.connect(lambda rows: dialog.cancel() if rows > 0 else None)
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=30_000)
        assert dialog.outcome == "cancelled"
        assert dialog.status.text().startswith("The download was cancelled. Nothing is lost")
        assert dialog.resume_button.isVisible() and dialog.close_button.isVisible()
        kept = dialog.rows
        assert 0 < kept < demo_clinic["rows"]
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible()
    finally:
        assert ops.shutdown(final=workspace.close)

    # the next start opens on the download, carries on from the cursor, then opens the desk
    launcher, ops = start(qapp, home)
    try:
        qtbot.waitUntil(lambda: launcher.first_run is not None or launcher.window is not None, timeout=10_000)
        resumed = launcher.first_run
        assert resumed is not None and resumed.pages.currentIndex() == 1
        assert "stopped before it finished" in resumed.note.text()
        qtbot.waitUntil(lambda: launcher.window is not None, timeout=30_000)
        status = collect_status(launcher.workspace)  # type: ignore[arg-type]
        assert status["patients"] == 120 and status["sync"] == "online"
    finally:
        stop(launcher, ops)
