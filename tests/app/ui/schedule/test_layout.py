"""The schedule's layout model on its own: columns, lanes, hours, drop targets and pixels."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.services.appointments import (
    LocationInfo,
    Provider,
    RoomInfo,
    ScheduleEntry,
    ScheduleSetup,
)
from app.ui.schedule.layout import (
    BY_ROOM,
    NO_ROOM,
    WEEK,
    Grid,
    ScheduleLayout,
    local_minutes,
    snap,
    to_utc,
)

TZ = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 11, 19)  # a Thursday

SETUP = ScheduleSetup(
    timezone="America/Los_Angeles",
    providers=(Provider("p-nora", "Nora Kim", "provider", None, "#6C5B7B"),
               Provider("p-priya", "Priya Raman", "provider", None, "#C06C84")),
    rooms=(RoomInfo("r-b", "Treatment Room B", "l-pa", "Palo Alto", "treatment"),
           RoomInfo("r-1", "Injection Room 1", "l-sf", "Pacific Heights", "treatment"),
           RoomInfo("r-laser", "Laser Suite", "l-sf", "Pacific Heights", "laser")),
    devices=(),
    services=(),
    locations=(LocationInfo("l-sf", "Pacific Heights"), LocationInfo("l-pa", "Palo Alto")),
)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


def entry(eid: str, start: datetime, minutes: int = 30, *, provider: str = "p-nora", room: str | None = "r-1",
          status: str = "booked", before: int = 0, after: int = 10, device: str | None = None,
          location: str | None = "l-sf") -> ScheduleEntry:
    return ScheduleEntry(
        id=eid, patient_id=f"pt-{eid}", client_name=f"Client {eid}", vip=False, service_id="s", service_name="Botox",
        provider_id=provider, provider_name={"p-nora": "Nora Kim", "p-priya": "Priya Raman"}.get(provider, "Former"),
        location_id=location, room_id=room, room_name=None, device_id=device, device_name=None, start_at=start,
        end_at=start + timedelta(minutes=minutes), buffer_before_min=before, buffer_after_min=after, status=status,
        deposit_status="required", deposit_minor=5000, price_minor=0, currency="USD", tentative=False, notes=None)


def test_a_day_has_a_column_per_provider_and_each_block_sits_in_its_own():
    entries = [entry("a", local(DAY, 10)), entry("b", local(DAY, 11), provider="p-priya")]
    layout = ScheduleLayout(SETUP, entries, day=DAY)
    assert [c.title for c in layout.columns] == ["Nora Kim", "Priya Raman"]
    assert layout.columns[0].subtitle == "1 appointment \u00b7 Pacific Heights"
    assert layout.block("a").column == 0 and layout.block("b").column == 1
    assert layout.block("a").start == 600 and layout.block("a").end == 630
    assert layout.block("a").held_end == 640  # the clean-up buffer


def test_someone_not_on_the_provider_list_still_gets_a_column():
    layout = ScheduleLayout(SETUP, [entry("x", local(DAY, 10), provider="p-gone")], day=DAY)
    assert [c.title for c in layout.columns][-1] == "Former" and layout.block("x").column == 2


def test_overlapping_blocks_share_lanes_and_the_rest_keep_the_full_width():
    entries = [entry("a", local(DAY, 10), 60), entry("b", local(DAY, 10, 30), 60, status="cancelled"),
               entry("c", local(DAY, 11, 15), 30), entry("d", local(DAY, 13))]
    hidden = ScheduleLayout(SETUP, entries, day=DAY)
    assert hidden.block("b") is None and hidden.block("a").lanes == 1  # cancelled: hidden by default
    shown = ScheduleLayout(SETUP, entries, day=DAY, show_cancelled=True)
    a, b, c, d = (shown.block(x) for x in "abcd")
    assert (a.lane, b.lane, c.lane) == (0, 1, 0) and a.lanes == b.lanes == c.lanes == 2
    assert d.lanes == 1


def test_a_block_spreads_into_the_free_lanes_beside_it():
    """Three at 10:00 make three lanes; at 11:00 only one is booked: it takes the whole width
    (a crowded week keeps its words)."""
    entries = [entry("a", local(DAY, 10), 90), entry("b", local(DAY, 10), 45, provider="p-priya"),
               entry("c", local(DAY, 10), 30, provider="p-gone"), entry("d", local(DAY, 10, 45), 30, provider="p-priya")]
    layout = ScheduleLayout(SETUP, entries, day=DAY, mode=WEEK)
    a, b, c, d = (layout.block(x) for x in "abcd")
    assert (a.lane, b.lane, c.lane, d.lane) == (0, 1, 2, 1) and a.lanes == 3
    assert (a.span, b.span, c.span) == (1, 1, 1)
    assert d.span == 2  # 10:45 to 11:15: lane 2 is free again after 10:30
    grid = Grid(gutter=64, header=56, col_width=150, px_per_min=1.0, first_minute=540, columns=7)
    assert grid.block_rect(d)[2] == pytest.approx(100 - 2 * grid.lane_gap)


def test_a_week_leaves_out_the_days_the_clinic_is_closed_unless_something_is_booked():
    monday_to_saturday = replace(SETUP, open_weekdays=frozenset(range(6)))
    week = ScheduleLayout(monday_to_saturday, [entry("a", local(DAY, 10))], day=DAY, mode=WEEK)
    assert [c.day.weekday() for c in week.columns] == [0, 1, 2, 3, 4, 5]
    sunday = DAY + timedelta(days=6 - DAY.weekday())
    booked = ScheduleLayout(monday_to_saturday, [entry("a", local(sunday, 10))], day=DAY, mode=WEEK)
    assert [c.day.weekday() for c in booked.columns] == [0, 1, 2, 3, 4, 5, 6]
    assert booked.block("a").column == 6
    assert monday_to_saturday.first_open_day(sunday) == sunday + timedelta(days=1)


def test_rooms_by_location_and_a_column_for_bookings_without_a_room():
    entries = [entry("a", local(DAY, 10)), entry("b", local(DAY, 10), room=None, location=None)]
    layout = ScheduleLayout(SETUP, entries, day=DAY, group=BY_ROOM)
    assert [c.title for c in layout.columns] == ["Injection Room 1", "Laser Suite", "Treatment Room B", "No room"]
    assert layout.columns[0].subtitle == "Pacific Heights"
    assert layout.block("a").column == 0 and layout.block("b").column == 3
    here = ScheduleLayout(SETUP, entries, day=DAY, group=BY_ROOM, location_id="l-sf")
    assert [c.room_id for c in here.columns] == ["r-1", "r-laser", NO_ROOM]
    assert here.columns[0].subtitle == "1 appointment"


def test_a_week_runs_monday_to_sunday_with_a_column_a_day():
    entries = [entry("mon", local(date(2026, 11, 16), 9)), entry("sun", local(date(2026, 11, 22), 15)),
               entry("next", local(date(2026, 11, 23), 9)), entry("priya", local(DAY, 9), provider="p-priya")]
    layout = ScheduleLayout(SETUP, entries, day=DAY, mode=WEEK)
    assert [c.title for c in layout.columns] == ["Mon 16", "Tue 17", "Wed 18", "Thu 19", "Fri 20", "Sat 21", "Sun 22"]
    assert layout.block("mon").column == 0 and layout.block("sun").column == 6 and layout.block("next") is None
    mine = ScheduleLayout(SETUP, entries, day=DAY, mode=WEEK, focus_id="p-priya")
    assert [b.entry.id for b in mine.blocks] == ["priya"]
    assert mine.columns[3].subtitle == "1 appointment" and mine.columns[0].subtitle == "No appointments"


def test_hours_widen_to_hold_early_and_late_appointments():
    assert (ScheduleLayout(SETUP, [], day=DAY).first_minute, ScheduleLayout(SETUP, [], day=DAY).last_minute) == (
        9 * 60, 19 * 60)
    layout = ScheduleLayout(SETUP, [entry("a", local(DAY, 7, 30)), entry("b", local(DAY, 20, 15))], day=DAY)
    assert (layout.first_minute, layout.last_minute) == (7 * 60, 21 * 60)


def test_a_drop_target_snaps_to_the_quarter_hour_in_the_clinics_time():
    layout = ScheduleLayout(SETUP, [], day=DAY)
    target = layout.target(1, 14 * 60 + 8)
    assert target.minute == 14 * 60 + 15 and target.start_at == local(DAY, 14, 15)
    assert target.provider_id == "p-priya" and target.room_id is None
    rooms = ScheduleLayout(SETUP, [], day=DAY, group=BY_ROOM)
    assert rooms.target(1, 600).room_id == "r-laser" and rooms.target(1, 600).provider_id is None
    assert snap(52) == 45 and snap(53) == 60


def test_wall_clock_minutes_survive_the_end_of_daylight_saving():
    fall_back = date(2026, 11, 1)  # 1 AM happens twice in Los Angeles
    assert to_utc(fall_back, 10 * 60, TZ) == local(fall_back, 10)
    assert local_minutes(local(fall_back, 10), fall_back, TZ) == 600


def test_the_hint_while_dragging_knows_provider_room_device_and_buffers():
    busy = entry("busy", local(DAY, 14), 45, after=15, device="laser-1")
    moving = entry("m", local(DAY, 10), provider="p-priya", room="r-laser", device=None)
    layout = ScheduleLayout(SETUP, [busy, moving], day=DAY)
    assert layout.local_conflicts(moving, layout.target(0, 14 * 60 + 15)) == [busy]  # Nora is busy
    assert layout.local_conflicts(moving, layout.target(1, 14 * 60 + 15)) == []  # Priya and the laser room are free
    assert layout.local_conflicts(moving, layout.target(0, 15 * 60)) == []  # after the clean-up
    assert layout.local_conflicts(moving, layout.target(0, 14 * 60 + 45)) == [busy]  # within the clean-up
    lasered = replace(moving, device_id="laser-1")
    assert layout.local_conflicts(lasered, layout.target(1, 14 * 60 + 30)) == [busy]  # same device
    rooms = ScheduleLayout(SETUP, [busy, moving], day=DAY, group=BY_ROOM)
    assert rooms.local_conflicts(moving, rooms.target(0, 14 * 60)) == [busy]  # same room


@pytest.mark.parametrize("scroll", [0.0, 120.0])
def test_pixels_and_minutes_map_both_ways(scroll: float):
    grid = Grid(gutter=64, header=56, col_width=200, px_per_min=1.5, first_minute=540, columns=3, scroll_y=scroll)
    assert grid.y(540) == 56 - scroll and grid.minute_at(grid.y(700)) == pytest.approx(700)
    assert grid.column_at(63) is None and grid.column_at(64) == 0 and grid.column_at(663) == 2
    assert grid.column_at(665) is None and grid.nearest_column(9999) == 2
    layout = ScheduleLayout(SETUP, [entry("a", local(DAY, 10), 60), entry("b", local(DAY, 10, 30), 60)], day=DAY)
    x, y, w, h = grid.block_rect(layout.block("b"))
    assert x == pytest.approx(64 + 100 + grid.lane_gap) and w == pytest.approx(100 - 2 * grid.lane_gap)
    assert y == pytest.approx(grid.y(630) + 1) and h == pytest.approx(60 * 1.5 - 2)
