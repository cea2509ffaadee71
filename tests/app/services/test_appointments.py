"""The appointment service on a real encrypted demo store: the day and the week, booking, moving
and status changes, and every kind of conflict (provider, room, device, buffers, qualification)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.db.models import Activity, Appointment, AuditEntry, OutboxEntry
from app.db.store import Store, open_store
from app.repositories import clinic as clinic_repo
from app.repositories.context import Actor
from app.repositories.uow import unit_of_work
from app.services.appointments import (
    AppointmentService,
    BookingConflict,
    ScheduleSetup,
    format_span,
)
from app.services.demo import generate_demo
from core.clock import FixedClock
from core.errors import PermissionDenied, ValidationError
from core.states import IllegalTransition

NOW = datetime(2026, 11, 19, 21, 30, tzinfo=UTC)  # Thursday 1:30 PM in Los Angeles
TZ = ZoneInfo("America/Los_Angeles")
THURSDAY = date(2026, 11, 19)
SUNDAY = date(2026, 11, 22)  # nobody works on Sundays in the demo clinic: a clean page


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("appointments-template")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GLOWDESK_KEY_FILE", str(folder / "db.key"))
        store = open_store(folder / "home", clock=FixedClock(NOW))
        try:
            generate_demo(store, patients=150, seed=42, now=NOW)
        finally:
            store.close()
    return folder


@dataclass
class Clinic:
    store: Store
    service: AppointmentService
    setup: ScheduleSetup
    owner: Actor
    patients: list[str]

    def staff(self, name: str) -> str:
        return next(p.id for p in self.setup.providers if p.name == name)

    def room(self, name: str, location: str = "Pacific Heights") -> str:
        return next(r.id for r in self.setup.rooms if r.name == name and r.location_name == location)

    def menu(self, name: str) -> str:
        return next(s.id for s in self.setup.services if s.name == name)

    def actor(self, name: str) -> Actor:
        with unit_of_work(self.store, self.owner) as ctx:
            staff = clinic_repo.staff_by_name(ctx, name)[0]
            return Actor(staff.id, self.store.device_id, staff.role, staff.display_name)

    def book(self, who: str, what: str, start: datetime, room: str, *, patient: int = 0,
             location: str = "Pacific Heights"):
        return self.service.create(actor=self.owner, patient_id=self.patients[patient], service_id=self.menu(what),
                                   provider_id=self.staff(who), start_at=start, room_id=self.room(room, location))


@pytest.fixture
def clinic(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clinic]:
    shutil.copytree(template, tmp_path / "copy")
    monkeypatch.setenv("GLOWDESK_KEY_FILE", str(tmp_path / "copy" / "db.key"))
    store = open_store(tmp_path / "copy" / "home", clock=FixedClock(NOW))
    try:
        with unit_of_work(store, Actor(None, store.device_id)) as ctx:
            from app.db.models import Clinic as ClinicRow
            from app.db.models import Patient

            clinic_row = ctx.session.execute(select(ClinicRow)).scalar_one()
            owner = clinic_repo.staff_by_name(ctx, "Olivia Owens")[0]
            patients = list(ctx.session.execute(select(Patient.id).order_by(Patient.last_name).limit(10)).scalars())
        owner_actor = Actor(owner.id, store.device_id, owner.role, owner.display_name)
        service = AppointmentService(store, clinic_id=clinic_row.id, timezone=clinic_row.timezone)
        yield Clinic(store, service, service.setup(actor=owner_actor), owner_actor, patients)
    finally:
        store.close()


def raw(store: Store, appointment_id: str) -> Appointment:
    with store.session() as s:
        row = s.get(Appointment, appointment_id)
        assert row is not None
        s.expunge(row)
        return row


# --- reading -----------------------------------------------------------------------------------


def test_setup_lists_the_providers_rooms_and_menu(clinic: Clinic):
    names = [p.name for p in clinic.setup.providers]
    assert names == sorted(names)
    assert {"Priya Raman", "Nora Kim", "Jasmine Okafor", "Elena Rossi", "Dr. Diane Moreau"} == set(names)
    assert "Felix Park" not in names and "Olivia Owens" not in names  # desk and owner see no clients
    assert len(clinic.setup.rooms) == 12 and {loc.name for loc in clinic.setup.locations} == {
        "Pacific Heights", "Palo Alto"}
    botox = clinic.setup.service(clinic.menu("Botox Cosmetic"))
    assert botox is not None and botox.duration_min == 30 and botox.buffer_after_min == 10


def test_a_day_holds_exactly_the_local_days_appointments(clinic: Clinic):
    schedule = clinic.service.day(actor=clinic.owner, day=THURSDAY)
    with clinic.store.session() as s:
        expected = set(s.execute(select(Appointment.id).where(
            Appointment.start_at >= at(THURSDAY, 0), Appointment.start_at < at(THURSDAY + timedelta(days=1), 0)))
            .scalars())
    assert {e.id for e in schedule.entries} == expected and expected
    assert [e.start_at for e in schedule.entries] == sorted(e.start_at for e in schedule.entries)
    entry = schedule.entries[0]
    assert entry.client_name and entry.service_name and entry.provider_name
    assert entry.start_at.tzinfo is not None and entry.start_at.astimezone(TZ).date() == THURSDAY


def test_by_provider_by_room_by_location_and_without_cancelled(clinic: Clinic):
    day = clinic.service.day(actor=clinic.owner, day=THURSDAY)
    some = day.entries[0]
    by_provider = clinic.service.day(actor=clinic.owner, day=THURSDAY, provider_id=some.provider_id)
    assert by_provider.entries and all(e.provider_id == some.provider_id for e in by_provider.entries)
    by_room = clinic.service.day(actor=clinic.owner, day=THURSDAY, room_id=some.room_id)
    assert by_room.entries and all(e.room_id == some.room_id for e in by_room.entries)
    here = clinic.service.day(actor=clinic.owner, day=THURSDAY, location_id=some.location_id)
    assert all(e.location_id == some.location_id for e in here.entries)
    active = clinic.service.day(actor=clinic.owner, day=THURSDAY, include_cancelled=False)
    assert all(e.holds_slot for e in active.entries)


def test_a_week_runs_monday_to_sunday_in_the_clinics_time(clinic: Clinic):
    week = clinic.service.week(actor=clinic.owner, day=THURSDAY)
    assert week.start == at(date(2026, 11, 16), 0) and week.end == at(date(2026, 11, 23), 0)
    days = {e.start_at.astimezone(TZ).date() for e in week.entries}
    assert min(days) >= date(2026, 11, 16) and max(days) <= date(2026, 11, 22)
    assert len(week.entries) >= len(clinic.service.day(actor=clinic.owner, day=THURSDAY).entries)


def test_times_read_in_the_clinics_zone():
    assert format_span(at(SUNDAY, 14), at(SUNDAY, 14, 45), TZ) == "2:00\u20132:45 PM"
    assert format_span(at(SUNDAY, 11, 30), at(SUNDAY, 12, 15), TZ) == "11:30 AM\u201312:15 PM"


# --- booking -----------------------------------------------------------------------------------


def test_a_desk_booking_is_tentative_and_writes_outbox_timeline_and_audit(clinic: Clinic):
    entry = clinic.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")
    assert entry.start_at == at(SUNDAY, 14) and entry.end_at == at(SUNDAY, 14, 45)
    assert entry.provider_name == "Nora Kim" and entry.room_name == "Injection Room 1"
    row = raw(clinic.store, entry.id)
    assert row.tentative is True and row.status == "booked" and row.booked_by == clinic.owner.staff_id
    assert row.deposit_status == "required" and row.deposit_minor == 10000
    with clinic.store.session() as s:
        outbox = s.execute(select(OutboxEntry).where(OutboxEntry.entity_id == entry.id)).scalars().all()
        assert [o.op for o in outbox] == ["insert"] and outbox[0].fields["tentative"] is True
        activity = s.execute(select(Activity).where(Activity.patient_id == row.patient_id,
                                                    Activity.type == "appointment.booked")
                             .order_by(Activity.occurred_at.desc())).scalars().first()
        assert activity is not None and activity.payload["appointment_id"] == entry.id
        assert s.execute(select(AuditEntry).where(AuditEntry.entity_id == entry.id)).scalars().first()


def test_provider_busy(clinic: Clinic):
    clinic.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")
    with pytest.raises(BookingConflict) as err:
        clinic.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 14, 15), "Injection Room 2", patient=1)
    assert str(err.value) == "Nora Kim is already booked 2:00\u20132:45 PM"
    assert [p.kind for p in err.value.problems] == ["provider"]


def test_room_busy(clinic: Clinic):
    clinic.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")
    with pytest.raises(BookingConflict) as err:
        clinic.book("Priya Raman", "Botox Cosmetic", at(SUNDAY, 14, 30), "Injection Room 1", patient=1)
    assert err.value.reasons == ["Injection Room 1 is already booked 2:00\u20132:45 PM"]


def test_device_busy_even_in_another_room(clinic: Clinic):
    clinic.book("Elena Rossi", "Laser Hair Removal — Small Area", at(SUNDAY, 10), "Laser Suite")
    with pytest.raises(BookingConflict) as err:
        clinic.book("Jasmine Okafor", "Laser Hair Removal — Small Area", at(SUNDAY, 10), "Skin Studio", patient=1)
    assert err.value.reasons == ["GentleMax Pro is in use 10:00\u201310:15 AM"]


def test_buffers_count_and_touching_is_fine(clinic: Clinic):
    clinic.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")  # +15 min clean-up
    with pytest.raises(BookingConflict) as err:
        clinic.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 14, 50), "Injection Room 2", patient=1)
    assert err.value.problems[0].kind == "provider"
    assert "can start at 3:00 PM at the earliest" in str(err.value)
    ok = clinic.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 15), "Injection Room 2", patient=1)
    assert ok.start_at == at(SUNDAY, 15)
    with pytest.raises(BookingConflict) as err:  # 1:25-1:55 PM plus 10 min clean-up runs into 2:00 PM
        clinic.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 13, 25), "Injection Room 2", patient=2)
    assert "has to end by 1:50 PM" in str(err.value)
    assert clinic.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 13, 20), "Injection Room 2", patient=2)


def test_the_provider_must_be_qualified_and_a_room_chosen(clinic: Clinic):
    with pytest.raises(BookingConflict) as err:
        clinic.book("Dr. Diane Moreau", "Laser Hair Removal — Small Area", at(SUNDAY, 9), "Laser Suite")
    assert err.value.reasons == [
        "Dr. Diane Moreau can't do Laser Hair Removal \u2014 Small Area (it needs a provider)."]
    with pytest.raises(BookingConflict) as err:
        clinic.service.create(actor=clinic.owner, patient_id=clinic.patients[0], service_id=clinic.menu("Botox Cosmetic"),
                              provider_id=clinic.staff("Nora Kim"), start_at=at(SUNDAY, 9))
    assert err.value.reasons == ["Choose a room for Botox Cosmetic."]


def test_cancelled_appointments_free_their_slot(clinic: Clinic):
    first = clinic.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")
    clinic.service.set_status(actor=clinic.owner, appointment_id=first.id, status="cancelled")
    again = clinic.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1", patient=1)
    assert again.start_at == first.start_at


def test_check_reports_without_writing(clinic: Clinic):
    clinic.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")
    problems = clinic.service.check(actor=clinic.owner, service_id=clinic.menu("Botox Cosmetic"),
                                    provider_id=clinic.staff("Nora Kim"), start_at=at(SUNDAY, 14, 30),
                                    room_id=clinic.room("Injection Room 1"))
    assert [p.kind for p in problems] == ["provider", "room"]
    assert clinic.service.check(actor=clinic.owner, service_id=clinic.menu("Botox Cosmetic"),
                                provider_id=clinic.staff("Nora Kim"), start_at=at(SUNDAY, 16),
                                room_id=clinic.room("Injection Room 1")) == []


def test_only_roles_that_book_may_book(clinic: Clinic):
    director = clinic.actor("Dr. Diane Moreau")
    with pytest.raises(PermissionDenied):
        clinic.service.create(actor=director, patient_id=clinic.patients[0], service_id=clinic.menu("Botox Cosmetic"),
                              provider_id=clinic.staff("Nora Kim"), start_at=at(SUNDAY, 9),
                              room_id=clinic.room("Injection Room 1"))
    desk = clinic.actor("Felix Park")
    entry = clinic.service.create(actor=desk, patient_id=clinic.patients[0], service_id=clinic.menu("Botox Cosmetic"),
                                  provider_id=clinic.staff("Nora Kim"), start_at=at(SUNDAY, 9),
                                  room_id=clinic.room("Injection Room 1"))
    assert raw(clinic.store, entry.id).booked_by == desk.staff_id
    assert clinic.service.day(actor=director, day=SUNDAY).entries  # reading is allowed


# --- moving ------------------------------------------------------------------------------------


def test_move_keeps_the_length_and_writes_an_update(clinic: Clinic):
    entry = clinic.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")
    moved = clinic.service.move(actor=clinic.owner, appointment_id=entry.id, start_at=at(SUNDAY, 14, 15),
                                provider_id=clinic.staff("Priya Raman"))
    assert moved.start_at == at(SUNDAY, 14, 15) and moved.end_at == at(SUNDAY, 15)  # overlaps its old self: fine
    assert moved.provider_name == "Priya Raman" and moved.room_name == "Injection Room 1"
    with clinic.store.session() as s:
        ops = [o.op for o in s.execute(select(OutboxEntry).where(OutboxEntry.entity_id == entry.id)
                                       .order_by(OutboxEntry.seq)).scalars()]
        assert ops == ["insert", "update"]
        update = s.execute(select(OutboxEntry).where(OutboxEntry.entity_id == entry.id, OutboxEntry.op == "update")
                           ).scalar_one()
        assert set(update.fields) == {"start_at", "end_at", "provider_id"}  # never the server-owned fields
        assert s.execute(select(Activity).where(Activity.type == "appointment.rescheduled")).scalars().first()


def test_move_into_a_conflict_is_refused_and_changes_nothing(clinic: Clinic):
    clinic.book("Nora Kim", "Juvéderm Volbella XC", at(SUNDAY, 14), "Injection Room 1")
    other = clinic.book("Priya Raman", "Botox Cosmetic", at(SUNDAY, 10), "Injection Room 2", patient=1)
    with pytest.raises(BookingConflict) as err:
        clinic.service.move(actor=clinic.owner, appointment_id=other.id, start_at=at(SUNDAY, 14),
                            provider_id=clinic.staff("Nora Kim"))
    assert str(err.value) == "Nora Kim is already booked 2:00\u20132:45 PM"
    row = raw(clinic.store, other.id)
    assert row.start_at == at(SUNDAY, 10) and row.provider_id == clinic.staff("Priya Raman")


def test_moving_to_the_other_location_takes_its_device(clinic: Clinic):
    entry = clinic.book("Elena Rossi", "Laser Hair Removal — Small Area", at(SUNDAY, 10), "Laser Suite")
    before = raw(clinic.store, entry.id)
    moved = clinic.service.move(actor=clinic.owner, appointment_id=entry.id, start_at=at(SUNDAY, 11),
                                room_id=clinic.room("Laser Suite", "Palo Alto"))
    after = raw(clinic.store, entry.id)
    assert after.device_id != before.device_id and moved.device_name == "GentleMax Pro"
    assert after.location_id != before.location_id


def test_a_client_in_the_chair_is_not_moved(clinic: Clinic):
    entry = clinic.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 9), "Injection Room 1")
    clinic.service.set_status(actor=clinic.owner, appointment_id=entry.id, status="checked_in")
    with pytest.raises(ValidationError, match="checked in appointment can't be moved"):
        clinic.service.move(actor=clinic.owner, appointment_id=entry.id, start_at=at(SUNDAY, 10))


# --- status ------------------------------------------------------------------------------------


def test_status_follows_the_state_machine_with_timeline_entries(clinic: Clinic):
    entry = clinic.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 9), "Injection Room 1")
    for status in ("confirmed", "checked_in", "completed"):
        assert clinic.service.set_status(actor=clinic.owner, appointment_id=entry.id, status=status).status == status
    with pytest.raises(IllegalTransition, match="completed cannot become booked"):
        clinic.service.set_status(actor=clinic.owner, appointment_id=entry.id, status="booked")
    with clinic.store.session() as s:
        types = [a.type for a in s.execute(select(Activity).where(Activity.patient_id == clinic.patients[0])
                                           .order_by(Activity.id)).scalars()]
    assert types[-3:] == ["appointment.confirmed", "appointment.checked_in", "appointment.completed"]


def test_details_say_what_the_desk_can_do_next(clinic: Clinic):
    entry = clinic.book("Nora Kim", "Botox Cosmetic", at(SUNDAY, 9), "Injection Room 1")
    details = clinic.service.details(actor=clinic.owner, appointment_id=entry.id)
    assert details.entry.id == entry.id
    assert set(details.allowed_statuses) == {"confirmed", "checked_in", "cancelled", "late_cancelled", "no_show"}
    with clinic.store.session() as s:  # opening a client's appointment is an audited read
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "patient.read",
                                                  AuditEntry.entity_id == entry.patient_id)).scalars().first()
