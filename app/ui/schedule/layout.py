"""Where everything goes on the schedule: columns, blocks, lanes and the time grid (no widgets).

:class:`ScheduleLayout` turns a :class:`~app.services.appointments.Schedule` into columns (one
per provider or per room for a day, one per day for a week) and blocks placed in minutes of the
local day, side by side in lanes where they overlap. :class:`Grid` maps those minutes and columns
to pixels and back. Both are plain Python so they are tested on their own; the canvas only paints
what they say.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.services.appointments import ScheduleEntry, ScheduleSetup

DAY = "day"
WEEK = "week"
BY_PROVIDER = "provider"
BY_ROOM = "room"

#: the hours shown when nothing is booked outside them
FIRST_HOUR = 9
LAST_HOUR = 19
#: drops snap to this many minutes
SNAP_MINUTES = 15
NO_ROOM = "__no_room__"
HIDDEN_STATUSES = frozenset({"cancelled", "late_cancelled"})


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    subtitle: str
    day: date
    color: str | None = None
    provider_id: str | None = None
    room_id: str | None = None
    location_id: str | None = None
    count: int = 0


@dataclass(frozen=True)
class Block:
    entry: ScheduleEntry
    column: int
    lane: int
    lanes: int
    start: float  # minutes after the local midnight of the column's day
    end: float
    held_start: float  # with the set-up buffer
    held_end: float  # with the clean-up buffer
    #: lanes the block covers from its own: the free lanes to its right, while nothing of its
    #: cluster sits in them at its time (a crowded week keeps words on the blocks it can)
    span: int = 1


@dataclass(frozen=True)
class Target:
    """Where a drop or an empty-slot click lands."""

    day: date
    start_at: datetime  # UTC
    provider_id: str | None
    room_id: str | None
    column: int
    minute: int


def local_minutes(moment: datetime, day: date, tz: ZoneInfo) -> float:
    """Minutes from ``day``'s local midnight to ``moment`` on the wall clock."""
    local = moment.astimezone(tz)
    days = (local.date() - day).days
    return days * 1440 + local.hour * 60 + local.minute + local.second / 60


