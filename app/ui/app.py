"""The desktop app's life: QApplication, the background helpers, start-up, the window, shutdown.

``app.bootstrap`` parses the command line and checks for a display; everything Qt starts here.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QMessageLogContext, QObject, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from app.services.sync_status import READY
from app.services.workspace import Workspace
from app.ui import theme
from app.ui.desk import Desk
from app.ui.errors import log_failure, user_message
from app.ui.main_window import MainWindow
from app.ui.operations import Operations
from app.ui.selftest import SelfTest
from app.ui.startup import ConsoleProgress, DialogProgress, Opened, open_home

if TYPE_CHECKING:  # first run only: it brings the sync engine (app.sync)
    from app.ui.enroll_dialog import FirstRunDialog

log = logging.getLogger(__name__)

HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal"})


@dataclass(frozen=True)
class LaunchOptions:
    home: Path
    demo: bool = False
    self_test: bool = False
    demo_patients: int = 2000
    #: benchmarks (GLOWDESK_READY_FILE): once the window is interactive, write_ready() there, quit
    ready_file: Path | None = None


Write = Callable[[str], None]


def run(options: LaunchOptions, *, out: Write, err: Write) -> int:
    """Run the app until its window closes (or the self-test ends); return the exit status."""
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "glowdesk"])
    assert isinstance(app, QApplication)
    app.setApplicationName("Glowdesk")
    app.setOrganizationName("Glowdesk")
    app.setApplicationDisplayName("Glowdesk")
    app.setQuitOnLastWindowClosed(False)  # until the main window is up
    theme.apply_theme(app)
    previous_handler = qInstallMessageHandler(_qt_message)
    previous_hook = sys.excepthook
    sys.excepthook = _unhandled

    ops = Operations()
    launcher = Launcher(app, ops, options, out=out, err=err)
    try:
        launcher.start()
        code = app.exec()
        return launcher.exit_code if launcher.exit_code is not None else code
    finally:
        launcher.close_window()
        workspace = launcher.workspace
        ops.shutdown(final=workspace.close if workspace is not None else None)
        sys.excepthook = previous_hook
        qInstallMessageHandler(previous_handler)


def is_headless() -> bool:
    return QGuiApplication.platformName() in HEADLESS_PLATFORMS


class Launcher(QObject):
    """Open the data folder on the DB worker, then show the window (or run the self-test)."""

    def __init__(self, app: QApplication, ops: Operations, options: LaunchOptions, *,
                 out: Write, err: Write) -> None:
        super().__init__()
        self._app = app
        self._ops = ops
        self._options = options
        self._out, self._err = out, err
        self._progress = ConsoleProgress(err) if is_headless() else DialogProgress()
        self.workspace: Workspace | None = None
        self.window: MainWindow | None = None
        self.first_run: FirstRunDialog | None = None
        self.exit_code: int | None = None
        self._self_test: SelfTest | None = None

    def start(self) -> None:
        options = self._options
        self._ops.run_db(
            lambda report: open_home(options.home, demo=options.demo, demo_patients=options.demo_patients,
                                     report=report, allow_setup=not options.self_test),
            on_progress=self._progress,
            on_success=self._opened,
            on_failure=self._failed,
            label="open the clinic",
        )

    def _opened(self, opened: Opened) -> None:
        self._progress.close()
        self.workspace = opened.workspace
        log.info("opened %s clinic (%s)", "the demo" if opened.workspace.is_demo else "a",
                 "built now" if opened.built_demo else "existing")
        if self._options.self_test:
            desk = Desk(self._ops, opened.workspace, actor=opened.actor)
            self._self_test = SelfTest(desk, on_done=self._self_test_done)
            self._self_test.start()
            return
        if opened.stage != READY:  # first run: enrol and download, or finish the download
            from app.ui.enroll_dialog import FirstRunDialog

            dialog = FirstRunDialog(self._ops, opened.workspace, stage=opened.stage)
            dialog.accepted.connect(self._show_window)
            dialog.rejected.connect(lambda: self._quit(0))
            self.first_run = dialog
            dialog.show()
            return
        self._show_window()

    def _show_window(self) -> None:
        """A shared workstation: nobody is signed in until someone types their PIN."""
        assert self.workspace is not None
        if self.first_run is not None:
            self.first_run.deleteLater()
            self.first_run = None
        self.window = MainWindow(Desk(self._ops, self.workspace, actor=None))
        if self._options.ready_file is not None:
            self.window.signin.choices_shown.connect(self._interactive)
        self.window.show()
        self._app.setQuitOnLastWindowClosed(True)

    def _interactive(self, _count: int) -> None:
        """The sign-in screen has its staff list: on the next turn of the event loop (the list's
        repaint done), note the moment and the memory, and quit."""
        assert self.window is not None and self._options.ready_file is not None
        self.window.signin.choices_shown.disconnect(self._interactive)
        path = self._options.ready_file
        QTimer.singleShot(0, lambda: (write_ready(path), self._quit(0)))

    def _failed(self, exc: BaseException) -> None:
        self._progress.close()
        message = user_message(exc)
        if self._options.self_test:
            self._err(f"self-test failed: {message}")
        elif is_headless():
            self._err(f"Glowdesk could not open: {message}")
        else:
            QMessageBox.critical(None, "Glowdesk could not open", message)
        self._quit(1)

    def _self_test_done(self, ok: bool, line: str) -> None:
        (self._out if ok else self._err)(line)
        self._quit(0 if ok else 1)

    def _quit(self, code: int) -> None:
        self.exit_code = code
        self._app.exit(code)

    def close_window(self) -> None:
        if self.window is not None:
            self.window.close()
        if self.first_run is not None:
            self.first_run.cancel()


def write_ready(path: Path, **extra: float) -> None:
    """One JSON line: the wall-clock time now, this process's CPU seconds so far and its resident
    memory (kB, Linux), and ``extra``."""
    line: dict[str, float] = {"ready_at": time.time(), "cpu_s": time.process_time(), **extra}
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        status = ""  # not Linux: the time alone
    for raw in status.splitlines():
        name, _, value = raw.partition(":")
        if name in ("VmRSS", "VmHWM"):
            line["rss_kb" if name == "VmRSS" else "peak_rss_kb"] = int(value.split()[0])
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")


def _qt_message(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
    }.get(mode, logging.ERROR)
    logging.getLogger("qt").log(level, "%s", message)


def _unhandled(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """An exception escaped a Qt slot: log it (without its message) and keep running."""
    if issubclass(kind, KeyboardInterrupt):
        QApplication.quit()
        return
    log_failure("unhandled", exc.with_traceback(tb))
