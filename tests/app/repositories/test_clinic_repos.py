"""Clinic, lead, activity and appointment repositories on a real SQLCipher store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db.models import (
    Activity,
    Appointment,
    Clinic,
    Device,
    Lead,
    Location,
    OutboxEntry,
    Room,
    Service,
    Staff,
)
from app.db.store import Store, open_store
from app.repositories import activities, appointments, leads, rows
from app.repositories import clinic as repo
from app.repositories.context import Actor, Ctx
from app.repositories.uow import unit_of_work
from core.clock import FixedClock

NOW = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
STAFF_ID = "01900000-0000-7000-8000-0000000000aa"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "home", clock=FixedClock(NOW))
    yield s
    s.close()


@pytest.fixture
def actor(store: Store) -> Actor:
    return Actor(staff_id=STAFF_ID, device_id=store.device_id, role="owner", name="Test Owner")


@pytest.fixture
def clinic(store: Store, actor: Actor) -> dict[str, str]:
    """A clinic with one location, two rooms, a laser, two providers and two services."""
    with unit_of_work(store, actor) as ctx:
        c = repo.create_clinic(ctx, Clinic(name="Test Spa", slug="test-spa", timezone="America/Los_Angeles",
                                           region="US", currency="USD", phone=None, settings={}))
        loc = repo.create_location(ctx, Location(clinic_id=c.id, name="Main", address={},
                                                 timezone="America/Los_Angeles", phone=None))
        r1 = repo.create_room(ctx, Room(clinic_id=c.id, location_id=loc.id, name="Room 1", kind="treatment",
                                        active=True))
        r2 = repo.create_room(ctx, Room(clinic_id=c.id, location_id=loc.id, name="Laser Suite", kind="laser",
                                        active=True))
        repo.create_room(ctx, Room(clinic_id=c.id, location_id=loc.id, name="Old Room", kind="treatment",
                                   active=False))
        dev = repo.create_device(ctx, Device(clinic_id=c.id, location_id=loc.id, name="GentleMax Pro",
                                             kind="alexandrite_ndyag_laser", model="Candela", active=True))
        p1 = repo.create_staff(ctx, Staff(clinic_id=c.id, display_name="Zoë Nguyễn", role="provider",
                                          title="RN", active=True))
        p2 = repo.create_staff(ctx, Staff(clinic_id=c.id, display_name="Ana Ruiz", role="provider",
                                          title="NP", active=True))
        botox = repo.create_service(ctx, Service(
            clinic_id=c.id, name="Botox", category="neuromodulators", duration_min=30, buffer_before_min=0,
            buffer_after_min=10, price_minor=1500, price_unit="unit", currency="USD", deposit_minor=5000,
            requires_room=True, device_kind=None, qualified_roles=["provider"], active=True))
        laser = repo.create_service(ctx, Service(
            clinic_id=c.id, name="Laser Hair Removal", category="lasers", duration_min=30, buffer_before_min=5,
            buffer_after_min=10, price_minor=25000, price_unit="session", currency="USD", deposit_minor=5000,
            requires_room=True, device_kind="alexandrite_ndyag_laser", qualified_roles=["provider"], active=True))
        return {"clinic": c.id, "location": loc.id, "room1": r1.id, "laser_room": r2.id, "device": dev.id,
                "p1": p1.id, "p2": p2.id, "botox": botox.id, "laser": laser.id}


def _outbox(store: Store, entity: str) -> list[OutboxEntry]:
    with store.session() as s:
        return list(s.execute(select(OutboxEntry).where(OutboxEntry.entity == entity)).scalars())


# --- clinic and resources --------------------------------------------------------------------


def test_created_rows_have_bookkeeping_and_outbox(store: Store, actor: Actor, clinic: dict[str, str]) -> None:
    with unit_of_work(store, actor) as ctx:
        c = repo.get_clinic(ctx, clinic["clinic"])
        assert c is not None and c.version == 1 and not c.deleted and c.hlc
        assert c.created_at == NOW
    for entity, n in (("clinic", 1), ("location", 1), ("room", 3), ("device", 1), ("staff", 2), ("service", 2)):
        entries = _outbox(store, entity)
        assert len(entries) == n, entity
        assert all(e.op == "insert" and e.staff_id == STAFF_ID and e.base_version == 0 for e in entries)
    (svc,) = [e for e in _outbox(store, "service") if e.fields["name"] == "Botox"]
    assert svc.fields["price_minor"] == 1500 and svc.fields["qualified_roles"] == ["provider"]


def test_lists_filter_and_leave_out_tombstones(store: Store, actor: Actor, clinic: dict[str, str]) -> None:
    cid = clinic["clinic"]
    with unit_of_work(store, actor) as ctx:
        assert [r.name for r in repo.list_rooms(ctx, cid)] == ["Laser Suite", "Room 1"]
        assert len(repo.list_rooms(ctx, cid, active_only=False)) == 3
        assert [r.name for r in repo.list_rooms(ctx, cid, kind="laser")] == ["Laser Suite"]
        assert [d.name for d in repo.list_devices(ctx, cid, location_id=clinic["location"])] == ["GentleMax Pro"]
        assert [s.display_name for s in repo.list_staff(ctx, cid, role="provider")] == ["Ana Ruiz", "Zoë Nguyễn"]
        assert [s.name for s in repo.list_services(ctx, cid, category="lasers")] == ["Laser Hair Removal"]
        assert [loc.name for loc in repo.list_locations(ctx, cid)] == ["Main"]
        staff = repo.get_staff(ctx, clinic["p2"])
        assert staff is not None
        rows.tombstone(ctx, staff)
    with unit_of_work(store, actor) as ctx:
        assert repo.get_staff(ctx, clinic["p2"]) is None
        assert [s.display_name for s in repo.list_staff(ctx, cid)] == ["Zoë Nguyễn"]
        assert repo.list_staff(ctx, "another-clinic") == []


def test_staff_by_name_ignores_case_spacing_and_accents_stay(store: Store, actor: Actor,
                                                              clinic: dict[str, str]) -> None:
    with unit_of_work(store, actor) as ctx:
        assert [s.id for s in repo.staff_by_name(ctx, "  zoë   NGUYỄN ")] == [clinic["p1"]]
        assert repo.staff_by_name(ctx, "Zoe Nguyen") == []
        assert repo.clinic_by_slug(ctx, "test-spa") is not None
        assert repo.slug_taken(ctx, "test-spa") and not repo.slug_taken(ctx, "other")


def test_bulk_insert_matches_rows_insert(store: Store, actor: Actor, clinic: dict[str, str]) -> None:
    """The bulk path writes the same row bookkeeping and outbox entry as rows.insert."""
    cid = clinic["clinic"]
    when = NOW - timedelta(days=1)
    with unit_of_work(store, actor) as ctx:
        one = leads.create(ctx, Lead(clinic_id=cid, source="web_form", status="new", received_at=when,
                                     utm_source="google"))
        n = leads.create_many(ctx, [
            Lead(clinic_id=cid, source="web_form", status="new", received_at=when, utm_source="google"),
            Lead(clinic_id=cid, source="phone", received_at=when),  # status left to its default
        ])
        assert n == 2 and "lead" in ctx.changed
    by_id = {e.entity_id: e for e in _outbox(store, "lead")}
    assert len(by_id) == 3
    single = by_id.pop(one.id)
    for entry in by_id.values():
        assert entry.op == single.op == "insert"
        assert entry.fields.keys() == single.fields.keys()
        assert entry.staff_id == STAFF_ID and entry.base_version == 0 and entry.created_at == NOW
    with unit_of_work(store, actor) as ctx:
        stored = leads.list_leads(ctx, cid)
        assert len(stored) == 3
        assert all(x.version == 1 and not x.deleted and x.hlc and x.created_at == NOW for x in stored)
        assert sorted(x.status for x in stored) == ["new", "new", "new"]
        hlcs = [x.hlc for x in stored]
        assert len(set(hlcs)) == 3  # every change gets its own HLC stamp


# --- leads -----------------------------------------------------------------------------------


def test_leads_list_newest_first_with_filters(store: Store, actor: Actor, clinic: dict[str, str]) -> None:
    cid = clinic["clinic"]
    with unit_of_work(store, actor) as ctx:
        for i, (source, status) in enumerate([("meta_lead_ad", "new"), ("google_ads", "contacted"),
                                              ("meta_lead_ad", "lost"), ("phone", "new")]):
            leads.create(ctx, Lead(clinic_id=cid, source=source, status=status, patient_id="p-1" if i < 2 else None,
                                   received_at=NOW - timedelta(hours=i)))
    with unit_of_work(store, actor) as ctx:
        assert [x.source for x in leads.list_leads(ctx, cid)] == ["meta_lead_ad", "google_ads", "meta_lead_ad",
                                                                   "phone"]
        assert [x.status for x in leads.list_leads(ctx, cid, statuses=["new"])] == ["new", "new"]
        assert len(leads.list_leads(ctx, cid, source="meta_lead_ad")) == 2
        assert len(leads.list_leads(ctx, cid, since=NOW - timedelta(hours=1, minutes=30))) == 2
        assert len(leads.list_leads(ctx, cid, until=NOW - timedelta(hours=1), limit=1)) == 1
        assert [x.source for x in leads.for_patient(ctx, "p-1")] == ["meta_lead_ad", "google_ads"]
        assert leads.count_by(ctx, cid, "source") == {"meta_lead_ad": 2, "google_ads": 1, "phone": 1}
        with pytest.raises(ValueError):
            leads.count_by(ctx, cid, "utm_source")


# --- activities ------------------------------------------------------------------------------


def test_timeline_is_append_only_and_newest_first(store: Store, actor: Actor, clinic: dict[str, str]) -> None:
    cid = clinic["clinic"]
    with unit_of_work(store, actor) as ctx:
        activities.append(ctx, clinic_id=cid, patient_id="p-1", type=activities.LEAD_RECEIVED,
                          occurred_at=NOW - timedelta(days=3), payload={"source": "web_form"})
        activities.append_many(ctx, [
            Activity(clinic_id=cid, patient_id="p-1", type=activities.APPOINTMENT_BOOKED, actor_id=None,
                     occurred_at=NOW - timedelta(days=2), payload={}),
            Activity(clinic_id=cid, patient_id="p-1", type=activities.APPOINTMENT_COMPLETED, actor_id=None,
                     occurred_at=NOW - timedelta(days=1), payload={}),
            Activity(clinic_id=cid, patient_id="p-2", type=activities.NOTE, actor_id=None, occurred_at=NOW,
                     payload={"text": "hello"}),
        ])
        note = activities.append(ctx, clinic_id=cid, patient_id="p-1", type=activities.NOTE, occurred_at=NOW)
        assert note.actor_id == STAFF_ID  # defaults to whoever acts
        with pytest.raises(ValueError, match="append-only"):
            rows.update(ctx, note, {"payload": {"text": "edited"}})
    with unit_of_work(store, actor) as ctx:
        timeline = activities.for_patient(ctx, "p-1")
        assert [a.type for a in timeline] == ["note", "appointment.completed", "appointment.booked", "lead.received"]
        assert [a.type for a in activities.for_patient(ctx, "p-1", types=["appointment."])] == [
            "appointment.completed", "appointment.booked"]
        assert [a.type for a in activities.for_patient(ctx, "p-1", types=["note", "lead.received"])] == [
            "note", "lead.received"]
        assert activities.for_patient(ctx, "p-1", types=[]) == []
        assert len(activities.for_patient(ctx, "p-1", before=NOW - timedelta(hours=1), limit=2)) == 2
    assert {e.op for e in _outbox(store, "activity")} == {"append"}
    assert len(_outbox(store, "activity")) == 5


# --- appointments ----------------------------------------------------------------------------


def _book(ctx: Ctx, c: dict[str, str], *, service: str, provider: str, start: datetime, minutes: int = 30,
          room: str | None = None, device: str | None = None, status: str = "booked") -> Appointment:
    return appointments.create(ctx, Appointment(
        clinic_id=c["clinic"], patient_id="p-1", service_id=c[service], provider_id=c[provider],
        location_id=c["location"], room_id=room, device_id=device, start_at=start,
        end_at=start + timedelta(minutes=minutes), status=status, deposit_status="not_required",
        deposit_minor=0, price_minor=0, currency="USD", tentative=False))


T9 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # 9:00 in Los Angeles


def _conflicts(ctx: Ctx, **kw: Any) -> list[tuple[str, str]]:
    return [(c.resource, c.appointment_id) for c in appointments.find_conflicts(ctx, **kw)]


def test_conflicts_on_provider_room_and_device(store: Store, actor: Actor, clinic: dict[str, str]) -> None:
    c = clinic
    with unit_of_work(store, actor) as ctx:
        a = _book(ctx, c, service="botox", provider="p1", start=T9, room=c["room1"])  # held 9:00-9:40
        b = _book(ctx, c, service="laser", provider="p2", start=T9 + timedelta(hours=1), room=c["laser_room"],
                  device=c["device"])  # held 9:55-10:40
    with unit_of_work(store, actor) as ctx:
        # the same provider at the same time, in another room
        assert _conflicts(ctx, start_at=T9 + timedelta(minutes=15), end_at=T9 + timedelta(minutes=45),
                          provider_id=c["p1"], room_id=c["laser_room"]) == [("provider", a.id)]
        # another provider, same room
        assert _conflicts(ctx, start_at=T9 + timedelta(minutes=15), end_at=T9 + timedelta(minutes=45),
                          provider_id=c["p2"], room_id=c["room1"]) == [("room", a.id)]
        # the laser is busy even for a booking in another room with another provider
        assert _conflicts(ctx, start_at=T9 + timedelta(hours=1), end_at=T9 + timedelta(hours=1, minutes=15),
                          provider_id=c["p1"], device_id=c["device"]) == [("device", b.id)]
        # both provider and room collide: one entry per resource
        assert sorted(_conflicts(ctx, start_at=T9, end_at=T9 + timedelta(minutes=30), provider_id=c["p1"],
                                 room_id=c["room1"])) == [("provider", a.id), ("room", a.id)]
        # a free slot, and no resources asked about
        assert _conflicts(ctx, start_at=T9 + timedelta(hours=3), end_at=T9 + timedelta(hours=4),
                          provider_id=c["p1"], room_id=c["room1"], device_id=c["device"]) == []
        assert _conflicts(ctx, start_at=T9, end_at=T9 + timedelta(minutes=30)) == []
        # moving an appointment does not collide with itself
        assert _conflicts(ctx, start_at=T9 + timedelta(minutes=5), end_at=T9 + timedelta(minutes=35),
                          provider_id=c["p1"], exclude_id=a.id) == []
        with pytest.raises(ValueError):
            appointments.find_conflicts(ctx, start_at=T9, end_at=T9, provider_id=c["p1"])


def test_buffers_count_on_both_sides(store: Store, actor: Actor, clinic: dict[str, str]) -> None:
    c = clinic
    with unit_of_work(store, actor) as ctx:
        a = _book(ctx, c, service="botox", provider="p1", start=T9, room=c["room1"])  # 9:00-9:30 + 10 min clean-up
    with unit_of_work(store, actor) as ctx:
        after = T9 + timedelta(minutes=30)
        # starts when the appointment ends, but its clean-up runs until 9:40
        assert _conflicts(ctx, start_at=after, end_at=after + timedelta(minutes=30), room_id=c["room1"]) == [
            ("room", a.id)]
        # starts when the clean-up ends: touching is not overlapping
        assert _conflicts(ctx, start_at=after + timedelta(minutes=10), end_at=after + timedelta(minutes=40),
                          room_id=c["room1"]) == []
        # ... unless the new booking needs its own set-up time before it
        assert _conflicts(ctx, start_at=after + timedelta(minutes=10), end_at=after + timedelta(minutes=40),
                          room_id=c["room1"], buffer_before_min=5) == [("room", a.id)]
        # a booking that ends right before, with its own clean-up running into 9:00
        before = T9 - timedelta(minutes=30)
        assert _conflicts(ctx, start_at=before, end_at=T9, room_id=c["room1"]) == []
        assert _conflicts(ctx, start_at=before, end_at=T9, room_id=c["room1"], buffer_after_min=10) == [
            ("room", a.id)]


def test_only_active_appointments_hold_their_slot(store: Store, actor: Actor, clinic: dict[str, str]) -> None:
    c = clinic
    with unit_of_work(store, actor) as ctx:
        held = {}
        for i, status in enumerate(["booked", "confirmed", "checked_in", "completed", "cancelled",
                                    "late_cancelled", "no_show"]):
            held[status] = _book(ctx, c, service="botox", provider="p1", start=T9 + timedelta(days=i),
                                 status=status).id
        gone = _book(ctx, c, service="botox", provider="p1", start=T9 + timedelta(days=7))
        rows.tombstone(ctx, gone)
    with unit_of_work(store, actor) as ctx:
        for i, status in enumerate(held):
            found = _conflicts(ctx, start_at=T9 + timedelta(days=i), end_at=T9 + timedelta(days=i, minutes=30),
                               provider_id=c["p1"])
            expected = [("provider", held[status])] if status in ("booked", "confirmed", "checked_in",
                                                                   "completed") else []
            assert found == expected, status
        assert _conflicts(ctx, start_at=T9 + timedelta(days=7), end_at=T9 + timedelta(days=7, minutes=30),
                          provider_id=c["p1"]) == []


def test_list_between_by_provider_and_location(store: Store, actor: Actor, clinic: dict[str, str]) -> None:
    c = clinic
    with unit_of_work(store, actor) as ctx:
        _book(ctx, c, service="botox", provider="p1", start=T9 + timedelta(hours=2))
        _book(ctx, c, service="botox", provider="p2", start=T9)
        _book(ctx, c, service="botox", provider="p1", start=T9 + timedelta(days=1))
        appointments.create_many(ctx, [Appointment(
            clinic_id=c["clinic"], patient_id="p-2", service_id=c["botox"], provider_id=c["p1"],
            location_id=c["location"], start_at=T9 + timedelta(hours=1), end_at=T9 + timedelta(hours=1, minutes=30),
            status="cancelled", currency="USD", tentative=False)])
    day_end = T9 + timedelta(hours=12)
    with unit_of_work(store, actor) as ctx:
        day = appointments.list_between(ctx, c["clinic"], T9, day_end)
        assert [a.start_at for a in day] == [T9, T9 + timedelta(hours=1), T9 + timedelta(hours=2)]
        assert len(appointments.list_between(ctx, c["clinic"], T9, day_end, provider_id=c["p1"])) == 2
        assert len(appointments.list_between(ctx, c["clinic"], T9, day_end, statuses=["booked"])) == 2
        assert len(appointments.list_between(ctx, c["clinic"], T9, day_end, location_id="elsewhere")) == 0
        bulk = appointments.list_between(ctx, c["clinic"], T9, day_end, statuses=["cancelled"])[0]
        assert bulk.deposit_status == "not_required" and bulk.deposit_minor == 0  # column defaults
        assert [a.patient_id for a in appointments.for_patient(ctx, "p-2")] == ["p-2"]
        assert appointments.get(ctx, bulk.id) is not None
