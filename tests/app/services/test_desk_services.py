"""The services behind the desk's screens: the client record, the lead board, clinic settings and
the sign-in list, on a real encrypted store holding the demo clinic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.db.models import AuditEntry, Lead, OutboxEntry, Patient, Staff
from app.db.store import Store, open_store
from app.repositories.context import Actor
from app.repositories.uow import system_actor, unit_of_work
from app.services.clinic_settings import ClinicSettingsService
from app.services.demo import DemoSummary, generate_demo
from app.services.leads import OPEN_STATUSES, UNASSIGNED, LeadFilter, LeadService
from app.services.patients import FieldErrors
from app.services.records import RecordService, kind_of
from app.services.staff import sign_in, sign_in_choices
from core.clock import FixedClock
from core.errors import NotFoundError, PermissionDenied, ValidationError

NOW = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, DemoSummary]]:
    folder = tmp_path_factory.mktemp("desk")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GLOWDESK_KEY_FILE", str(folder / "db.key"))
        store = open_store(folder / "home", clock=FixedClock(NOW))
    summary = generate_demo(store, patients=150, seed=42, now=NOW)
    yield store, summary
    store.close()


def _outbox_count(store: Store) -> int:
    with store.session() as s:
        return s.execute(sa.select(sa.func.count()).select_from(OutboxEntry)).scalar_one()


def actor(store: Store, name: str) -> Actor:
    return sign_in(store, pin={"Olivia Owens": "1234", "Marcus Mendoza": "2468", "Felix Park": "5555",
                               "Priya Raman": "1111"}[name], name=name)


def busy_patient(store: Store) -> str:
    """A client with appointments and a lead."""
    with unit_of_work(store, system_actor(store)) as ctx:
        return str(ctx.session.execute(
            select(Lead.patient_id).where(Lead.patient_id.is_not(None), Lead.status == "converted").limit(1)
        ).scalar_one())


def test_client_file_gathers_the_record_and_audits_the_read(demo):
    store, summary = demo
    owner = actor(store, "Olivia Owens")
    pid = busy_patient(store)
    service = RecordService(store, clinic_id=summary.clinic_id)
    with unit_of_work(store, system_actor(store)) as ctx:
        before = ctx.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one()
    file = service.client_file(actor=owner, patient_id=pid)
    assert file.patient.id == pid
    assert file.appointments and all(a.service and a.provider for a in file.appointments)
    assert [a.start_at for a in file.appointments] == sorted((a.start_at for a in file.appointments), reverse=True)
    times = [e.occurred_at for e in file.timeline.entries]
    assert times == sorted(times, reverse=True)  # newest first
    assert file.leads and file.leads[0].source
    assert file.kind_counts["appointments"] >= len(file.appointments)
    booked = [e for e in file.timeline.entries if e.type == "appointment.booked"]
    assert booked and all(e.payload.get("provider") for e in booked)  # staff ids named
    with unit_of_work(store, system_actor(store)) as ctx:
        after = ctx.session.execute(
            select(AuditEntry.action, AuditEntry.entity_id).order_by(AuditEntry.seq.desc()).limit(1)).one()
        count = ctx.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one()
    assert count == before + 1 and tuple(after) == ("patient.read", pid)


def test_timeline_filters_by_kind_and_pages_back(demo):
    store, summary = demo
    owner = actor(store, "Olivia Owens")
    pid = busy_patient(store)
    service = RecordService(store, clinic_id=summary.clinic_id)
    leads = service.timeline(actor=owner, patient_id=pid, kind="leads")
    assert leads.entries and {kind_of(e.type) for e in leads.entries} == {"leads"}
    first = service.timeline(actor=owner, patient_id=pid, limit=3)
    assert len(first.entries) == 3 and first.more
    older = service.timeline(actor=owner, patient_id=pid, before=first.entries[-1].occurred_at, limit=3)
    assert older.entries[0].occurred_at <= first.entries[-1].occurred_at
    with pytest.raises(NotFoundError):
        service.timeline(actor=owner, patient_id="01900000-0000-7000-8000-00000000dead")


def test_lead_board_filters_and_names_the_person(demo):
    store, summary = demo
    desk = actor(store, "Felix Park")
    service = LeadService(store, clinic_id=summary.clinic_id)
    board = service.board(actor=desk)
    assert board.rows and {r.status for r in board.rows} <= set(OPEN_STATUSES)
    assert sum(board.status_counts.get(s, 0) for s in OPEN_STATUSES) == len(board.rows)
    everything = service.board(actor=desk, filter=LeadFilter(statuses=None))
    assert len(everything.rows) == summary.leads == sum(everything.status_counts.values())
    assert [r.received_at for r in everything.rows] == sorted((r.received_at for r in everything.rows), reverse=True)
    named = [r for r in everything.rows if r.patient_id]
    assert named and all(r.first_name or r.last_name for r in named)
    meta = service.board(actor=desk, filter=LeadFilter(statuses=None, source="meta_lead_ad"))
    assert meta.rows and {r.source for r in meta.rows} == {"meta_lead_ad"}
    owner_id = next(r.owner_id for r in everything.rows if r.owner_id)
    mine = service.board(actor=desk, filter=LeadFilter(statuses=None, owner_id=owner_id))
    assert mine.rows and {r.owner_id for r in mine.rows} == {owner_id} and mine.rows[0].owner
    nobody = service.board(actor=desk, filter=LeadFilter(statuses=None, owner_id=UNASSIGNED))
    assert all(r.owner_id is None for r in nobody.rows)
    today = service.board(actor=desk, filter=LeadFilter(statuses=None, period="today"))
    assert len(today.rows) < len(everything.rows)
    with pytest.raises(ValueError):
        LeadFilter(source="carrier_pigeon")


def test_settings_are_for_owners_and_managers_only(demo):
    store, summary = demo
    service = ClinicSettingsService(store, clinic_id=summary.clinic_id)
    for name in ("Felix Park", "Priya Raman"):
        with pytest.raises(PermissionDenied):
            service.snapshot(actor=actor(store, name))
        with pytest.raises(PermissionDenied):
            service.save_room(actor=actor(store, name), room_id=None, data={})
    snap = service.snapshot(actor=actor(store, "Marcus Mendoza"))
    assert len(snap.services) == summary.services and len(snap.staff) == summary.staff
    assert len(snap.rooms) == summary.rooms and len(snap.devices) == summary.devices
    assert snap.idle_lock_minutes == 5 and snap.currency == "USD"


def test_save_a_service_validates_every_field_and_writes_the_outbox(demo):
    store, summary = demo
    manager = actor(store, "Marcus Mendoza")
    service = ClinicSettingsService(store, clinic_id=summary.clinic_id)
    with pytest.raises(FieldErrors) as bad:
        service.save_service(actor=manager, service_id=None, data={
            "name": "", "category": "fillers", "duration_min": "0", "price": "12.345", "price_unit": "syringe",
            "qualified_roles": []})
    assert set(bad.value.errors) == {"name", "duration_min", "price", "qualified_roles"}
    data = {"name": "Lip Filler Touch-up", "category": "fillers", "duration_min": "30", "buffer_after_min": "10",
            "price": "$450", "deposit": "100", "price_unit": "syringe", "qualified_roles": ["provider"]}
    new_id = service.save_service(actor=manager, service_id=None, data=data)
    made = next(s for s in service.snapshot(actor=manager).services if s.id == new_id)
    assert (made.price_minor, made.deposit_minor, made.duration_min, made.buffer_after_min) == (45000, 10000, 30, 10)
    service.save_service(actor=manager, service_id=new_id, data={**data, "active": False})
    assert not next(s for s in service.snapshot(actor=manager).services if s.id == new_id).active
    with unit_of_work(store, system_actor(store)) as ctx:
        ops = ctx.session.execute(select(OutboxEntry.op).where(OutboxEntry.entity_id == new_id)
                                  .order_by(OutboxEntry.seq)).scalars().all()
    assert ops == ["insert", "update"]


def test_rooms_devices_and_idle_lock(demo):
    store, summary = demo
    owner = actor(store, "Olivia Owens")
    service = ClinicSettingsService(store, clinic_id=summary.clinic_id)
    snap = service.snapshot(actor=owner)
    location = snap.locations[0].id
    with pytest.raises(FieldErrors) as bad:
        service.save_room(actor=owner, room_id=None, data={"name": "Room 9", "kind": "spa", "location_id": "x"})
    assert set(bad.value.errors) == {"kind", "location_id"}
    room = service.save_room(actor=owner, room_id=None, data={"name": "Room 9", "kind": "treatment",
                                                              "location_id": location})
    device = service.save_device(actor=owner, device_id=None, data={"name": "Second IPL", "kind": "IPL",
                                                                    "location_id": location})
    snap = service.snapshot(actor=owner)
    assert any(r.id == room and r.location == snap.locations[0].name for r in snap.rooms)
    assert any(d.id == device and d.kind == "ipl" for d in snap.devices)
    pending = _outbox_count(store)
    assert service.set_idle_lock_minutes(actor=owner, minutes="2") == 2
    assert service.idle_lock_minutes(actor=actor(store, "Felix Park")) == 2
    # the workstation's own setting: nothing queued for the server (clinic details are
    # server-owned, a push would be refused), the change is audited
    assert _outbox_count(store) == pending
    with store.session() as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    assert (last.entity, last.detail["to"]) == ("workstation_setting", 2)
    with pytest.raises(FieldErrors):
        service.set_idle_lock_minutes(actor=owner, minutes="0")
    service.set_idle_lock_minutes(actor=owner, minutes=5)


def test_staff_rules_pins_and_audit(demo):
    store, summary = demo
    manager, owner = actor(store, "Marcus Mendoza"), actor(store, "Olivia Owens")
    service = ClinicSettingsService(store, clinic_id=summary.clinic_id)
    with pytest.raises(PermissionDenied):  # a manager cannot make an owner
        service.save_staff(actor=manager, staff_id=None, data={"display_name": "New Owner", "role": "owner"})
    with pytest.raises(FieldErrors) as bad:
        service.save_staff(actor=manager, staff_id=None, data={
            "display_name": "Felix Park", "role": "front_desk", "pin": "12", "phone": "555-12"})
    assert set(bad.value.errors) == {"display_name", "pin", "phone"}
    new = service.save_staff(actor=manager, staff_id=None, data={
        "display_name": "Rosa Lima", "role": "front_desk", "title": "Coordinator", "pin": "8080"})
    assert sign_in(store, pin="8080", name="Rosa Lima").role == "front_desk"
    assert any(c.name == "Rosa Lima" for c in sign_in_choices(store, clinic_id=summary.clinic_id))
    service.save_staff(actor=manager, staff_id=new, data={"display_name": "Rosa Lima", "role": "front_desk",
                                                          "title": "Coordinator", "pin": "9090"})
    assert sign_in(store, pin="9090", staff_id=new).staff_id == new
    with pytest.raises(ValidationError):  # nobody demotes themselves
        service.save_staff(actor=owner, staff_id=owner.staff_id, data={"display_name": "Olivia Owens",
                                                                       "role": "manager"})
    with unit_of_work(store, system_actor(store)) as ctx:
        details = ctx.session.execute(select(AuditEntry.action, AuditEntry.detail)
                                      .where(AuditEntry.entity_id == new).order_by(AuditEntry.seq)).all()
        staff = ctx.session.get(Staff, new)
        assert staff is not None and staff.pin_hash and "9090" not in staff.pin_hash
    assert [a for a, _ in details] == ["staff.create", "staff.update"]
    assert details[1][1] == {"fields": ["pin"]} and "9090" not in str(details)
    service.save_staff(actor=manager, staff_id=new, data={"display_name": "Rosa Lima", "role": "front_desk",
                                                          "active": False})
    assert all(c.staff_id != new for c in sign_in_choices(store, clinic_id=summary.clinic_id))


def test_sign_in_choices_list_the_clinic_staff_without_secrets(demo):
    store, summary = demo
    choices = sign_in_choices(store, clinic_id=summary.clinic_id)
    assert {c.name for c in choices} >= {"Olivia Owens", "Felix Park", "Dr. Diane Moreau"}
    assert [c.name for c in choices] == sorted(c.name for c in choices)
    assert all(c.has_pin for c in choices)
    assert not any(hasattr(c, "pin_hash") for c in choices)


def test_patients_count_is_unchanged_by_reads(demo):
    store, _ = demo
    with unit_of_work(store, system_actor(store)) as ctx:
        assert ctx.session.execute(sa.select(sa.func.count()).select_from(Patient)).scalar_one() == 150
