"""Time: a clock seam (tz-aware UTC) and a hybrid logical clock (HLC) for ordering edits.

Code never calls ``datetime.now()`` directly; it takes a :class:`Clock`. Tests freeze time with
time-machine, which :class:`SystemClock` honours.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, always tz-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told (for tests and deterministic generators)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a tz-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc(dt: datetime) -> datetime:
    """Return ``dt`` in UTC; a naive datetime is refused rather than guessed."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: Glowdesk stores tz-aware UTC only")
    return dt.astimezone(UTC)


def to_unix_ms(dt: datetime) -> int:
    return (utc(dt) - _EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True, order=True, slots=True)
class HLCTimestamp:
    """A hybrid logical clock reading: wall milliseconds, logical counter, node id.

    Its string form sorts the same way as the timestamps themselves, so it can be stored in a
    text column and compared with ``<``.
    """

    wall_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.wall_ms:013d}-{self.counter:06d}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> HLCTimestamp:
        wall, counter, node = text.split("-", 2)
        return cls(int(wall), int(counter), node)


class HybridLogicalClock:
    """Kulkarni et al. HLC: monotonic, close to wall time, and consistent with causality.

    ``now()`` stamps a local event; ``observe(remote)`` is called for every timestamp received
    from another node so that later local stamps sort after it.
    """

    #: A remote clock more than this far ahead of ours is not followed blindly.
    MAX_DRIFT_MS = 24 * 3600 * 1000

    def __init__(self, node: str, clock: Clock | None = None) -> None:
        if not node or "-" in node:
            # node ids are compact (hex) so that the string form stays parseable
            raise ValueError("HLC node id must be non-empty and contain no '-'")
        self.node = node
        self._clock = clock or SystemClock()
        self._last = HLCTimestamp(0, 0, node)
        self._lock = threading.Lock()

    def _wall(self) -> int:
        return to_unix_ms(self._clock.now())

    def now(self) -> HLCTimestamp:
        with self._lock:
            wall = self._wall()
            if wall > self._last.wall_ms:
                self._last = HLCTimestamp(wall, 0, self.node)
            else:
                self._last = HLCTimestamp(self._last.wall_ms, self._last.counter + 1, self.node)
            return self._last

    def observe(self, remote: HLCTimestamp | str) -> HLCTimestamp:
        r = HLCTimestamp.parse(remote) if isinstance(remote, str) else remote
        with self._lock:
            wall = self._wall()
            if r.wall_ms - wall > self.MAX_DRIFT_MS:
                raise ValueError("remote clock is more than a day ahead; refusing to follow it")
            top = max(wall, self._last.wall_ms, r.wall_ms)
            if top == self._last.wall_ms == r.wall_ms:
                counter = max(self._last.counter, r.counter) + 1
            elif top == self._last.wall_ms:
                counter = self._last.counter + 1
            elif top == r.wall_ms:
                counter = r.counter + 1
            else:
                counter = 0
            self._last = HLCTimestamp(top, counter, self.node)
            return self._last

    def seed(self, floor: HLCTimestamp | str) -> None:
        """Never stamp at or below ``floor``: the newest stamp this node wrote before a restart.

        Unlike :meth:`observe` there is no drift check: these are our own earlier stamps, and a
        wall clock that was set back since (even by days) must not make new edits sort before
        them.
        """
        f = HLCTimestamp.parse(floor) if isinstance(floor, str) else floor
        with self._lock:
            if (f.wall_ms, f.counter) > (self._last.wall_ms, self._last.counter):
                self._last = HLCTimestamp(f.wall_ms, f.counter, self.node)

    @property
    def last(self) -> HLCTimestamp:
        return self._last
