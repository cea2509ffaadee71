"""The main screens, each reachable from a signed-in main window on a demo clinic: the list that
``make screenshots`` pictures (at every size of :data:`SIZES`, light and dark) and that the
text-fit test walks (``tests/app/ui/test_text_fit.py``, with :mod:`app.ui.text_fit`).

A :class:`Screen` is a name (its PNG's), a line saying what it shows, and a function that takes
a :class:`Stage` (the main window, the demo owner signed in) to the screen and returns the
widget to picture and check. A new screen (forms, charts, photos, payments, reports...) joins by
writing that function here, or in its own module imported at the end of this one, decorated
with :func:`screen`::

    @screen("charts", "A client's chart: the face map with units and lots")
    def _charts(stage: Stage) -> QWidget:
        stage.open_client(stage.memo("rich", lambda: stage.run_db(lambda s: showcase.rich_client(s, now=stage.now))))
        stage.window.detail.tabs.select("Charts")
        return stage.window

Screens are shown in order, and each one brings the window where it needs it from wherever the
previous one left it (signed in, its page, its client), so any one can be shown again at another
size. The demo clinic is generated at :data:`NOW` and its clock stands still there: the same
demo gives the same pictures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from app.ui.desk import Desk
from app.ui.main_window import MainWindow
from app.ui.operations import Operations

#: the sizes every screen is pictured and checked at: the common clinic laptop and a desktop monitor
SIZES: tuple[tuple[int, int], ...] = ((1280, 800), (1920, 1080))
THEMES = ("light", "dark")
#: Thursday, November 19, 2026, 1:40 PM in Los Angeles (the demo clinic's time zone): the day
#: half done (completed, checked-in and upcoming appointments, and the now-line)
NOW = datetime(2026, 11, 19, 21, 40, tzinfo=UTC)
OWNER_PIN = "1234"
SEARCH = "mar"


@dataclass(frozen=True)
class Screen:
    name: str  # the PNG's name, without ".png"
    title: str  # what it shows
    show: Callable[[Stage], QWidget]  # gets there; returns the widget to picture and check


SCREENS: list[Screen] = []


def screen(name: str, title: str) -> Callable[[Callable[[Stage], QWidget]], Callable[[Stage], QWidget]]:
    """Register a screen (in the order of registration)."""
    def register(show: Callable[[Stage], QWidget]) -> Callable[[Stage], QWidget]:
        if any(s.name == name for s in SCREENS):
            raise ValueError(f"a screen named {name!r} is registered already")
        SCREENS.append(Screen(name, title, show))
        return show
    return register


class Stage:
    """A main window on a demo clinic and what the screens need to get somewhere in it."""

    def __init__(self, app: QApplication, window: MainWindow, *, owner_id: str, owner_pin: str = OWNER_PIN) -> None:
        self.app = app
        self.window = window
        self.owner_id = owner_id
        self.owner_pin = owner_pin
        self._memo: dict[str, Any] = {}

    @property
    def desk(self) -> Desk:
        return self.window.desk

    @property
    def now(self) -> datetime:
        return self.desk.now()

    def wait(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not get there in time")
            self.app.processEvents()
            time.sleep(0.005)

    def settle(self) -> None:
        """Let layouts, posted events and deferred paints run."""
        for _ in range(8):
            self.app.processEvents()
            time.sleep(0.01)

    def resize(self, size: tuple[int, int]) -> None:
        self.window.resize(*size)
        self.settle()

    def memo(self, key: str, make: Callable[[], Any]) -> Any:
        """``make()`` once per stage (the same client at every size)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def run_db(self, work: Callable[[Any], Any], *, writes: set[str] | None = None) -> Any:
        """``work(store)`` on the DB worker; its result (the stage waits for it)."""
        store = self.desk.workspace.store
        done: list[Any] = []
        failed: list[BaseException] = []
        self.desk.ops.run_db(lambda: work(store), on_success=done.append, on_failure=failed.append,
                             writes=writes or set())
        self.wait(lambda: bool(done or failed))
        if failed:
            raise failed[0]
        return done[0]

    def sign_in(self) -> None:
        """The demo owner signed in (typing the PIN when the sign-in screen is up)."""
        window = self.window
        if not window.locked:
            return
        self.wait(lambda: window.signin.staff.count() > 0)
        window.signin.choose(self.owner_id)
        window.signin.pin.setFocus()
        QTest.keyClicks(window.signin.pin, self.owner_pin)
        QTest.keyClick(window.signin.pin, Qt.Key.Key_Return)
        self.wait(lambda: not window.locked)

    def page(self, key: str) -> Any:
        self.sign_in()
        self.window.show_page(key)
        return self.window.pages[key]

    def open_client(self, patient_id: str, tab: str = "Timeline") -> Any:
        """The record of ``patient_id`` on the Clients screen, on ``tab``; returns the record panel."""
        self.page("clients")
        window = self.window
        detail = window.detail
        if detail.client is None or detail.client.id != patient_id or not window.clients.showing_record:
            window.open_patient(patient_id)
            self.wait(lambda: detail.client is not None and detail.client.id == patient_id)
        detail.tabs.select(tab)
        return detail


