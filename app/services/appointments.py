"""Appointments: the clinic's schedule for a day or a week, booking, moving and status changes.

Every booking and move is checked before it is written (DOMAIN.md "Booking and deposits"): the
provider must be qualified for the service (its ``qualified_roles``), and the provider, the room
and the device the service needs must all be free for the whole held time, set-up and clean-up
buffers included (:func:`app.repositories.appointments.find_conflicts`). A refused booking raises
:class:`BookingConflict`, whose sentence says why in the clinic's own time
(``Nora Kim is already booked 2:00–2:45 PM``).

Writes go through the repositories in one transaction each, so the row, its outbox entry, the
client's timeline entry and the audit entry are written together. A booking made here is
``tentative`` until the clinic server accepts it (the sync engine clears the flag); status changes
follow :mod:`core.states`.

Everything returned is a plain frozen dataclass (:class:`ScheduleEntry`, :class:`ScheduleSetup`),
safe to hand to the UI thread: no stored object leaves a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.db.models import Appointment, Device, Patient, Room, Service, Staff
from app.db.store import Store
from app.repositories import activities as activity_repo
from app.repositories import appointments as repo
from app.repositories import audit, rows
from app.repositories import clinic as clinic_repo
from app.repositories import patients as patient_repo
from app.repositories.appointments import Conflict
from app.repositories.context import Actor, Ctx
from app.repositories.uow import unit_of_work
from core.clock import Clock, utc
from core.errors import ConflictError, NotFoundError, ValidationError
from core.permissions import Permission, Role, require
from core.routing import clinic_hours
from core.states import AppointmentStatus, DepositStatus, transition

#: roles that see clients (the schedule's columns) when no service names its qualified roles
CLINICAL_ROLES = (Role.PROVIDER.value, Role.MEDICAL_DIRECTOR.value)
#: statuses an appointment can be moved from (a client who is in the chair stays put)
MOVABLE = frozenset({AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value})

APPOINTMENT_CHECKED_IN = "appointment.checked_in"
APPOINTMENT_RESCHEDULED = "appointment.rescheduled"
STATUS_ACTIVITY = {
    AppointmentStatus.CONFIRMED: activity_repo.APPOINTMENT_CONFIRMED,
    AppointmentStatus.CHECKED_IN: APPOINTMENT_CHECKED_IN,
    AppointmentStatus.COMPLETED: activity_repo.APPOINTMENT_COMPLETED,
    AppointmentStatus.CANCELLED: activity_repo.APPOINTMENT_CANCELLED,
    AppointmentStatus.LATE_CANCELLED: activity_repo.APPOINTMENT_LATE_CANCELLED,
    AppointmentStatus.NO_SHOW: activity_repo.APPOINTMENT_NO_SHOW,
}
STATUS_LABELS = {
    "booked": "Booked",
    "confirmed": "Confirmed",
    "checked_in": "Checked in",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "late_cancelled": "Late cancel",
    "no_show": "No-show",
}
#: what the desk reads about a deposit on the schedule ("" = nothing worth saying)
DEPOSIT_LABELS = {
    "not_required": "",
    "required": "Deposit due",
    "link_sent": "Deposit link sent",
    "authorised": "Deposit held",
    "captured": "Deposit paid",
    "applied": "Deposit applied",
    "released": "Deposit released",
    "waived": "Deposit waived",
    "forfeited": "Deposit forfeited",
    "refunded": "Deposit refunded",
}
#: price units for which a booking's price is known up front (per unit or syringe it is not)
_PRICED_PER_VISIT = frozenset({"session", "month", "cycle"})


# --- what the schedule shows -------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    role: str
    title: str | None
    color: str | None


@dataclass(frozen=True)
class RoomInfo:
    id: str
    name: str
    location_id: str
    location_name: str
    kind: str


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    name: str
    kind: str
    location_id: str


@dataclass(frozen=True)
class ServiceInfo:
    id: str
    name: str
    category: str
    duration_min: int
    buffer_before_min: int
    buffer_after_min: int
    price_minor: int
    price_unit: str
    currency: str
    deposit_minor: int
    requires_room: bool
    device_kind: str | None
    qualified_roles: tuple[str, ...]

    def qualifies(self, role: str | None) -> bool:
        return not self.qualified_roles or role in self.qualified_roles


@dataclass(frozen=True)
class LocationInfo:
    id: str
    name: str


@dataclass(frozen=True)
class ScheduleSetup:
    """The clinic's bookable resources: who sees clients, the rooms, devices and the menu."""

    timezone: str
    providers: tuple[Provider, ...]
    rooms: tuple[RoomInfo, ...]
    devices: tuple[DeviceInfo, ...]
    services: tuple[ServiceInfo, ...]
    locations: tuple[LocationInfo, ...]
    #: the weekdays (0 = Monday) the clinic opens, from its opening hours
    open_weekdays: frozenset[int] = frozenset(range(7))

    def first_open_day(self, day: date) -> date:
        """``day`` when the clinic opens that day, else the next day it does (``day`` when it
        never opens)."""
        for offset in range(7):
            if (day + timedelta(days=offset)).weekday() in self.open_weekdays:
                return day + timedelta(days=offset)
        return day

    def provider(self, provider_id: str | None) -> Provider | None:
        return next((p for p in self.providers if p.id == provider_id), None)

    def room(self, room_id: str | None) -> RoomInfo | None:
        return next((r for r in self.rooms if r.id == room_id), None)

    def service(self, service_id: str | None) -> ServiceInfo | None:
        return next((s for s in self.services if s.id == service_id), None)

    def services_for(self, role: str | None) -> list[ServiceInfo]:
        return [s for s in self.services if s.qualifies(role)]