def to_utc(day: date, minute: float, tz: ZoneInfo) -> datetime:
    """The UTC moment ``minute`` minutes after ``day``'s local midnight (wall clock)."""
    whole = int(round(minute))
    on = day + timedelta(days=whole // 1440)
    whole %= 1440
    return datetime.combine(on, time(whole // 60, whole % 60), tz).astimezone(UTC)


def snap(minute: float, step: int = SNAP_MINUTES) -> int:
    return int(round(minute / step) * step)


class ScheduleLayout:
    """The columns and blocks of one day (per provider or per room) or one week (per day)."""

    def __init__(
        self,
        setup: ScheduleSetup,
        entries: Iterable[ScheduleEntry],
        *,
        day: date,
        mode: str = DAY,
        group: str = BY_PROVIDER,
        location_id: str | None = None,
        focus_id: str | None = None,
        show_cancelled: bool = False,
    ) -> None:
        self.setup = setup
        self.tz = ZoneInfo(setup.timezone)
        self.mode = mode
        self.group = group
        self.location_id = location_id
        self.focus_id = focus_id
        self.show_cancelled = show_cancelled
        self.day = day
        wanted = [e for e in entries if self._shown(e)]
        self.days = self._days(day, wanted)
        self.entries: list[ScheduleEntry] = wanted
        self.columns: list[Column] = self._columns(wanted)
        self.blocks: list[Block] = self._blocks(wanted)
        self.first_minute, self.last_minute = self._hours()
        self._by_id = {b.entry.id: b for b in self.blocks}

    # --- questions the canvas and the view ask ------------------------------------------------

    @property
    def minutes(self) -> int:
        return self.last_minute - self.first_minute

    def block(self, appointment_id: str) -> Block | None:
        return self._by_id.get(appointment_id)

    def blocks_in(self, column: int) -> list[Block]:
        return [b for b in self.blocks if b.column == column]

    def column_of(self, entry: ScheduleEntry) -> int | None:
        """The column an entry belongs in (None when it is not on this page)."""
        local_day = entry.start_at.astimezone(self.tz).date()
        for i, col in enumerate(self.columns):
            if col.day != local_day:
                continue
            if self.mode == WEEK:
                return i
            if self.group == BY_PROVIDER and col.provider_id == entry.provider_id:
                return i
            if self.group == BY_ROOM and col.room_id == (entry.room_id or NO_ROOM):
                return i
        return None

    def target(self, column: int, minute: float) -> Target:
        """The day, UTC start, provider and room a drop at (column, minute) asks for; a provider
        or room of None means "keep the appointment's own"."""
        col = self.columns[column]
        minute = max(0, min(snap(minute), 1440 - SNAP_MINUTES))
        room = col.room_id if col.room_id != NO_ROOM else None
        return Target(col.day, to_utc(col.day, minute, self.tz), col.provider_id, room, column, minute)

    def moved(self, entry: ScheduleEntry, target: Target) -> ScheduleEntry:
        """``entry`` as it would be after a drop on ``target`` (for the hint while dragging)."""
        length = entry.end_at - entry.start_at
        return replace(entry, start_at=target.start_at, end_at=target.start_at + length,
                       provider_id=target.provider_id or entry.provider_id,
                       room_id=target.room_id if target.room_id is not None else entry.room_id)

    def local_conflicts(self, entry: ScheduleEntry, target: Target) -> list[ScheduleEntry]:
        """Appointments on this page that a drop would collide with (provider, room or device,
        buffers included): a quick hint while dragging; the service has the final word."""
        moved = self.moved(entry, target)
        out = []
        for other in self.entries:
            if other.id == entry.id or not other.holds_slot:
                continue
            shared = (other.provider_id == moved.provider_id
                      or (moved.room_id is not None and other.room_id == moved.room_id)
                      or (moved.device_id is not None and other.device_id == moved.device_id))
            if shared and other.held_from < moved.held_until and moved.held_from < other.held_until:
                out.append(other)
        return out

    def is_today(self, column: int, today: date) -> bool:
        return self.columns[column].day == today

    # --- building -----------------------------------------------------------------------------

    def _shown(self, e: ScheduleEntry) -> bool:
        if not self.show_cancelled and e.status in HIDDEN_STATUSES:
            return False
        if self.location_id is not None and e.location_id not in (self.location_id, None):
            return False
        if self.mode == WEEK and self.focus_id is not None:
            return (e.provider_id if self.group == BY_PROVIDER else e.room_id) == self.focus_id
        return True

    def _days(self, day: date, entries: Sequence[ScheduleEntry]) -> list[date]:
        """A day's page: the day. A week's: Monday to Sunday, less the days the clinic is closed
        and nothing is booked (their room goes to the open days' appointments)."""
        if self.mode != WEEK:
            return [day]
        week = [day - timedelta(days=day.weekday()) + timedelta(days=i) for i in range(7)]
        booked = {e.start_at.astimezone(self.tz).date() for e in entries}
        days = [d for d in week if d.weekday() in self.setup.open_weekdays or d in booked]
        return days or week

    def _columns(self, entries: Sequence[ScheduleEntry]) -> list[Column]:
        if self.mode == WEEK:
            counts: dict[date, int] = {}
            for e in entries:
                d = e.start_at.astimezone(self.tz).date()
                counts[d] = counts.get(d, 0) + 1
            return [Column(d.isoformat(), f"{d:%a} {d.day}", _count(counts.get(d, 0)), d, count=counts.get(d, 0))
                    for d in self.days]
        locations = {loc.id: loc.name for loc in self.setup.locations}
        if self.group == BY_ROOM:
            rooms = [r for r in self.setup.rooms if self.location_id in (None, r.location_id)]
            rooms.sort(key=lambda r: (r.location_name, r.name))
            cols = []
            for r in rooms:
                n = sum(1 for e in entries if e.room_id == r.id)
                sub = r.location_name if self.location_id is None and len(locations) > 1 else _count(n)
                cols.append(Column(r.id, r.name, sub, self.day, room_id=r.id, location_id=r.location_id, count=n))
            known = {r.id for r in rooms}
            stray = [e for e in entries if (e.room_id or NO_ROOM) not in known]
            if stray:
                cols.append(Column(NO_ROOM, "No room", _count(len(stray)), self.day, room_id=NO_ROOM, count=len(stray)))
            return cols
        providers = list(self.setup.providers)
        known = {p.id for p in providers}
        cols = []
        for p in providers:
            mine = [e for e in entries if e.provider_id == p.id]
            where = {e.location_id for e in mine if e.location_id}
            sub = _count(len(mine))
            if len(where) == 1 and len(locations) > 1:
                sub += f" \u00b7 {locations.get(next(iter(where)), '')}"
            cols.append(Column(p.id, p.name, sub, self.day, color=p.color, provider_id=p.id, count=len(mine)))
        for pid in dict.fromkeys(e.provider_id for e in entries if e.provider_id not in known):
            mine = [e for e in entries if e.provider_id == pid]
            cols.append(Column(pid, mine[0].provider_name, _count(len(mine)), self.day, provider_id=pid,
                               count=len(mine)))
        return cols

    def _blocks(self, entries: Sequence[ScheduleEntry]) -> list[Block]:
        per_column: dict[int, list[tuple[ScheduleEntry, float, float]]] = {}
        for e in entries:
            col = self.column_of(e)
            if col is None:
                continue
            day = self.columns[col].day
            start = local_minutes(e.start_at, day, self.tz)
            end = max(local_minutes(e.end_at, day, self.tz), start + 5)
            per_column.setdefault(col, []).append((e, start, end))
        blocks: list[Block] = []
        for col, items in per_column.items():
            items.sort(key=lambda t: (t[1], -t[2], t[0].status in HIDDEN_STATUSES, t[0].id))
            for cluster in _clusters(items):
                lanes: list[float] = []  # end minute of the last block in each lane
                placed: list[tuple[ScheduleEntry, float, float, int]] = []
                for e, start, end in cluster:
                    lane = next((i for i, last in enumerate(lanes) if last <= start), None)
                    if lane is None:
                        lanes.append(end)
                        lane = len(lanes) - 1
                    else:
                        lanes[lane] = end
                    placed.append((e, start, end, lane))
                for e, start, end, lane in placed:
                    span = 1
                    while lane + span < len(lanes) and not any(
                            other == lane + span and s < end and start < t for _e, s, t, other in placed):
                        span += 1
                    blocks.append(Block(e, col, lane, len(lanes), start, end,
                                        start - e.buffer_before_min, end + e.buffer_after_min, span))
        blocks.sort(key=lambda b: (b.column, b.start, b.lane))
        return blocks

    def _hours(self) -> tuple[int, int]:
        first, last = FIRST_HOUR * 60, LAST_HOUR * 60
        for b in self.blocks:  # buffers may run off the top or bottom; appointments may not
            first = min(first, int(b.start // 60) * 60)
            last = max(last, -int(-b.end // 60) * 60)
        return max(0, first), min(1440, last)


@dataclass
class Grid:
    """Pixels of the body: the time gutter on the left, columns of equal width, minutes down."""

    gutter: float
    header: float
    col_width: float
    px_per_min: float
    first_minute: int
    columns: int
    scroll_x: float = 0.0
    scroll_y: float = 0.0
    lane_gap: float = field(default=3.0)

    @property
    def body_width(self) -> float:
        return self.col_width * self.columns

    def x(self, column: float) -> float:
        """Left edge of ``column`` in viewport pixels."""
        return self.gutter + column * self.col_width - self.scroll_x

    def y(self, minute: float) -> float:
        return self.header + (minute - self.first_minute) * self.px_per_min - self.scroll_y

    def column_at(self, x: float) -> int | None:
        if x < self.gutter or self.columns == 0:
            return None
        col = int((x - self.gutter + self.scroll_x) // self.col_width)
        return col if 0 <= col < self.columns else None

    def nearest_column(self, x: float) -> int:
        col = int((x - self.gutter + self.scroll_x) // self.col_width) if self.col_width else 0
        return max(0, min(self.columns - 1, col))

    def minute_at(self, y: float) -> float:
        return self.first_minute + (y - self.header + self.scroll_y) / self.px_per_min

    def block_rect(self, block: Block) -> tuple[float, float, float, float]:
        """(x, y, width, height) of a block in viewport pixels."""
        lane_w = self.col_width / block.lanes
        x = self.x(block.column) + block.lane * lane_w + self.lane_gap
        top = self.y(block.start)
        height = max((block.end - block.start) * self.px_per_min - 2, 14.0)
        return x, top + 1, max(lane_w * block.span - 2 * self.lane_gap, 6.0), height


def _clusters(items: list[tuple[ScheduleEntry, float, float]]) -> Iterable[list[tuple[ScheduleEntry, float, float]]]:
    """Runs of blocks that overlap one another transitively (they share the lanes)."""
    cluster: list[tuple[ScheduleEntry, float, float]] = []
    reach = float("-inf")
    for item in items:
        if cluster and item[1] >= reach:
            yield cluster
            cluster, reach = [], float("-inf")
        cluster.append(item)
        reach = max(reach, item[2])
    if cluster:
        yield cluster


def _count(n: int) -> str:
    return "No appointments" if n == 0 else f"{n} appointment{'s' if n != 1 else ''}"
