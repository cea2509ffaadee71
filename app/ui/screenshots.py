"""``python -m app.ui.screenshots OUTDIR``: PNGs of the desktop, light and dark, at each size.

Writes ``OUTDIR/<width>x<height>-<theme>/<screen>.png``:

- every screen of :mod:`app.ui.screen_catalog` (sign-in, Today, the week, Clients, a record, its
  messages, unread, Leads, Duplicates, Settings...) on a demo clinic of 2,000 clients at the
  catalog's fixed moment, at 1280x800 and 1920x1080;
- the screens of a workstation enrolled with a real clinic server
  (:mod:`app.ui.screenshots_sync`): ``offline.png`` (the window, at both sizes), and the
  dialogs ``first-run.png``, ``first-run-download.png``, ``sync-review.png``, ``import.png``
  (at their own size, in the 1280x800 folders).

Each theme runs in its own process (``GLOWDESK_THEME``). Every picture is checked with
:mod:`app.ui.text_fit` as it is taken: texts that do not fit are listed on stderr and the
command exits 1 (the pictures are written anyway, to look at).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

THEME_FLAG = "--theme"
PATIENTS = 2000


def main(argv: Sequence[str] | None = None) -> int:
    from app.ui.screen_catalog import THEMES

    args = list(sys.argv[1:] if argv is None else argv)
    theme = None
    if len(args) == 3 and args[0] == THEME_FLAG and args[1] in THEMES:
        theme, args = args[1], args[2:]
    if len(args) != 1 or args[0].startswith("-"):
        sys.stderr.write("usage: python -m app.ui.screenshots OUTDIR\n")
        return 2
    outdir = Path(args[0])
    if theme is None:  # each theme in a process of its own: icons and styles are drawn once per theme
        worst = 0
        for each in THEMES:
            env = {**os.environ, "GLOWDESK_THEME": each, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM",
                                                                                           "offscreen")}
            done = subprocess.run([sys.executable, "-m", "app.ui.screenshots", THEME_FLAG, each, str(outdir)],
                                  env=env, check=False)
            worst = max(worst, done.returncode)
        return worst
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["GLOWDESK_THEME"] = theme
    problems = _take(outdir, theme)
    for line in problems:
        sys.stderr.write(f"does not fit: {line}\n")
    return 1 if problems else 0


def folder(outdir: Path, size: tuple[int, int], theme: str) -> Path:
    path = outdir / f"{size[0]}x{size[1]}-{theme}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _take(outdir: Path, theme_name: str) -> list[str]:
    from PySide6.QtWidgets import QApplication, QMainWindow

    from app.ui import theme
    from app.ui.screen_catalog import SCREENS, SIZES, demo_stage
    from app.ui.screenshots_sync import take as take_sync
    from app.ui.text_fit import misfits

    app = QApplication.instance() or QApplication(["glowdesk-screenshots"])
    assert isinstance(app, QApplication)
    theme.apply_theme(app, theme_name)
    problems: list[str] = []

    def keep(widget: Any, path: Path, size: tuple[int, int]) -> Path:
        _settle(app)
        problems.extend(f"{size[0]}x{size[1]}-{theme_name}/{path.name}: {m}" for m in misfits(widget))
        _grab(app, widget, path)
        sys.stdout.write(f"wrote {path}\n")
        return path

    with tempfile.TemporaryDirectory(prefix="glowdesk-shots-") as tmp:
        os.environ["GLOWDESK_HOME"] = str(Path(tmp) / "home")
        os.environ["GLOWDESK_KEY_FILE"] = str(Path(tmp) / "glowdesk.key")
        with demo_stage(Path(tmp) / "home", patients=PATIENTS) as stage:
            for size in SIZES:
                stage.resize(size)
                for screen in SCREENS:
                    widget = screen.show(stage)
                    stage.settle()
                    keep(widget, folder(outdir, size, theme_name) / f"{screen.name}.png", size)

    def save(app: Any, widget: Any, path: Path) -> Path:
        """The window at every size; a dialog at its own size (in the first size's folder)."""
        if not isinstance(widget, QMainWindow):
            return keep(widget, folder(outdir, SIZES[0], theme_name) / path.name, SIZES[0])
        before = widget.size()
        for size in SIZES:
            widget.resize(*size)
            _settle(app)
            keep(widget, folder(outdir, size, theme_name) / path.name, size)
        widget.resize(before)
        return path

    with tempfile.TemporaryDirectory(prefix="glowdesk-shots-sync-") as tmp:
        take_sync(outdir, Path(tmp), wait=_wait, save=save, size=SIZES[0])
    return problems


def _settle(app: Any) -> None:
    for _ in range(10):
        app.processEvents()
        time.sleep(0.01)


def _grab(app: Any, widget: Any, path: Path) -> None:
    _settle(app)
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")


def _wait(app: Any, predicate: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.005)


if __name__ == "__main__":
    sys.exit(main())
