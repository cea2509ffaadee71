"""``python -m app.ui.screenshots OUTDIR``: PNGs of the desktop on a fresh demo clinic.

Builds the demo clinic in a temporary data folder (with a temporary key file: screenshots need no
keychain), opens the main window offscreen at a fixed size, and saves:

- ``signin.png``: the sign-in screen, the demo owner chosen;
- ``patients.png``: after signing in, a search typed on Clients, with its results;
- ``client-record.png``: a client's record (one with alerts, tags, visits and a lead);
- ``messages.png``: the Messages tab of a client with an unread reply, a template picked;
- ``unread.png``: Clients with nothing searched: the clients with unread messages;
- ``leads.png``: the Leads list, open leads, the newest selected (its reply timer running, claimed);
- ``duplicates.png``: a possible duplicate, the two records side by side;
- ``settings.png``: Settings, the service menu;
- ``templates.png``: Settings, the clinic's text templates;
- ``today.png``: the schedule, through ``app.ui.schedule.screenshot`` when it is in this build;
- ``first-run.png``, ``first-run-download.png``, ``sync-review.png``, ``lead-routing.png``,
  ``offline.png``, ``import.png``: a workstation enrolled with a real clinic server (``app.ui.screenshots_sync``).

``GLOWDESK_THEME=dark`` takes them in the dark scheme.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SIZE = (1366, 820)
SEARCH = "mar"
RECORD_QUERIES = ("mar", "an", "el", "li", "so", "ra")
OWNER_PIN = "1234"


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
    with tempfile.TemporaryDirectory(prefix="glowdesk-shots-sync-") as tmp:
        from app.ui.screenshots_sync import take as take_sync

        written += take_sync(outdir, Path(tmp), wait=_wait, save=_save, size=SIZE)
    written += _today(outdir)
    for path in written:
        sys.stdout.write(f"wrote {path}\n")
    return 0


def _take(outdir: Path, home: Path) -> list[Path]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
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
        desk = Desk(ops, workspace, actor=None)
        window = MainWindow(desk)
        window.resize(*SIZE)
        window.show()
        _wait(app, lambda: window.summary is not None and window.signin.staff.count() > 0)
        window.signin.choose(opened[0].actor.staff_id)
        written.append(_save(app, window, outdir / "signin.png"))

        QTest.keyClicks(window.signin.pin, OWNER_PIN)
        QTest.keyClick(window.signin.pin, Qt.Key.Key_Return)
        _wait(app, lambda: not window.locked)

        window.show_page("clients")
        _search(app, window, SEARCH)
        written.append(_save(app, window, outdir / "patients.png"))

        _open_rich_record(app, window)
        written.append(_save(app, window, outdir / "client-record.png"))

        _open_thread(app, window)
        written.append(_save(app, window, outdir / "messages.png"))

        window.clients.close_record()
        window.clients.search.field.clear()
        _wait(app, lambda: window.clients.search.unread.isVisible())
        written.append(_save(app, window, outdir / "unread.png"))

        window.show_page("leads")
        leads = window.pages["leads"]
        leads.set_status("open")
        _wait(app, lambda: not leads.loading and leads.model.rowCount() > 0)
        leads.table.selectRow(0)
        written.append(_save(app, window, outdir / "leads.png"))

        from app.services.demo import add_demo_duplicate

        done: list[Any] = []
        ops.run_db(lambda: add_demo_duplicate(workspace.store), on_success=done.append, writes={"merge_review"})
        window.show_page("duplicates")
        duplicates = window.pages["duplicates"]
        _wait(app, lambda: bool(done) and bool(duplicates.cases))
        written.append(_save(app, window, outdir / "duplicates.png"))

        window.show_page("settings")
        settings = window.pages["settings"]
        _wait(app, lambda: settings.settings is not None)
        written.append(_save(app, window, outdir / "settings.png"))

        settings.show_section("template")
        _wait(app, lambda: not settings.templates.loading and settings.templates.model.rowCount() > 0)
        written.append(_save(app, window, outdir / "templates.png"))
        window.close()
    finally:
        ops.shutdown(final=workspace.close)
    return written


def _today(outdir: Path) -> list[Path]:
    """The schedule's own screenshot, when the schedule is in this build."""
    try:
        from app.ui.schedule.screenshot import save_today_screenshot
    except ImportError:
        return []
    return [save_today_screenshot(outdir / "today.png")]


def _search(app: Any, window: Any, text: str) -> None:
    window.search.field.setFocus()
    window.search.field.setText(text)
    _wait(app, lambda: not window.search.searching and window.search.model.rowCount() > 0)


def _open_rich_record(app: Any, window: Any) -> None:
    """Open clients until one has alerts, tags, visits and a lead (the screenshot should show them)."""
    for query in RECORD_QUERIES:
        _search(app, window, query)
        for row in range(min(window.search.model.rowCount(), 30)):
            window.search.table.selectRow(row)
            window.search.open_current()
            _wait(app, lambda: window.detail.client is not None
                  and window.detail.client.id == window.search.current_patient_id())
            client = window.detail.client
            p = client.patient
            if p.has_alerts and p.tags and p.date_of_birth and client.leads and client.visits >= 3 and \
                    client.next_visit:
                return
            window.clients.show_search()


def _open_thread(app: Any, window: Any) -> None:
    """The Messages tab of a client with an unread reply, a template picked in the compose box."""
    from app.ui.message_ops import MessageOps

    got: list[Any] = []
    MessageOps(window.desk).unread(on_success=got.append)
    _wait(app, lambda: bool(got))
    candidates = [t for t in got[0].threads if t.channel == "sms"] or list(got[0].threads)
    panel = window.detail.tabs.messages
    for thread in candidates:  # one with an upcoming appointment, so the reminder fills in
        window.open_patient(thread.patient_id)
        _wait(app, lambda t=thread: window.detail.client is not None and window.detail.client.id == t.patient_id
              and panel.thread is not None and panel.thread.patient_id == t.patient_id)
        if panel.thread.variables.get("appointment_time"):
            break
    window.detail.tabs.select("Messages")
    compose = panel.compose
    index = compose.templates.findText("Appointment reminder")
    if index > 0:
        compose.templates.setCurrentIndex(index)
        compose.templates.activated.emit(index)
    panel.list.scrollToBottom()
    total = got[0].total
    _wait(app, lambda: window.message_watch.unread is not None and window.message_watch.unread.total < total)


def _save(app: Any, window: Any, path: Path) -> Path:
    for _ in range(10):
        app.processEvents()
        time.sleep(0.01)
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