@dataclass(frozen=True)
class ScheduleEntry:
    """One appointment as the schedule draws it (names resolved, times tz-aware UTC)."""

    id: str
    patient_id: str
    client_name: str
    vip: bool
    service_id: str
    service_name: str
    provider_id: str
    provider_name: str
    location_id: str | None
    room_id: str | None
    room_name: str | None
    device_id: str | None
    device_name: str | None
    start_at: datetime
    end_at: datetime
    buffer_before_min: int
    buffer_after_min: int
    status: str
    deposit_status: str
    deposit_minor: int
    price_minor: int
    currency: str
    tentative: bool
    notes: str | None

    @property
    def held_from(self) -> datetime:
        return self.start_at - timedelta(minutes=self.buffer_before_min)

    @property
    def held_until(self) -> datetime:
        return self.end_at + timedelta(minutes=self.buffer_after_min)

    @property
    def holds_slot(self) -> bool:
        return self.status in _ACTIVE

    @property
    def movable(self) -> bool:
        return self.status in MOVABLE

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status.replace("_", " ").capitalize())

    @property
    def deposit_label(self) -> str:
        return DEPOSIT_LABELS.get(self.deposit_status, self.deposit_status.replace("_", " "))


@dataclass(frozen=True)
class Schedule:
    """Appointments starting in [start, end) (UTC), earliest first."""

    start: datetime
    end: datetime
    entries: tuple[ScheduleEntry, ...]


@dataclass(frozen=True)
class AppointmentDetails:
    """One appointment opened at the desk: the entry plus what the desk needs about the client."""

    entry: ScheduleEntry
    phone: str | None
    email: str | None
    allergies: str | None
    medical_alerts: str | None
    booked_by: str | None
    created_at: datetime | None
    allowed_statuses: tuple[str, ...]


_ACTIVE = frozenset(
    s.value for s in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN,
                      AppointmentStatus.COMPLETED)
)


# --- why a booking is refused --------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason a booking cannot go where it was asked."""

    kind: str  # "provider" | "room" | "device" | "qualification" | "room_required" | "no_device"
    message: str
    conflict: Conflict | None = None


@dataclass
class BookingConflict(ConflictError):
    """A booking or a move that collides with the calendar; ``problems`` names every reason."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        first = self.problems[0].message if self.problems else "That time is not free."
        ConflictError.__init__(self, first, code="booking_conflict")

    @property
    def reasons(self) -> list[str]:
        return [p.message for p in self.problems]


def format_time(moment: datetime, tz: ZoneInfo, *, meridiem: bool = True) -> str:
    """``2:05 PM`` in the clinic's time (``2:05`` without the meridiem)."""
    local = moment.astimezone(tz)
    hour = local.hour % 12 or 12
    text = f"{hour}:{local.minute:02d}"
    return f"{text} {'AM' if local.hour < 12 else 'PM'}" if meridiem else text


def format_span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """``2:00–2:45 PM``; ``11:30 AM–12:15 PM`` when the span crosses noon."""
    same_half = (start.astimezone(tz).hour < 12) == (end.astimezone(tz).hour < 12)
    return f"{format_time(start, tz, meridiem=not same_half)}\u2013{format_time(end, tz)}"


