"""Today driven as the front desk would: look at the day, switch to rooms and to the week, open an
appointment, drag it around (and into conflicts), book from an empty slot, use the keyboard."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt

from app.db.models import Staff
from app.repositories import rows
from app.repositories.uow import system_actor, unit_of_work
from app.services.appointments import ScheduleEntry
from app.ui.schedule.layout import BY_ROOM, WEEK
from app.ui.schedule.today import TodayView
from tests.app.ui.schedule._helpers import NOW, SUNDAY, THURSDAY, TZ, at, make_desk, on_db, open_today

# --- helpers -------------------------------------------------------------------------------------


class Stage:
    """Set the scene through the appointment service on the DB worker."""

    def __init__(self, qtbot: Any, view: TodayView) -> None:
        self.qtbot, self.view = qtbot, view
        sd = view.sdesk
        self.service, self.actor = sd.service, sd.actor
        self.setup = self.db(lambda: self.service.setup(actor=self.actor))
        week = self.db(lambda: self.service.week(actor=self.actor, day=THURSDAY - timedelta(days=7)))
        self.patients = list(dict.fromkeys(e.patient_id for e in week.entries))

    def db(self, work: Any) -> Any:
        return on_db(self.qtbot, self.view.sdesk, work)

    def staff(self, name: str) -> str:
        return next(p.id for p in self.setup.providers if p.name == name)

    def room(self, name: str, location: str = "Pacific Heights") -> str:
        return next(r.id for r in self.setup.rooms if r.name == name and r.location_name == location)

    def menu(self, name: str) -> str:
        return next(s.id for s in self.setup.services if s.name == name)

    def book(self, who: str, what: str, start: Any, room: str, patient: int = 0) -> ScheduleEntry:
        return self.db(lambda: self.service.create(
            actor=self.actor, patient_id=self.patients[patient], service_id=self.menu(what),
            provider_id=self.staff(who), start_at=start, room_id=self.room(room)))

    def get(self, appointment_id: str) -> ScheduleEntry:
        return self.db(lambda: self.service.get(actor=self.actor, appointment_id=appointment_id))

    def day(self, day: date) -> list[ScheduleEntry]:
        return list(self.db(lambda: self.service.day(actor=self.actor, day=day)).entries)


def show_day(qtbot: Any, view: TodayView, day: date) -> None:
    view.go_to(day)
    qtbot.waitUntil(lambda: not view.loading and view.layout_model is not None and view.layout_model.day == day,
                    timeout=10_000)


def column_of(view: TodayView, title: str) -> int:
    assert view.layout_model is not None
    return next(i for i, c in enumerate(view.layout_model.columns) if c.title == title)


def drag(qtbot: Any, view: TodayView, appointment_id: str, column: int, hour: int, minute: int = 0) -> None:
    """Press on the block, move past the drag threshold, then to (column, time), and let go."""
    canvas = view.canvas
    vp = canvas.viewport()
    start = canvas.point_for(appointment_id)
    block = view.layout_model.block(appointment_id)  # type: ignore[union-attr]
    grab = canvas.grid.minute_at(start.y()) - block.start
    end = QPoint(round(canvas.grid.x(column) + canvas.grid.col_width / 2),
                 round(canvas.grid.y(hour * 60 + minute + grab)))
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, start + QPoint(0, 14))
    qtbot.mouseMove(vp, end)
    assert canvas.dragging
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)


def wait_notice(qtbot: Any, view: TodayView, text: str) -> str:
    qtbot.waitUntil(lambda: text in view.notice_text(), timeout=10_000)
    return view.notice_text()


# --- looking at the day --------------------------------------------------------------------------


def test_the_day_shows_each_appointment_in_its_providers_column_with_client_service_and_deposit(qtbot, view):
    stage = Stage(qtbot, view)
    expected = [e for e in stage.day(THURSDAY) if e.status not in ("cancelled", "late_cancelled")]
    assert expected, "the demo Thursday has appointments"
    layout = view.layout_model
    assert view.title.text() == "Thursday, November 19" and view.today_chip.isVisible()
    assert [c.title for c in layout.columns] == [p.name for p in stage.setup.providers]
    for e in expected:
        block = layout.block(e.id)
        assert block is not None, e.service_name
        column = layout.columns[block.column]
        assert column.provider_id == e.provider_id and column.title == e.provider_name
        texts = view.canvas.block_texts(e.id)
        assert e.client_name in texts and e.service_name in texts
        if e.deposit_label:
            assert e.deposit_label in texts
        rect = view.canvas.block_rect(e.id)
        assert rect is not None and rect.top() == pytest.approx(
            view.canvas.grid.y(e.start_at.astimezone(TZ).hour * 60 + e.start_at.astimezone(TZ).minute) + 1)
    assert f"{len([e for e in expected if e.holds_slot])} appointment" in view.summary.text()


def test_the_now_line_is_drawn_at_the_clinics_time(view):
    assert view.canvas.now == NOW and view.canvas.today == THURSDAY
    image = view.canvas.viewport().grab().toImage()
    y = round(view.canvas.grid.y(13 * 60 + 30))
    x = round(view.canvas.grid.x(0) + 6)
    colours = [image.pixelColor(x, y + dy) for dy in (-1, 0, 1)]
    assert any(c.red() > 200 and c.red() - c.green() > 100 for c in colours), [c.name() for c in colours]


def test_rooms_toggle_puts_each_appointment_in_its_rooms_column(qtbot, view):
    qtbot.mouseClick(view.room_button, Qt.MouseButton.LeftButton)
    layout = view.layout_model
    assert layout.group == BY_ROOM and len(layout.columns) == 12
    for block in layout.blocks:
        assert layout.columns[block.column].room_id == block.entry.room_id
        assert block.entry.provider_name in view.canvas.block_texts(block.entry.id)
    view.location_box.setCurrentIndex(view.location_box.findText("Pacific Heights"))
    assert [c.location_id for c in view.layout_model.columns] == [view.location_box.currentData()] * 6
    qtbot.keyClick(view, Qt.Key.Key_R)  # R toggles back to providers
    assert view.layout_model.group == "provider"


def test_clicking_a_block_opens_the_appointment(qtbot, view):
    block = view.layout_model.blocks[0]
    qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=view.canvas.point_for(block.entry.id))
    qtbot.waitUntil(lambda: view.details_dialog is not None and view.details_dialog.details is not None,
                    timeout=10_000)
    dialog = view.details_dialog
    assert dialog.isVisible() and dialog.details.entry.id == block.entry.id
    shown = dialog.visible_text()
    for text in (block.entry.client_name, block.entry.service_name, block.entry.provider_name,
                 block.entry.status_label):
        assert text in shown
    with qtbot.waitSignal(view.open_patient_requested) as opened:
        qtbot.mouseClick(dialog.open_record, Qt.MouseButton.LeftButton)
    assert opened.args == [block.entry.patient_id]


def test_status_buttons_in_the_appointment_follow_the_state_machine(qtbot, view):
    stage = Stage(qtbot, view)
    booked = stage.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 10), "Injection Room 1")
    show_day(qtbot, view, SUNDAY)
    view.open_appointment(booked.id)
    qtbot.waitUntil(lambda: view.details_dialog.details is not None, timeout=10_000)
    assert "Tentative" in view.details_dialog.visible_text()
    assert set(view.details_dialog.status_buttons) == {"confirmed", "checked_in", "no_show", "late_cancelled",
                                                       "cancelled"}
    qtbot.mouseClick(view.details_dialog.status_buttons["confirmed"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.details_dialog.details.entry.status == "confirmed", timeout=10_000)
    qtbot.waitUntil(lambda: view.entry(booked.id) is not None and view.entry(booked.id).status == "confirmed",
                    timeout=10_000)  # the schedule refreshed behind the dialog
    assert stage.get(booked.id).status == "confirmed"


# --- moving --------------------------------------------------------------------------------------


def test_drag_to_a_free_slot_moves_the_appointment_and_saves_it(qtbot, view):
    stage = Stage(qtbot, view)
    booked = stage.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 10), "Injection Room 1")
    show_day(qtbot, view, SUNDAY)
    drag(qtbot, view, booked.id, column_of(view, "Nora Kim"), 11, 30)
    assert wait_notice(qtbot, view, "Moved") == f"Moved {booked.client_name} to Sun 11:30 AM."
    saved = stage.get(booked.id)
    assert saved.start_at == at(SUNDAY, 11, 30) and saved.end_at == at(SUNDAY, 12)
    assert view.layout_model.block(booked.id).start == 11 * 60 + 30
    drag(qtbot, view, booked.id, column_of(view, "Priya Raman"), 11, 30)  # same time, another provider
    wait_notice(qtbot, view, "with Priya Raman")
    assert stage.get(booked.id).provider_name == "Priya Raman"
    assert view.layout_model.columns[view.layout_model.block(booked.id).column].title == "Priya Raman"


def _provider_busy(stage: Stage, view: TodayView) -> tuple[str, int, int, int, str]:
    stage.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")
    mover = stage.book("Priya Raman", "Botox Cosmetic", at(SUNDAY, 10), "Injection Room 2", patient=1)
    return mover.id, column_of(view, "Nora Kim"), 14, 0, "Nora Kim is already booked 2:00\u20132:45 PM"


def _room_busy(stage: Stage, view: TodayView) -> tuple[str, int, int, int, str]:
    stage.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")
    mover = stage.book("Priya Raman", "Botox Cosmetic", at(SUNDAY, 10), "Injection Room 2", patient=1)
    view.set_group(BY_ROOM)
    return mover.id, column_of(view, "Injection Room 1"), 14, 15, \
        "Injection Room 1 is already booked 2:00\u20132:45 PM"


def _device_busy(stage: Stage, view: TodayView) -> tuple[str, int, int, int, str]:
    stage.book("Elena Rossi", "Laser Hair Removal — Small Area", at(SUNDAY, 10), "Laser Suite")
    mover = stage.book("Jasmine Okafor", "Laser Hair Removal — Small Area", at(SUNDAY, 12), "Skin Studio", patient=1)
    return mover.id, column_of(view, "Jasmine Okafor"), 10, 0, "GentleMax Pro is in use 10:00\u201310:15 AM"


def _buffer_overlap(stage: Stage, view: TodayView) -> tuple[str, int, int, int, str]:
    stage.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")  # 15 min clean-up after
    mover = stage.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 16), "Injection Room 2", patient=1)
    return mover.id, column_of(view, "Nora Kim"), 14, 45, \
        "Nora Kim is already booked 2:00\u20132:45 PM; with set-up and clean-up this can start at 3:00 PM"


@pytest.mark.parametrize("scene", [_provider_busy, _room_busy, _device_busy, _buffer_overlap],
                         ids=["provider", "room", "device", "buffer"])
def test_drag_into_a_conflict_is_refused_snaps_back_and_says_why(qtbot, view, scene):
    stage = Stage(qtbot, view)
    show_day(qtbot, view, SUNDAY)
    mover, column, hour, minute, reason = scene(stage, view)
    view.refresh()
    qtbot.waitUntil(lambda: not view.loading and view.layout_model.block(mover) is not None, timeout=10_000)
    before = stage.get(mover)
    home = view.canvas.block_rect(mover)
    drag(qtbot, view, mover, column, hour, minute)
    notice = wait_notice(qtbot, view, "Can't move")
    assert reason in notice, notice
    assert stage.get(mover) == before  # nothing saved
    assert view.canvas.block_rect(mover) == home and not view.canvas._pending  # snapped back
    assert view.layout_model.block(mover).entry.start_at == before.start_at


def test_a_client_in_the_chair_cannot_be_dragged(qtbot, view):
    stage = Stage(qtbot, view)
    booked = stage.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 10), "Injection Room 1")
    stage.db(lambda: stage.service.set_status(actor=stage.actor, appointment_id=booked.id, status="checked_in"))
    show_day(qtbot, view, SUNDAY)
    vp = view.canvas.viewport()
    start = view.canvas.point_for(booked.id)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, start + QPoint(0, 40))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=start + QPoint(0, 40))
    assert "checked in appointment can't be moved" in wait_notice(qtbot, view, "can't be moved")
    assert stage.get(booked.id).start_at == at(SUNDAY, 10)


# --- booking -------------------------------------------------------------------------------------


def _open_slot(qtbot: Any, view: TodayView, provider: str, hour: int, minute: int = 0) -> Any:
    pos = view.canvas.point_at(column_of(view, provider), hour * 60 + minute)
    qtbot.mouseDClick(view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: view.new_dialog is not None and view.new_dialog.isVisible(), timeout=5_000)
    return view.new_dialog


def _choose_client(qtbot: Any, dialog: Any, text: str) -> None:
    qtbot.keyClicks(dialog.client, text)
    qtbot.waitUntil(lambda: dialog.results.isVisible() and dialog.results.count() > 0
                    and bool(dialog.results.item(0).data(Qt.ItemDataRole.UserRole)), timeout=5_000)
    qtbot.keyClick(dialog.client, Qt.Key.Key_Return)  # takes the first result, and only that
    assert dialog.patient_id is not None and dialog.isVisible() and not dialog.saving
    assert dialog.result_entry is None


def test_book_from_an_empty_slot(qtbot, view):
    stage = Stage(qtbot, view)
    show_day(qtbot, view, SUNDAY)
    dialog = _open_slot(qtbot, view, "Nora Kim", 11)
    assert dialog.provider.currentText() == "Nora Kim" and dialog.start.time().hour() == 11
    client = stage.day(THURSDAY)[0].client_name
    _choose_client(qtbot, dialog, client.split()[-1])
    dialog.select_service("Botox Cosmetic")
    dialog.select_room(stage.room("Injection Room 1"))
    qtbot.waitUntil(lambda: not dialog.checking and dialog.book_button.isEnabled(), timeout=5_000)
    assert "11:00\u201311:30 AM" in dialog.summary.text() and "$50 deposit required" in dialog.summary.text()
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result_entry is not None, timeout=10_000)
    booked = dialog.result_entry
    saved = stage.get(booked.id)
    assert saved.start_at == at(SUNDAY, 11) and saved.provider_name == "Nora Kim" and saved.tentative
    assert saved.service_name == "Botox Cosmetic" and saved.room_name == "Injection Room 1"
    assert "Booked" in view.notice_text()
    qtbot.waitUntil(lambda: view.layout_model.block(booked.id) is not None, timeout=5_000)
    assert view.layout_model.columns[view.layout_model.block(booked.id).column].title == "Nora Kim"


def test_booking_into_a_conflict_says_why_and_saves_nothing(qtbot, view):
    stage = Stage(qtbot, view)
    stage.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")
    show_day(qtbot, view, SUNDAY)
    dialog = _open_slot(qtbot, view, "Nora Kim", 14, 45)  # free, but inside the 15 min clean-up
    _choose_client(qtbot, dialog, stage.day(THURSDAY)[1].client_name.split()[-1])
    dialog.select_service("Botox Cosmetic")
    dialog.select_room(stage.room("Injection Room 2"))
    qtbot.waitUntil(lambda: not dialog.checking and dialog.problem.isVisible(), timeout=5_000)
    assert dialog.problem.text() == ("Nora Kim is already booked 2:00\u20132:45 PM; with set-up and clean-up "
                                     "this can start at 3:00 PM at the earliest")
    assert not dialog.book_button.isEnabled()
    dialog.book()  # even when forced, the service refuses
    qtbot.waitUntil(lambda: not dialog.saving, timeout=10_000)
    assert dialog.isVisible() and "Nora Kim is already booked" in dialog.problem.text()
    assert len(stage.day(SUNDAY)) == 1
    # a free time in the same dialog books
    dialog.start.setTime(dialog.start.time().addSecs(15 * 60))  # 3:00 PM: right after the clean-up
    qtbot.waitUntil(lambda: not dialog.checking and dialog.book_button.isEnabled(), timeout=5_000)
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result_entry is not None, timeout=10_000)
    assert len(stage.day(SUNDAY)) == 2


# --- the week, the keyboard, other people's changes ----------------------------------------------


def test_the_week_has_a_column_a_day_and_can_show_one_provider(qtbot, view):
    stage = Stage(qtbot, view)
    qtbot.mouseClick(view.week_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.loading and view.layout_model.mode == WEEK, timeout=10_000)
    layout = view.layout_model
    # Sunday: the clinic is closed and nothing is booked: its room goes to the open days
    assert [c.title for c in layout.columns] == ["Mon 16", "Tue 17", "Wed 18", "Thu 19", "Fri 20", "Sat 21"]
    assert view.title.text() == "Nov 16 \u2013 22"  # this year's week, like this year's day, without the year
    week = [e for e in stage.db(lambda: stage.service.week(actor=stage.actor, day=THURSDAY)).entries
            if e.status not in ("cancelled", "late_cancelled")]
    assert {b.entry.id for b in layout.blocks} == {e.id for e in week}
    for block in layout.blocks:
        assert layout.columns[block.column].day == block.entry.start_at.astimezone(TZ).date()
    nora = stage.staff("Nora Kim")
    view.set_focus(nora)
    assert view.layout_model.blocks and all(b.entry.provider_id == nora for b in view.layout_model.blocks)
    view.next()
    qtbot.waitUntil(lambda: not view.loading and view.layout_model.columns[0].day == date(2026, 11, 23),
                    timeout=10_000)


def test_arrows_move_the_day_and_t_comes_back_to_today(qtbot, view):
    view.canvas.setFocus()
    qtbot.keyClick(view.canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: not view.loading and view.layout_model.day == date(2026, 11, 20), timeout=10_000)
    assert view.title.text() == "Friday, November 20" and not view.today_chip.isVisible()
    qtbot.keyClick(view.canvas, Qt.Key.Key_Left)
    qtbot.keyClick(view.canvas, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: not view.loading and view.layout_model.day == date(2026, 11, 18), timeout=10_000)
    qtbot.keyClick(view.canvas, Qt.Key.Key_T)
    qtbot.waitUntil(lambda: not view.loading and view.layout_model.day == THURSDAY, timeout=10_000)
    qtbot.keyClick(view.canvas, Qt.Key.Key_W)
    qtbot.waitUntil(lambda: not view.loading and view.layout_model.mode == WEEK, timeout=10_000)


def test_changes_from_elsewhere_appear_without_a_refresh(qtbot, view):
    stage = Stage(qtbot, view)
    show_day(qtbot, view, SUNDAY)
    assert not view.layout_model.blocks
    arrived = stage.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 10), "Injection Room 1")
    assert view.layout_model.block(arrived.id) is None  # nobody said anything yet
    view.sdesk.ops.changes_did_happen.emit({"appointment"}, "sync")  # what the sync engine broadcasts
    qtbot.waitUntil(lambda: view.layout_model.block(arrived.id) is not None, timeout=10_000)


@pytest.mark.parametrize("subjects", [{"staff", "settings"}, {"settings"}])
def test_a_provider_renamed_elsewhere_renames_the_column(qtbot, view, subjects):
    """Sync brings a staff or settings change (a colleague renamed a provider): the columns follow."""
    stage = Stage(qtbot, view)
    show_day(qtbot, view, THURSDAY)
    nora = stage.staff("Nora Kim")
    assert any(c.title == "Nora Kim" for c in view.layout_model.columns)

    def rename() -> None:
        store = stage.service.store
        with unit_of_work(store, system_actor(store)) as ctx:
            rows.update(ctx, ctx.session.get(Staff, nora), {"display_name": "Nora Kim-Lee"})

    stage.db(rename)
    view.sdesk.ops.changes_did_happen.emit(subjects, "sync")
    qtbot.waitUntil(lambda: any(c.title == "Nora Kim-Lee" for c in view.layout_model.columns), timeout=10_000)


def test_a_change_arriving_mid_drag_waits_for_the_drop(qtbot, view):
    stage = Stage(qtbot, view)
    booked = stage.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 10), "Injection Room 1")
    show_day(qtbot, view, SUNDAY)
    vp, canvas = view.canvas.viewport(), view.canvas
    start = canvas.point_for(booked.id)
    end = QPoint(start.x(), round(canvas.grid.y(12 * 60) + (start.y() - canvas.grid.y(10 * 60))))
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, start + QPoint(0, 14))
    qtbot.mouseMove(vp, end)
    view.sdesk.ops.changes_did_happen.emit({"appointment"}, "sync")
    qtbot.wait(100)
    assert canvas.dragging and not view.loading  # the reload waits
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
    wait_notice(qtbot, view, "Moved")
    assert stage.get(booked.id).start_at == at(SUNDAY, 12)


def test_a_role_that_cannot_book_can_still_look(qtbot, demo_home):
    desk = make_desk(demo_home, "Dr. Diane Moreau")
    try:
        view = open_today(qtbot, desk)
        assert not view.new_button.isEnabled() and view.layout_model.blocks
        block = next(b for b in view.layout_model.blocks if b.entry.movable)
        vp = view.canvas.viewport()
        start = view.canvas.point_for(block.entry.id)
        qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
        qtbot.mouseMove(vp, start + QPoint(0, 40))
        qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=start + QPoint(0, 40))
        assert "not change it" in wait_notice(qtbot, view, "schedule")
        view.close()
    finally:
        assert desk.ops.shutdown(final=desk.workspace.close)


# --- a closed day ----------------------------------------------------------------------------------


def test_today_on_a_day_the_clinic_is_closed_opens_on_the_next_open_day(qtbot, demo_home):
    """The demo clinic opens Monday to Saturday: on Sunday, Today shows Monday and says why."""
    from core.clock import FixedClock

    desk = make_desk(demo_home)
    clock = desk.workspace.store.clock
    assert isinstance(clock, FixedClock)
    clock.set(at(SUNDAY, 16, 45))
    try:
        view = open_today(qtbot, desk)
        monday = SUNDAY + timedelta(days=1)
        assert view.layout_model.day == monday and view.day == monday
        assert view.title.text() == "Monday, November 23"
        assert view.today_chip.isVisible() and view.today_chip.text() == "Next open day"
        assert "closed today (Sunday)" in view.today_chip.toolTip()
        qtbot.keyClick(view.canvas, Qt.Key.Key_Left)  # Sunday itself is one step back
        qtbot.waitUntil(lambda: not view.loading and view.layout_model.day == SUNDAY, timeout=10_000)
        assert view.title.text() == "Sunday, November 22" and view.today_chip.text() == "Today"
        qtbot.mouseClick(view.today_button, Qt.MouseButton.LeftButton)  # Today: the next open day again
        qtbot.waitUntil(lambda: not view.loading and view.layout_model.day == monday, timeout=10_000)
        assert view.today_chip.text() == "Next open day"
        clock.set(at(monday, 8, 0))  # on an open day, Today is today
        view.go_to(THURSDAY)
        qtbot.waitUntil(lambda: not view.loading and view.layout_model.day == THURSDAY, timeout=10_000)
        qtbot.keyClick(view.canvas, Qt.Key.Key_T)
        qtbot.waitUntil(lambda: not view.loading and view.layout_model.day == monday, timeout=10_000)
        assert view.today_chip.text() == "Today"
    finally:
        assert desk.ops.shutdown(final=desk.workspace.close)
