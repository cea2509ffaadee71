"""What the schedule asks of the clinic's data, as operations on the DB worker.

A small facade beside :class:`app.ui.desk.Desk` (which it only reads: ``ops``, ``workspace``,
``actor``): every call runs the appointment service on the DB worker thread through
:meth:`app.ui.operations.Operations.run_db`, and writes broadcast ``changes_did_happen`` with
:data:`APPOINTMENT` so every screen showing appointments refreshes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.services.appointments import (
    AppointmentDetails,
    AppointmentService,
    Problem,
    Schedule,
    ScheduleEntry,
    ScheduleSetup,
)
from app.services.patients import PatientService
from app.ui.desk import PATIENT, SETTINGS, STAFF
from app.ui.operations import Op, Operations
from core.permissions import Permission, has_permission

#: change subjects broadcast after schedule writes
APPOINTMENT = "appointment"
ACTIVITY = "activity"
AUDIT = "audit"
WRITES = frozenset({APPOINTMENT, ACTIVITY, AUDIT})
#: subjects whose change the page shows: clients, services/rooms/devices, staff
REFRESH_ON = frozenset({APPOINTMENT, PATIENT, SETTINGS, STAFF})

Failure = Callable[[BaseException], None] | None


@dataclass(frozen=True)
class Loaded:
    """One page of the schedule: the clinic's resources and the appointments in range."""

    setup: ScheduleSetup
    schedule: Schedule
    day: date
    mode: str
    #: the closed day asked for when the page opened on the next open day instead
    closed_day: date | None = None


class ScheduleDesk:
    def __init__(self, desk: Any) -> None:
        self._desk = desk
        self.ops: Operations = desk.ops
        workspace = desk.workspace
        self.clinic = workspace.require_clinic()
        self.store = workspace.store
        self.service = AppointmentService(workspace.store, clinic_id=self.clinic.id, timezone=self.clinic.timezone)
        self.patients = PatientService(workspace.store, clinic_id=self.clinic.id, region=self.clinic.region)
        self.tz = self.service.tz

    @property
    def actor(self) -> Any:
        """Whoever is signed in now (the desk's actor changes with a quick user switch)."""
        return self._desk.actor

    # --- time and permissions (no store access) -----------------------------------------------

    def now(self) -> datetime:
        return self.service.clock.now()

    def today(self) -> date:
        return self.service.today()

    @property
    def can_book(self) -> bool:
        actor = self.actor
        if actor is None:
            return False
        role = getattr(actor, "role", None)
        return not role or has_permission(role, Permission.APPOINTMENT_WRITE)

    # --- reads ---------------------------------------------------------------------------------

    def load(self, *, day: date, mode: str, on_success: Callable[[Loaded], None], on_failure: Failure = None,
             open_day: bool = False) -> Op:
        """A page of the schedule; ``open_day``: ``day`` or, when the clinic is closed that day,
        the next day it opens (Today on a Sunday shows Monday)."""
        service, actor = self.service, self.actor

        def work() -> Loaded:
            setup = service.setup(actor=actor)
            shown = setup.first_open_day(day) if open_day else day
            if mode == "week":
                schedule = service.week(actor=actor, day=shown)
            else:
                schedule = service.day(actor=actor, day=shown)
            return Loaded(setup, schedule, shown, mode, day if shown != day else None)

        return self.ops.run_db(work, on_success=on_success, on_failure=on_failure, label="load schedule")

    def check(self, *, service_id: str, provider_id: str, start_at: datetime, room_id: str | None,
              exclude_id: str | None = None, on_success: Callable[[list[Problem]], None],
              on_failure: Failure = None) -> Op:
        service, actor = self.service, self.actor
        return self.ops.run_db(
            lambda: service.check(actor=actor, service_id=service_id, provider_id=provider_id, start_at=start_at,
                                  room_id=room_id, exclude_id=exclude_id),
            on_success=on_success, on_failure=on_failure, label="check booking")

    def details(self, appointment_id: str, *, on_success: Callable[[AppointmentDetails], None],
                on_failure: Failure = None, initiator: Any = None) -> Op:
        service, actor = self.service, self.actor
        return self.ops.run_db(lambda: service.details(actor=actor, appointment_id=appointment_id),
                               on_success=on_success, on_failure=on_failure, writes={AUDIT},
                               initiator=initiator, label="open appointment")

    def search_clients(self, text: str, *, on_success: Callable[[list[Any]], None], limit: int = 8) -> Op:
        patients, actor = self.patients, self.actor
        return self.ops.run_db(lambda: patients.search(actor=actor, text=text, limit=limit),
                               on_success=on_success, label="client search")

    # --- writes --------------------------------------------------------------------------------

    def create(self, *, patient_id: str, service_id: str, provider_id: str, start_at: datetime,
               room_id: str | None, notes: str | None = None, on_success: Callable[[ScheduleEntry], None],
               on_failure: Failure = None, initiator: Any = None) -> Op:
        service, actor = self.service, self.actor
        return self.ops.run_db(
            lambda: service.create(actor=actor, patient_id=patient_id, service_id=service_id,
                                   provider_id=provider_id, start_at=start_at, room_id=room_id, notes=notes),
            on_success=on_success, on_failure=on_failure, writes=WRITES, initiator=initiator,
            label="book appointment")

    def move(self, appointment_id: str, *, start_at: datetime, provider_id: str | None, room_id: str | None,
             on_success: Callable[[ScheduleEntry], None], on_failure: Failure = None, initiator: Any = None) -> Op:
        service, actor = self.service, self.actor
        return self.ops.run_db(
            lambda: service.move(actor=actor, appointment_id=appointment_id, start_at=start_at,
                                 provider_id=provider_id, room_id=room_id),
            on_success=on_success, on_failure=on_failure, writes=WRITES, initiator=initiator,
            label="move appointment")

    def set_status(self, appointment_id: str, status: str, *, on_success: Callable[[ScheduleEntry], None],
                   on_failure: Failure = None, initiator: Any = None) -> Op:
        service, actor = self.service, self.actor
        return self.ops.run_db(
            lambda: service.set_status(actor=actor, appointment_id=appointment_id, status=status),
            on_success=on_success, on_failure=on_failure, writes=WRITES, initiator=initiator,
            label="change appointment status")
