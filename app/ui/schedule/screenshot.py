"""``python -m app.ui.schedule.screenshot [PATH]``: a PNG of Today on a fresh demo clinic.

:func:`save_today_screenshot` builds the demo clinic in a temporary data folder with a temporary
key file (no keychain needed), at a fixed moment (a Thursday early afternoon, so the day is half
done: completed, checked-in and upcoming appointments, and the now-line), shows Today offscreen at
1440x900 and saves it (by default to docs/screenshots/today.png).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

SIZE = (1440, 900)
#: Thursday, November 19, 2026, 1:40 PM in Los Angeles (the demo clinic's time zone)
NOW = datetime(2026, 11, 19, 21, 40, tzinfo=UTC)
PATIENTS = 3000
DEFAULT_PATH = Path(__file__).resolve().parents[3] / "docs" / "screenshots" / "today.png"


def save_today_screenshot(path: str | Path = DEFAULT_PATH, *, patients: int = PATIENTS,
                          size: tuple[int, int] = SIZE, now: datetime = NOW) -> Path:
    """Write Today on a demo clinic to ``path`` (PNG, ``size`` logical pixels); returns the path."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = os.environ.get("GLOWDESK_KEY_FILE")
    with tempfile.TemporaryDirectory(prefix="glowdesk-today-") as tmp:
        os.environ["GLOWDESK_KEY_FILE"] = str(Path(tmp) / "glowdesk.key")
        try:
            _take(Path(tmp) / "home", path, patients=patients, size=size, now=now)
        finally:
            if saved is None:
                os.environ.pop("GLOWDESK_KEY_FILE", None)
            else:
                os.environ["GLOWDESK_KEY_FILE"] = saved
    return path


def _take(home: Path, path: Path, *, patients: int, size: tuple[int, int], now: datetime) -> None:
    from PySide6.QtWidgets import QApplication

    from app.services.demo import generate_demo
    from app.services.workspace import open_workspace
    from app.ui import theme
    from app.ui.operations import Operations
    from app.ui.schedule.today import TodayView
    from core.clock import FixedClock

    app = QApplication.instance() or QApplication(["glowdesk-screenshot"])
    assert isinstance(app, QApplication)
    theme.apply_theme(app)
    workspace = open_workspace(home, clock=FixedClock(now))
    generate_demo(workspace.store, patients=patients, seed=42, now=now)
    workspace.reload()
    ops = Operations()
    try:
        desk = SimpleNamespace(ops=ops, workspace=workspace, actor=workspace.default_actor())
        view = TodayView(desk)
        view.resize(*size)
        view.show()
        _wait(app, lambda: view.layout_model is not None and not view.loading)
        for _ in range(5):
            app.processEvents()
        if not view.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        view.close()
    finally:
        ops.shutdown(final=workspace.close)


def _wait(app: Any, predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("Today did not load in time")
        app.processEvents()
        time.sleep(0.005)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    written = save_today_screenshot(args[0] if args else DEFAULT_PATH)
    sys.stdout.write(f"wrote {written}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
