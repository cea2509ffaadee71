"""Slot allocation: the server decides whether an appointment may hold its provider, room and
equipment (DESIGN.md: slot allocation is a server-owned fact; a double booking is refused with a
reason the desktop shows).

An appointment *holds* its resources from ``start_at - buffer_before_min`` to ``end_at +
buffer_after_min`` of its service (read from the service's sync row) while its status is one of
:data:`core.states.ACTIVE_APPOINTMENT_STATES` and it is not deleted. Two holds of one provider,
room or device may not overlap. The holds live in ``appointment_slot`` next to the sync rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.states import ACTIVE_APPOINTMENT_STATES
from sync_server.clinics import service as clinics  # module import: clinics.service imports sync
from sync_server.sync import repository
from sync_server.sync.models import AppointmentSlot

_ACTIVE = frozenset(s.value for s in ACTIVE_APPOINTMENT_STATES)


class BookingRefused(Exception):
    """The appointment cannot hold its slot; ``reason`` is the sentence for the front desk."""

    def __init__(self, reason: str, code: str = "double_booking") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True, slots=True)
class Hold:
    provider_id: str
    room_id: str | None
    device_id: str | None
    start_at: datetime
    end_at: datetime
    held_from: datetime
    held_until: datetime

    def same_as(self, slot: AppointmentSlot | None) -> bool:
        if slot is None:
            return False
        return (slot.provider_id, slot.room_id, slot.device_id, slot.held_from, slot.held_until) == (
            self.provider_id, self.room_id, self.device_id, self.held_from, self.held_until
        )

    def row(self, *, clinic_id: str, appointment_id: str) -> dict[str, Any]:
        return {"clinic_id": clinic_id, "appointment_id": appointment_id, "provider_id": self.provider_id,
                "room_id": self.room_id, "device_id": self.device_id, "start_at": self.start_at,
                "end_at": self.end_at, "held_from": self.held_from, "held_until": self.held_until}


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt.astimezone(UTC) if dt.tzinfo is not None else None


def hold_of(data: Mapping[str, Any], *, deleted: bool, service: Mapping[str, Any] | None) -> Hold | None:
    """What an appointment row holds, or None when it holds nothing (inactive or deleted).

    Raises :class:`BookingRefused` for times that cannot be booked at all.
    """
    if deleted or data.get("status") not in _ACTIVE:
        return None
    start, end = parse_time(data.get("start_at")), parse_time(data.get("end_at"))
    if start is None or end is None or end <= start:
        raise BookingRefused("An appointment must end after it starts; this one was not saved.", "bad_time")
    before = _minutes((service or {}).get("buffer_before_min"))
    after = _minutes((service or {}).get("buffer_after_min"))
    held_from, held_until = start - timedelta(minutes=before), end + timedelta(minutes=after)
    if held_until - held_from > repository.MAX_HELD:
        raise BookingRefused("An appointment cannot last longer than a day; this one was not saved.", "bad_time")
    provider = data.get("provider_id")
    if not isinstance(provider, str):
        raise BookingRefused("An appointment needs a provider; this one was not saved.", "bad_value")
    return Hold(provider, data.get("room_id"), data.get("device_id"), start, end, held_from, held_until)


def _minutes(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 24 * 60 else 0


def check(session: Session, *, clinic_id: str, appointment_id: str, hold: Hold, timezone: str) -> None:
    """Raise :class:`BookingRefused` when ``hold`` overlaps another active appointment's hold of
    the same provider, room or device (the clinic's sequence lock must be held)."""
    for column, value in (("provider_id", hold.provider_id), ("room_id", hold.room_id),
                          ("device_id", hold.device_id)):
        if not value:
            continue
        clashes = repository.overlapping_slots(
            session, clinic_id=clinic_id, column=column, value=value, held_from=hold.held_from,
            held_until=hold.held_until, exclude_id=appointment_id,
        )
        if clashes:
            raise BookingRefused(_reason(session, clinic_id, column, value, clashes[0], hold, timezone))


def store(session: Session, *, clinic_id: str, appointment_id: str, hold: Hold | None) -> None:
    """Make ``appointment_slot`` say what the appointment now holds."""
    current = repository.get_slot(session, clinic_id=clinic_id, appointment_id=appointment_id)
    if hold is None:
        if current is not None:
            repository.delete_slot(session, clinic_id=clinic_id, appointment_id=appointment_id)
        return
    if hold.same_as(current):
        return
    repository.put_slot(session, AppointmentSlot(**hold.row(clinic_id=clinic_id, appointment_id=appointment_id)))


def changed(session: Session, *, clinic_id: str, appointment_id: str, hold: Hold | None) -> bool:
    """Whether ``hold`` differs from what the appointment held before this change."""
    current = repository.get_slot(session, clinic_id=clinic_id, appointment_id=appointment_id)
    if hold is None:
        return current is not None
    return not hold.same_as(current)


# --- the sentence ----------------------------------------------------------------------------


def _reason(
    session: Session, clinic_id: str, column: str, value: str, clash: AppointmentSlot, hold: Hold, timezone: str
) -> str:
    entity = {"provider_id": "staff", "room_id": "room", "device_id": "device"}[column]
    data = repository.rows_data(session, clinic_id=clinic_id, entity=entity, ids=[value]).get(value, {})
    tz = _zone(timezone)
    when = f"{format_span(clash.start_at, clash.end_at, tz)} on {format_day(clash.start_at, tz)}"
    buffers_only = not (clash.start_at < hold.end_at and hold.start_at < clash.end_at)
    extra = " (counting set-up and clean-up time)" if buffers_only else ""
    if column == "provider_id":
        name = clinics.staff_name(session, clinic_id=clinic_id, staff_id=value) or data.get("display_name") or "This provider"
        what = f"{name} is already booked {when}{extra}"
    elif column == "room_id":
        name = data.get("name") or "This room"
        what = f"{name} is already in use {when}{extra}"
    else:
        name = data.get("name")
        what = f"The {name} is already in use {when}{extra}" if name else f"This equipment is already in use {when}{extra}"
    return f"{what}, so this appointment was not saved. Choose another time, provider or room."


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _hm(t: datetime) -> str:
    return f"{t.hour % 12 or 12}:{t.minute:02d}"


def _ampm(t: datetime) -> str:
    return "AM" if t.hour < 12 else "PM"


def format_span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """``2:00–2:45 PM`` / ``11:30 AM–12:15 PM`` in the clinic's time zone."""
    s, e = start.astimezone(tz), end.astimezone(tz)
    if _ampm(s) == _ampm(e):
        return f"{_hm(s)}–{_hm(e)} {_ampm(e)}"
    return f"{_hm(s)} {_ampm(s)}–{_hm(e)} {_ampm(e)}"


def format_day(moment: datetime, tz: ZoneInfo) -> str:
    """``Thu, Mar 5`` in the clinic's time zone."""
    local = moment.astimezone(tz)
    return f"{local:%a}, {local:%b} {local.day}"