@contextmanager
def demo_stage(home: Path, *, patients: int, now: datetime = NOW,
               size: tuple[int, int] = SIZES[0]) -> Iterator[Stage]:
    """A demo clinic of ``patients`` clients generated at ``now`` in ``home`` (its clock stands
    still there), its main window shown at ``size`` with the demo owner signed in. The caller
    provides the key source (``GLOWDESK_KEY_FILE``) and the themed QApplication."""
    from app.services.demo import generate_demo
    from app.services.workspace import open_workspace
    from core.clock import FixedClock

    app = QApplication.instance()
    assert isinstance(app, QApplication), "a QApplication comes first"
    workspace = open_workspace(home, clock=FixedClock(now))
    if workspace.clinic is None:
        generate_demo(workspace.store, patients=patients, now=now)
        workspace.reload()
    ops = Operations()
    window: MainWindow | None = None
    try:
        window = MainWindow(Desk(ops, workspace, actor=None))
        window.resize(*size)
        window.show()
        stage = Stage(app, window, owner_id=str(workspace.demo_staff_id))
        stage.wait(lambda: window.summary is not None)
        stage.sign_in()
        yield stage
    finally:
        if window is not None:
            window.close()
            window.deleteLater()
        ops.shutdown(final=workspace.close)


# --- the screens ---------------------------------------------------------------------------------


@screen("signin", "Sign-in: the staff of the clinic, the owner chosen, the PIN to type")
def _signin(stage: Stage) -> QWidget:
    window = stage.window
    if not window.locked:
        window.switch_user()
    stage.wait(lambda: window.signin.staff.count() > 0)
    window.signin.choose(stage.owner_id)
    return window


@screen("today", "Today: the day per provider, half done, the now-line")
def _today(stage: Stage) -> QWidget:
    from app.ui.schedule.layout import DAY

    today = stage.page("today")
    today.set_mode(DAY)
    today.go_today()
    stage.wait(lambda: not today.loading and today.layout_model is not None and today.layout_model.mode == DAY)
    return stage.window


@screen("week", "The week: a column per day, every appointment of the clinic")
def _week(stage: Stage) -> QWidget:
    from app.ui.schedule.layout import WEEK

    today = stage.page("today")
    today.go_today()
    today.set_mode(WEEK)
    stage.wait(lambda: not today.loading and today.layout_model is not None and today.layout_model.mode == WEEK)
    return stage.window


def _clients(stage: Stage, text: str, ready: Callable[[Any], bool]) -> MainWindow:
    """The Clients screen (no record open) with ``text`` searched, once ``ready(search panel)``."""
    stage.page("clients")
    window = stage.window
    window.clients.close_record()
    window.search.field.setText(text)
    stage.wait(lambda: ready(window.search))
    return window


