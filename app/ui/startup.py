"""Opening the data folder at start (on the DB worker), building the demo clinic when asked."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog

from app.services.sync_status import ENROL, READY, setup_stage
from app.services.workspace import Workspace, open_workspace

ELLIPSIS = "\u2026"
OPENING = f"Opening the encrypted store{ELLIPSIS}"
BUILDING_DEMO = f"Building the demo clinic{ELLIPSIS}"

Report = Callable[..., None]  # report(stage, done, total)


@dataclass
class Opened:
    workspace: Workspace
    actor: Any
    built_demo: bool
    #: app.services.sync_status READY, ENROL (first run: ask for a code) or DOWNLOAD (resume
    #: the first download)
    stage: str = READY


def open_home(home: Path, *, demo: bool, demo_patients: int, report: Report,
              allow_setup: bool = False) -> Opened:
    """Open ``home``; in demo mode, fill it with the demo clinic if it holds none. DB thread only.

    ``allow_setup``: a home that is not set up yet (or whose first download stopped) opens with
    its :attr:`Opened.stage` instead of failing with :class:`NoClinicError`.
    """
    report(OPENING, 0, 0)
    workspace = open_workspace(home)
    try:
        built = False
        if workspace.clinic is None and demo:
            from app.services.demo import generate_demo

            report(BUILDING_DEMO, 0, 0)
            generate_demo(workspace.store, patients=demo_patients,
                          progress=lambda done, total: report(BUILDING_DEMO, done, total))
            workspace.reload()
            built = True
        stage = setup_stage(workspace) if allow_setup else READY
        if stage == ENROL:
            return Opened(workspace, None, built, stage)
        workspace.require_clinic()
        actor = workspace.default_actor()
    except BaseException:
        workspace.close()
        raise
    return Opened(workspace, actor, built, stage)


class DialogProgress:
    """Start-up progress in a dialog (shown only if start-up takes more than a moment)."""

    def __init__(self) -> None:
        self._dialog: QProgressDialog | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._dialog is None:
            dialog = QProgressDialog(stage, "", 0, 0)
            dialog.setWindowTitle("Glowdesk")
            dialog.setCancelButton(None)
            dialog.setMinimumDuration(400)
            dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
            dialog.setMinimumWidth(420)
            dialog.setAutoClose(False)
            dialog.setAutoReset(False)
            self._dialog = dialog
        self._dialog.setLabelText(stage)
        self._dialog.setMaximum(max(total, 0))
        if total:
            self._dialog.setValue(min(done, total))

    def close(self) -> None:
        if self._dialog is not None:
            self._dialog.close()
            self._dialog.deleteLater()
            self._dialog = None


class ConsoleProgress:
    """Start-up progress as a few lines on stderr (no display: self-test, CI)."""

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        self._write = write or (lambda line: sys.stderr.write(line + "\n"))
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage == OPENING or not total:
            return
        step = (100 * done // total) // 20 * 20 if total else 0  # every 20 %
        if (stage, step) != self._last:
            self._last = (stage, step)
            name = stage.rstrip(ELLIPSIS)
            self._write(f"{name}: {step}% ({done:,}/{total:,})")

    def close(self) -> None:
        pass