def _conflict_message(
    conflict: Conflict, name: str, *, start: datetime, end: datetime, before: int, after: int,
    their_before: int, their_after: int, tz: ZoneInfo,
) -> str:
    verb = "in use" if conflict.resource == "device" else "already booked"
    text = f"{name} is {verb} {format_span(conflict.start_at, conflict.end_at, tz)}"
    if start < conflict.end_at and conflict.start_at < end:
        return text
    # only the set-up / clean-up time collides: say what would fit
    if start >= conflict.end_at:
        earliest = conflict.end_at + timedelta(minutes=their_after + before)
        return f"{text}; with set-up and clean-up this can start at {format_time(earliest, tz)} at the earliest"
    latest = conflict.start_at - timedelta(minutes=their_before + after)
    return f"{text}; with set-up and clean-up this has to end by {format_time(latest, tz)}"


# --- the service ---------------------------------------------------------------------------------


class AppointmentService:
    """The schedule of one clinic in one store."""

    def __init__(self, store: Store, *, clinic_id: str, timezone: str, clock: Clock | None = None) -> None:
        self.store = store
        self.clinic_id = clinic_id
        try:
            self.tz = ZoneInfo(timezone)
        except (KeyError, ValueError):
            self.tz = ZoneInfo("UTC")
        self.clock = clock or store.clock

    # --- time ---------------------------------------------------------------------------------

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    def day_bounds(self, day: date, days: int = 1) -> tuple[datetime, datetime]:
        """UTC bounds of ``days`` local days from ``day`` (DST-safe: local midnights)."""
        start = datetime.combine(day, time(0), self.tz).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=days), time(0), self.tz).astimezone(UTC)
        return start, end

    @staticmethod
    def week_start(day: date) -> date:
        """The Monday of ``day``'s week."""
        return day - timedelta(days=day.weekday())

    # --- reading ------------------------------------------------------------------------------

    def setup(self, *, actor: Actor) -> ScheduleSetup:
        _require(actor, Permission.APPOINTMENT_READ)
        with unit_of_work(self.store, actor) as ctx:
            return self._setup(ctx)

    def day(self, *, actor: Actor, day: date, location_id: str | None = None,
            provider_id: str | None = None, room_id: str | None = None,
            include_cancelled: bool = True) -> Schedule:
        """One local day of the clinic's appointments (by provider or by room when given)."""
        start, end = self.day_bounds(day)
        return self.between(actor=actor, start=start, end=end, location_id=location_id,
                            provider_id=provider_id, room_id=room_id, include_cancelled=include_cancelled)

    def week(self, *, actor: Actor, day: date, location_id: str | None = None,
             provider_id: str | None = None, room_id: str | None = None,
             include_cancelled: bool = True) -> Schedule:
        """The Monday-to-Sunday week holding ``day``."""
        start, end = self.day_bounds(self.week_start(day), 7)
        return self.between(actor=actor, start=start, end=end, location_id=location_id,
                            provider_id=provider_id, room_id=room_id, include_cancelled=include_cancelled)

    def between(self, *, actor: Actor, start: datetime, end: datetime, location_id: str | None = None,
                provider_id: str | None = None, room_id: str | None = None,
                include_cancelled: bool = True) -> Schedule:
        _require(actor, Permission.APPOINTMENT_READ)
        start, end = utc(start), utc(end)
        statuses = None if include_cancelled else sorted(_ACTIVE)
        with unit_of_work(self.store, actor) as ctx:
            found = repo.list_between(ctx, self.clinic_id, start, end, provider_id=provider_id,
                                      location_id=location_id, statuses=statuses)
            if room_id is not None:
                found = [a for a in found if a.room_id == room_id]
            entries = self._entries(ctx, found)
        return Schedule(start, end, tuple(entries))

    def get(self, *, actor: Actor, appointment_id: str) -> ScheduleEntry:
        _require(actor, Permission.APPOINTMENT_READ)
        with unit_of_work(self.store, actor) as ctx:
            return self._entries(ctx, [self._appointment(ctx, appointment_id)])[0]

    def details(self, *, actor: Actor, appointment_id: str) -> AppointmentDetails:
        """Open one appointment: its entry, the client's contact and alerts (an audited read)."""
        _require(actor, Permission.APPOINTMENT_READ)
        with unit_of_work(self.store, actor) as ctx:
            appt = self._appointment(ctx, appointment_id)
            entry = self._entries(ctx, [appt])[0]
            patient = patient_repo.get(ctx, appt.patient_id, purpose="appointment")
            booked_by = clinic_repo.get_staff(ctx, appt.booked_by) if appt.booked_by else None
            current = AppointmentStatus(appt.status)
            allowed = tuple(s.value for s in AppointmentStatus if _can(current, s))
            return AppointmentDetails(
                entry=entry,
                phone=patient.phone if patient else None,
                email=patient.email if patient else None,
                allergies=patient.allergies if patient else None,
                medical_alerts=patient.medical_alerts if patient else None,
                booked_by=booked_by.display_name if booked_by else None,
                created_at=appt.created_at,
                allowed_statuses=allowed,
            )

    # --- checking -----------------------------------------------------------------------------

    def check(self, *, actor: Actor, service_id: str, provider_id: str, start_at: datetime,
              room_id: str | None = None, device_id: str | None = None,
              exclude_id: str | None = None) -> list[Problem]:
        """Every reason the booking could not be made now; empty means it can."""
        _require(actor, Permission.APPOINTMENT_READ)
        with unit_of_work(self.store, actor) as ctx:
            service = self._service(ctx, service_id)
            end_at = utc(start_at) + timedelta(minutes=service.duration_min)
            problems, _ = self._problems(ctx, service=service, provider_id=provider_id, room_id=room_id,
                                         device_id=device_id, start_at=utc(start_at), end_at=end_at,
                                         exclude_id=exclude_id)
            return problems

    # --- writing ------------------------------------------------------------------------------

    def create(self, *, actor: Actor, patient_id: str, service_id: str, provider_id: str,
               start_at: datetime, room_id: str | None = None, device_id: str | None = None,
               notes: str | None = None) -> ScheduleEntry:
        """Book a client; refused with :class:`BookingConflict` when the slot is not free.

        The booking is tentative until the clinic server accepts it. A service that needs a
        device gets a free one of its kind at the room's location unless ``device_id`` is given.
        """
        _require(actor, Permission.APPOINTMENT_WRITE)
        start_at = utc(start_at)
        with unit_of_work(self.store, actor) as ctx:
            patient = patient_repo.get_for_write(ctx, patient_id)
            if patient is None:
                raise NotFoundError("That client no longer exists (it may have been merged or deleted).")
            service = self._service(ctx, service_id)
            end_at = start_at + timedelta(minutes=service.duration_min)
            problems, device = self._problems(ctx, service=service, provider_id=provider_id, room_id=room_id,
                                              device_id=device_id, start_at=start_at, end_at=end_at)
            if problems:
                raise BookingConflict(problems=problems)
            room = clinic_repo.get_room(ctx, room_id) if room_id else None
            deposit = service.deposit_minor or 0
            appt = Appointment(
                clinic_id=self.clinic_id, patient_id=patient_id, service_id=service.id, provider_id=provider_id,
                location_id=room.location_id if room else None, room_id=room_id, device_id=device,
                start_at=start_at, end_at=end_at, status=AppointmentStatus.BOOKED.value,
                deposit_status=(DepositStatus.REQUIRED if deposit else DepositStatus.NOT_REQUIRED).value,
                deposit_minor=deposit,
                price_minor=service.price_minor if service.price_unit in _PRICED_PER_VISIT else 0,
                currency=service.currency, booked_by=actor.staff_id, notes=(notes or "").strip() or None,
                tentative=True,
            )
            repo.create(ctx, appt)
            activity_repo.append(
                ctx, clinic_id=self.clinic_id, type=activity_repo.APPOINTMENT_BOOKED, occurred_at=ctx.now(),
                patient_id=patient_id,
                payload={"appointment_id": appt.id, "service": service.name, "start_at": _iso(start_at),
                         "provider_id": provider_id, "channel": "desk"},
            )
            audit.append(ctx, "appointment.create", "appointment", appt.id,
                         {"patient_id": patient_id, "start_at": _iso(start_at), "provider_id": provider_id})
            ctx.session.flush()
            return self._entries(ctx, [appt])[0]

    def move(self, *, actor: Actor, appointment_id: str, start_at: datetime,
             provider_id: str | None = None, room_id: str | None = None) -> ScheduleEntry:
        """Reschedule: a new start (the length stays), and optionally another provider or room.

        Checked like a new booking (the appointment's own slot does not count against it);
        the device follows the room's location, keeping the same one when it is free.
        """
        _require(actor, Permission.APPOINTMENT_WRITE)
        start_at = utc(start_at)
        with unit_of_work(self.store, actor) as ctx:
            appt = self._appointment(ctx, appointment_id)
            if appt.status not in MOVABLE:
                label = STATUS_LABELS.get(appt.status, appt.status).lower()
                raise ValidationError(f"A {label} appointment can't be moved.", field="status")
            service = self._service(ctx, appt.service_id)
            provider_id = provider_id or appt.provider_id
            room_id = room_id if room_id is not None else appt.room_id
            end_at = start_at + (appt.end_at - appt.start_at)
            problems, device = self._problems(
                ctx, service=service, provider_id=provider_id, room_id=room_id, device_id=appt.device_id,
                start_at=start_at, end_at=end_at, exclude_id=appt.id, device_is_preference=True)
            if problems:
                raise BookingConflict(problems=problems)
            room = clinic_repo.get_room(ctx, room_id) if room_id else None
            before = {"start_at": _iso(appt.start_at), "provider_id": appt.provider_id, "room_id": appt.room_id}
            diff = rows.update(ctx, appt, {
                "start_at": start_at, "end_at": end_at, "provider_id": provider_id, "room_id": room_id,
                "device_id": device, "location_id": room.location_id if room else appt.location_id,
            })
            if diff:
                after = {"start_at": _iso(start_at), "provider_id": provider_id, "room_id": room_id}
                activity_repo.append(
                    ctx, clinic_id=self.clinic_id, type=APPOINTMENT_RESCHEDULED, occurred_at=ctx.now(),
                    patient_id=appt.patient_id,
                    payload={"appointment_id": appt.id, "service": service.name, "start_at": _iso(start_at),
                             "from": before, "to": after},
                )
                audit.append(ctx, "appointment.move", "appointment", appt.id, {"from": before, "to": after})
            return self._entries(ctx, [appt])[0]

    def set_status(self, *, actor: Actor, appointment_id: str, status: str) -> ScheduleEntry:
        """Confirm, check in, complete, cancel or mark a no-show (core.states decides what may)."""
        _require(actor, Permission.APPOINTMENT_WRITE)
        with unit_of_work(self.store, actor) as ctx:
            appt = self._appointment(ctx, appointment_id)
            current = AppointmentStatus(appt.status)
            target = transition(current, AppointmentStatus(status))
            rows.update(ctx, appt, {"status": target.value})
            service = clinic_repo.get_service(ctx, appt.service_id)
            activity_repo.append(
                ctx, clinic_id=self.clinic_id, type=STATUS_ACTIVITY[target], occurred_at=ctx.now(),
                patient_id=appt.patient_id,
                payload={"appointment_id": appt.id, "service": service.name if service else None,
                         "start_at": _iso(appt.start_at), "from_status": current.value},
            )
            audit.append(ctx, "appointment.status", "appointment", appt.id,
                         {"from": current.value, "to": target.value})
            return self._entries(ctx, [appt])[0]

    # --- internals ----------------------------------------------------------------------------

    def _setup(self, ctx: Ctx) -> ScheduleSetup:
        locations = {loc.id: loc.name for loc in clinic_repo.list_locations(ctx, self.clinic_id) if not loc.deleted}
        services = tuple(_service_info(s) for s in clinic_repo.list_services(ctx, self.clinic_id))
        bookable = {r for s in services for r in s.qualified_roles} or set(CLINICAL_ROLES)
        providers = tuple(
            Provider(s.id, s.display_name, s.role, s.title, s.color)
            for s in clinic_repo.list_staff(ctx, self.clinic_id) if s.role in bookable
        )
        rooms = tuple(
            RoomInfo(r.id, r.name, r.location_id, locations.get(r.location_id, ""), r.kind)
            for r in clinic_repo.list_rooms(ctx, self.clinic_id)
        )
        devices = tuple(DeviceInfo(d.id, d.name, d.kind, d.location_id)
                        for d in clinic_repo.list_devices(ctx, self.clinic_id))
        clinic = clinic_repo.get_clinic(ctx, self.clinic_id)
        hours = clinic_hours(clinic.settings if clinic is not None else None)
        return ScheduleSetup(
            timezone=self.tz.key, providers=providers, rooms=rooms, devices=devices, services=services,
            locations=tuple(LocationInfo(k, v) for k, v in sorted(locations.items(), key=lambda kv: kv[1])),
            open_weekdays=frozenset(day for day, spans in hours.items() if spans),
        )

    def _appointment(self, ctx: Ctx, appointment_id: str) -> Appointment:
        appt = repo.get(ctx, appointment_id)
        if appt is None or appt.clinic_id != self.clinic_id:
            raise NotFoundError("That appointment no longer exists (it may have been deleted on another "
                                "workstation).")
        return appt

    def _service(self, ctx: Ctx, service_id: str) -> Service:
        service = clinic_repo.get_service(ctx, service_id)
        if service is None or service.clinic_id != self.clinic_id:
            raise NotFoundError("That service is no longer on the menu.")
        if service.duration_min <= 0:
            raise ValidationError(f"{service.name} has no length set; set one in Settings.")
        return service

    def _problems(
        self, ctx: Ctx, *, service: Service, provider_id: str, room_id: str | None, device_id: str | None,
        start_at: datetime, end_at: datetime, exclude_id: str | None = None, device_is_preference: bool = False,
    ) -> tuple[list[Problem], str | None]:
        """What stops this booking, and the device it would use."""
        problems: list[Problem] = []
        info = _service_info(service)
        provider = clinic_repo.get_staff(ctx, provider_id)
        if provider is None or not provider.active or provider.clinic_id != self.clinic_id:
            raise NotFoundError("That provider is not active in this clinic.")
        if not info.qualifies(provider.role):
            roles = " or ".join(_role_label(r) for r in info.qualified_roles)
            problems.append(Problem("qualification",
                                    f"{provider.display_name} can't do {service.name} (it needs a {roles})."))
        room = None
        if room_id is not None:
            room = clinic_repo.get_room(ctx, room_id)
            if room is None or not room.active or room.clinic_id != self.clinic_id:
                raise NotFoundError("That room is not in use any more.")
        elif service.requires_room:
            problems.append(Problem("room_required", f"Choose a room for {service.name}."))
        before, after = service.buffer_before_min or 0, service.buffer_after_min or 0
        names: dict[str, str] = {provider.id: provider.display_name}
        if room is not None:
            names[room.id] = room.name
        found = repo.find_conflicts(
            ctx, start_at=start_at, end_at=end_at, provider_id=provider.id, room_id=room_id,
            buffer_before_min=before, buffer_after_min=after, exclude_id=exclude_id)
        device: str | None = None
        if service.device_kind:
            device, device_conflicts = self._pick_device(
                ctx, kind=service.device_kind, location_id=room.location_id if room else None,
                wanted=device_id, strict=device_id is not None and not device_is_preference,
                start_at=start_at, end_at=end_at, before=before, after=after, exclude_id=exclude_id, names=names)
            if device is None and not device_conflicts:
                where = f" at {self._location_name(ctx, room.location_id)}" if room else ""
                problems.append(Problem("no_device", f"There is no {_kind_label(service.device_kind)}{where} "
                                                     f"for {service.name}."))
            found += device_conflicts
        buffers = self._buffers(ctx, [c.appointment_id for c in found])
        for c in found:
            their_before, their_after = buffers.get(c.appointment_id, (0, 0))
            name = names.get(c.resource_id) or c.resource_id
            problems.append(Problem(c.resource, _conflict_message(
                c, name, start=start_at, end=end_at, before=before, after=after, their_before=their_before,
                their_after=their_after, tz=self.tz), c))
        return problems, device

    def _pick_device(
        self, ctx: Ctx, *, kind: str, location_id: str | None, wanted: str | None, strict: bool,
        start_at: datetime, end_at: datetime, before: int, after: int, exclude_id: str | None,
        names: dict[str, str],
    ) -> tuple[str | None, list[Conflict]]:
        """A free device of ``kind`` (the wanted one first); else the conflicts of the best one."""
        candidates = [d for d in clinic_repo.list_devices(ctx, self.clinic_id, kind=kind)
                      if location_id is None or d.location_id == location_id]
        if strict:
            candidates = [d for d in candidates if d.id == wanted]
        candidates.sort(key=lambda d: d.id != wanted)
        first: list[Conflict] | None = None
        for d in candidates:
            names[d.id] = d.name
            busy = repo.find_conflicts(ctx, start_at=start_at, end_at=end_at, device_id=d.id,
                                       buffer_before_min=before, buffer_after_min=after, exclude_id=exclude_id)
            if not busy:
                return d.id, []
            if first is None:
                first = busy
        return None, first or []

    def _location_name(self, ctx: Ctx, location_id: str) -> str:
        loc = clinic_repo.get_location(ctx, location_id)
        return loc.name if loc else "this location"

    @staticmethod
    def _buffers(ctx: Ctx, appointment_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        if not appointment_ids:
            return {}
        query = (select(Appointment.id, Service.buffer_before_min, Service.buffer_after_min)
                 .join(Service, Service.id == Appointment.service_id)
                 .where(Appointment.id.in_(list(set(appointment_ids)))))
        return {aid: (b or 0, a or 0) for aid, b, a in ctx.session.execute(query)}

    def _entries(self, ctx: Ctx, found: Iterable[Appointment]) -> list[ScheduleEntry]:
        found = list(found)
        if not found:
            return []
        s = ctx.session
        patient_ids = list({a.patient_id for a in found})
        patients: dict[str, tuple[str, bool]] = {}
        for chunk in _chunks(patient_ids, 500):
            for pid, first, last, preferred, vip in s.execute(
                select(Patient.id, Patient.first_name, Patient.last_name, Patient.preferred_name, Patient.vip)
                .where(Patient.id.in_(chunk))
            ):
                patients[pid] = (_client_name(first, last, preferred), bool(vip))
        services = {x.id: x for x in s.execute(select(Service).where(Service.clinic_id == self.clinic_id)).scalars()}
        staff = {x.id: x.display_name for x in s.execute(select(Staff).where(Staff.clinic_id == self.clinic_id))
                 .scalars()}
        rooms = {x.id: x.name for x in s.execute(select(Room).where(Room.clinic_id == self.clinic_id)).scalars()}
        devices = {x.id: x.name for x in s.execute(select(Device).where(Device.clinic_id == self.clinic_id))
                   .scalars()}
        out: list[ScheduleEntry] = []
        for a in found:
            svc = services.get(a.service_id)
            client, vip = patients.get(a.patient_id, ("(client removed)", False))
            out.append(ScheduleEntry(
                id=a.id, patient_id=a.patient_id, client_name=client, vip=vip, service_id=a.service_id,
                service_name=svc.name if svc else "(service removed)", provider_id=a.provider_id,
                provider_name=staff.get(a.provider_id, "(former staff)"), location_id=a.location_id,
                room_id=a.room_id, room_name=rooms.get(a.room_id) if a.room_id else None,
                device_id=a.device_id, device_name=devices.get(a.device_id) if a.device_id else None,
                start_at=utc(a.start_at), end_at=utc(a.end_at),
                buffer_before_min=(svc.buffer_before_min or 0) if svc else 0,
                buffer_after_min=(svc.buffer_after_min or 0) if svc else 0,
                status=a.status, deposit_status=a.deposit_status, deposit_minor=a.deposit_minor or 0,
                price_minor=a.price_minor or 0, currency=a.currency, tentative=bool(a.tentative), notes=a.notes,
            ))
        return out


# --- helpers ---------------------------------------------------------------------------------------


def _require(actor: Actor, permission: Permission) -> None:
    if actor.role:
        require(actor.role, permission)


def _can(current: AppointmentStatus, target: AppointmentStatus) -> bool:
    try:
        transition(current, target)
    except Exception:
        return False
    return True


def _service_info(s: Service) -> ServiceInfo:
    return ServiceInfo(
        id=s.id, name=s.name, category=s.category, duration_min=s.duration_min,
        buffer_before_min=s.buffer_before_min or 0, buffer_after_min=s.buffer_after_min or 0,
        price_minor=s.price_minor or 0, price_unit=s.price_unit or "session", currency=s.currency,
        deposit_minor=s.deposit_minor or 0, requires_room=bool(s.requires_room), device_kind=s.device_kind,
        qualified_roles=tuple(s.qualified_roles or ()),
    )


def _client_name(first: str | None, last: str | None, preferred: str | None) -> str:
    first = (preferred or first or "").strip()
    return " ".join(p for p in (first, (last or "").strip()) if p) or "(no name)"


def _role_label(role: str) -> str:
    try:
        return Role(role).label.lower()
    except ValueError:
        return role.replace("_", " ")


def _kind_label(kind: str) -> str:
    return kind.replace("_", " ")


def _iso(moment: datetime) -> str:
    return utc(moment).isoformat().replace("+00:00", "Z")


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
