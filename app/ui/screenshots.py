"""``python -m app.ui.screenshots OUTDIR``: PNGs of the desktop on a fresh demo clinic.

Builds the demo clinic in a temporary data folder (with a temporary key file: screenshots need no
keychain), opens the main window offscreen at a fixed size, and saves:

- ``patients.png``: a search typed, with its results;
- ``client-record.png``: a client's record open beside the results (one with alerts).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SIZE = (1280, 800)
SEARCH = "mar"
RECORD_QUERIES = ("mar", "an", "el", "li", "so", "ra")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        sys.stderr.write("usage: python -m app.ui.screenshots OUTDIR\n")
        return 2
    outdir = Path(args[0])
    outdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="glowdesk-shots-") as tmp:
        os.environ["GLOWDESK_HOME"] = str(Path(tmp) / "home")
        os.environ["GLOWDESK_KEY_FILE"] = str(Path(tmp) / "glowdesk.key")
        written = _take(outdir, Path(tmp) / "home")
    for path in written:
        sys.stdout.write(f"wrote {path}\n")
    return 0


def _take(outdir: Path, home: Path) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    from app.ui import theme
    from app.ui.desk import Desk
    from app.ui.main_window import MainWindow
    from app.ui.operations import Operations
    from app.ui.startup import ConsoleProgress, open_home

    app = QApplication.instance() or QApplication(["glowdesk-screenshots"])
    assert isinstance(app, QApplication)
    theme.apply_theme(app)
    ops = Operations()
    opened: list[Any] = []
    errors: list[BaseException] = []
    ops.run_db(lambda report: open_home(home, demo=True, demo_patients=2000, report=report),
               on_progress=ConsoleProgress(), on_success=opened.append, on_failure=errors.append)
    _wait(app, lambda: bool(opened or errors), 300)
    if errors:
        raise errors[0]
    workspace = opened[0].workspace
    written: list[Path] = []
    try:
        desk = Desk(ops, workspace, actor=opened[0].actor)
        window = MainWindow(desk)
        window.resize(*SIZE)
        window.show()
        _wait(app, lambda: window.summary is not None)

        _search(app, window, SEARCH)
        written.append(_save(app, window, outdir / "patients.png"))

        _open_record_with_alerts(app, window)
        written.append(_save(app, window, outdir / "client-record.png"))
        window.close()
    finally:
        ops.shutdown(final=workspace.close)
    return written


def _search(app: Any, window: Any, text: str) -> None:
    window.search.field.setFocus()
    window.search.field.setText(text)
    _wait(app, lambda: not window.search.searching and window.search.model.rowCount() > 0)


def _open_record_with_alerts(app: Any, window: Any) -> None:
    """Open clients until one has alerts, tags and consents (the screenshot should show them)."""
    for query in RECORD_QUERIES:
        _search(app, window, query)
        for row in range(min(window.search.model.rowCount(), 25)):
            window.search.table.selectRow(row)
            window.search.open_current()
            _wait(app, lambda: window.detail.record is not None
                  and window.detail.record.id == window.search.current_patient_id())
            record = window.detail.record
            if record.has_alerts and record.tags and record.date_of_birth:
                return


def _save(app: Any, window: Any, path: Path) -> Path:
    for _ in range(5):
        app.processEvents()
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path


def _wait(app: Any, predicate: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.005)


if __name__ == "__main__":
    sys.exit(main())
