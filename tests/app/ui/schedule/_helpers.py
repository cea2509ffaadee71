"""Helpers for the Today tests: the fixed moment, opening Today on a desk, running on the DB worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from app.services.workspace import open_workspace
from app.ui.desk import Desk
from app.ui.operations import Operations
from app.ui.schedule.today import TodayView
from core.clock import FixedClock

NOW = datetime(2026, 11, 19, 21, 30, tzinfo=UTC)  # Thursday, 1:30 PM in Los Angeles
TZ = ZoneInfo("America/Los_Angeles")
THURSDAY = date(2026, 11, 19)
SUNDAY = date(2026, 11, 22)  # nobody works on Sundays in the demo clinic: a clean page for staging
T = TypeVar("T")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


def make_desk(home: Path, staff_name: str | None = None) -> Desk:
    workspace = open_workspace(home, clock=FixedClock(NOW))
    actor = workspace.default_actor()
    if staff_name is not None:
        from app.services.staff import sign_in

        pins = {"Dr. Diane Moreau": "1357", "Felix Park": "5555", "Nora Kim": "2222"}
        actor = sign_in(workspace.store, pin=pins[staff_name], name=staff_name)
    return Desk(Operations(), workspace, actor=actor)


def open_today(qtbot: Any, desk: Desk) -> TodayView:
    view = TodayView(desk)
    qtbot.addWidget(view)
    view.resize(1440, 900)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.layout_model is not None and not view.loading, timeout=10_000)
    return view


def on_db(qtbot: Any, desk: Desk, work: Callable[[], T]) -> T:
    """Run ``work`` on the DB worker (as the app would) and wait for its answer."""
    box: list[Any] = []
    desk.ops.run_db(work, on_success=lambda v: box.append(("ok", v)), on_failure=lambda e: box.append(("err", e)))
    qtbot.waitUntil(lambda: bool(box), timeout=10_000)
    kind, value = box[0]
    if kind == "err":
        raise value
    return value  # type: ignore[no-any-return]