@screen("patients", "Clients: a search typed, its results")
def _patients(stage: Stage) -> QWidget:
    window = _clients(stage, SEARCH, lambda search: not search.searching and search.model.rowCount() > 0)
    window.search.table.selectRow(0)
    return window


@screen("client-record", "A client's record: alerts, visits, tags, consents, the timeline")
def _client_record(stage: Stage) -> QWidget:
    from app.services import showcase

    now = stage.now
    patient_id = stage.memo("rich", lambda: stage.run_db(lambda store: showcase.rich_client(store, now=now)))
    stage.open_client(patient_id, "Timeline")
    return stage.window


@screen("messages", "A client's Messages tab: the shared thread, a template inserted")
def _messages(stage: Stage) -> QWidget:
    from app.services import showcase

    now = stage.now
    patient_id = stage.memo("thread", lambda: stage.run_db(lambda store: showcase.thread_client(store, now=now)))
    detail = stage.open_client(patient_id, "Messages")
    panel = detail.tabs.messages
    stage.wait(lambda: panel.thread is not None and panel.thread.patient_id == patient_id and not panel.loading)
    compose = panel.compose
    index = compose.templates.findText("Appointment reminder")
    if index > 0 and compose.templates.currentIndex() != index:
        compose.templates.setCurrentIndex(index)
        compose.templates.activated.emit(index)
    panel.list.scrollToBottom()
    return stage.window


@screen("unread", "Clients with nothing searched: the clients waiting for an answer")
def _unread(stage: Stage) -> QWidget:
    return _clients(stage, "", lambda search: search.unread.isVisible())


@screen("leads", "Leads: open leads, the newest selected with its reply timer and claim")
def _leads(stage: Stage) -> QWidget:
    leads = stage.page("leads")
    leads.set_status("open")
    stage.wait(lambda: not leads.loading and leads.model.rowCount() > 0)
    leads.table.selectRow(0)
    return stage.window


@screen("duplicates", "Duplicates: a possible duplicate, the two records side by side")
def _duplicates(stage: Stage) -> QWidget:
    from app.services.demo import add_demo_duplicate

    stage.memo("duplicate", lambda: stage.run_db(add_demo_duplicate, writes={"merge_review"}))
    duplicates = stage.page("duplicates")
    stage.wait(lambda: bool(duplicates.cases))
    return stage.window


def _settings(stage: Stage, section: str) -> Any:
    settings = stage.page("settings")
    settings.show_section(section)
    stage.wait(lambda: settings.settings is not None)
    return settings


@screen("settings", "Settings: the service menu")
def _services(stage: Stage) -> QWidget:
    _settings(stage, "service")
    return stage.window


@screen("staff", "Settings: the staff, their roles and working hours")
def _staff(stage: Stage) -> QWidget:
    _settings(stage, "staff")
    return stage.window


@screen("templates", "Settings: the clinic's text templates")
def _templates(stage: Stage) -> QWidget:
    settings = _settings(stage, "template")
    stage.wait(lambda: not settings.templates.loading and settings.templates.model.rowCount() > 0)
    return stage.window


@screen("lead-routing", "Settings: lead routing, the demo clinic's rules")
def _lead_routing(stage: Stage) -> QWidget:
    """The rules as this workstation's copy holds them (a demo clinic has no server to ask)."""
    from app.services import showcase
    from app.sync.requests import RoutingSheet

    settings = _settings(stage, "lead_routing")
    routing = settings.routing
    stage.wait(lambda: not routing.busy)
    if routing.sheet is None:
        routing.show_sheet(RoutingSheet.of(stage.run_db(showcase.routing_sheet)))
    routing.rule_list.setCurrentRow(0)
    return stage.window


@screen("workstation", "Settings: the idle lock and notifications of this workstation")
def _workstation(stage: Stage) -> QWidget:
    _settings(stage, "workstation")
    return stage.window


__all__ = ["NOW", "SCREENS", "SIZES", "THEMES", "Screen", "Stage", "demo_stage", "screen"]
