"""The demo clinic generator and demo sign-in, on real SQLCipher stores."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.db.models import (
    Activity,
    Appointment,
    AuditEntry,
    Clinic,
    Lead,
    OutboxEntry,
    Patient,
    Service,
    Staff,
)
from app.db.store import Store, open_store
from app.repositories import activities, appointments, patients, settings
from app.repositories.uow import system_actor, unit_of_work
from app.services import demo
from app.services.demo import DemoSummary, generate_demo
from app.services.staff import SignInError, hash_pin, sign_in, verify_pin
from core.clock import FixedClock
from core.errors import ValidationError
from core.permissions import Role

NOW = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)  # a Friday, 11:30 in Los Angeles
N = 300
TZ = ZoneInfo("America/Los_Angeles")
ACTIVE = ("booked", "confirmed", "checked_in", "completed")


def _open(folder: Path) -> Store:
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: the per-test keychain is not there yet
        mp.setenv("GLOWDESK_KEY_FILE", str(folder / "db.key"))
        return open_store(folder / "home", clock=FixedClock(NOW))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, DemoSummary, list[tuple[int, int]]]]:
    store = _open(tmp_path_factory.mktemp("demo"))
    calls: list[tuple[int, int]] = []
    summary = generate_demo(store, patients=N, seed=42, now=NOW, progress=lambda d, t: calls.append((d, t)))
    yield store, summary, calls
    store.close()


@pytest.fixture
def store(built: tuple[Store, DemoSummary, Any]) -> Store:
    return built[0]


@pytest.fixture
def summary(built: tuple[Store, DemoSummary, Any]) -> DemoSummary:
    return built[1]


def _all(store: Store, query: Any) -> list[Any]:
    with store.session() as s:
        return list(s.execute(query))


def _rows(store: Store, model: Any) -> list[Any]:
    with store.session() as s:
        return list(s.execute(select(model)).scalars())


def _content(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """What must not change between two runs with the same seed (ids aside)."""
    return {
        "patients": sorted(_all(store, select(
            Patient.first_name, Patient.last_name, Patient.phone, Patient.email, Patient.instagram_handle,
            Patient.date_of_birth, Patient.vip))),
        "services": sorted(_all(store, select(
            Service.name, Service.category, Service.duration_min, Service.price_minor, Service.deposit_minor))),
        "staff": sorted(_all(store, select(Staff.display_name, Staff.role))),
        "appointments": sorted(_all(store, select(
            Appointment.start_at, Appointment.status, Appointment.deposit_status, Appointment.price_minor))),
        "leads": sorted(_all(store, select(Lead.received_at, Lead.source, Lead.status, Lead.utm_campaign,
                                           Lead.fbclid, Lead.gclid))),
    }


# --- shape and determinism -------------------------------------------------------------------


def test_same_seed_same_clinic(tmp_path: Path, store: Store) -> None:
    again = _open(tmp_path)
    try:
        generate_demo(again, patients=N, seed=42, now=NOW)
        first, second = _content(store), _content(again)
        for key in first:
            assert first[key] == second[key], key
    finally:
        again.close()


def test_another_seed_other_people(tmp_path: Path, store: Store) -> None:
    other = _open(tmp_path)
    try:
        generate_demo(other, patients=50, seed=7, now=NOW)
        names = {(p.first_name, p.last_name) for p in _rows(other, Patient)}
        mine = [(p.first_name, p.last_name) for p in _rows(store, Patient)][:50]
        assert len(names & set(mine)) < 10
        assert _content(other)["services"] == _content(store)["services"]  # the menu is the menu
    finally:
        other.close()


def test_counts_settings_and_bookkeeping(store: Store, summary: DemoSummary,
                                         built: tuple[Any, Any, list[tuple[int, int]]]) -> None:
    (clinic,) = _rows(store, Clinic)
    assert (clinic.name, clinic.slug, clinic.timezone, clinic.region, clinic.currency) == (
        "Lumière Aesthetics", "lumiere", "America/Los_Angeles", "US", "USD")
    counts = {m.__tablename__: len(_rows(store, m)) for m in (Patient, Lead, Appointment, Activity, Staff, Service)}
    assert counts == {"patient": N, "lead": summary.leads, "appointment": summary.appointments,
                      "activity": summary.activities, "staff": summary.staff, "service": summary.services}
    assert summary.patients == N and summary.locations == 2 and summary.rooms >= 8 and summary.devices >= 6
    assert summary.appointments > N and summary.leads > 50 and summary.activities > summary.appointments
    with unit_of_work(store, system_actor(store)) as ctx:
        assert settings.get(ctx, settings.CLINIC_ID) == clinic.id == summary.clinic_id
        assert settings.get(ctx, settings.IS_DEMO) is True
        assert settings.get(ctx, settings.DEMO_STAFF_ID) == summary.owner_staff_id
    # every syncable row went out through the outbox; every client creation is audited
    outbox = Counter(e for (e,) in _all(store, select(OutboxEntry.entity)))
    assert outbox["patient"] == N and outbox["appointment"] == summary.appointments
    assert outbox["lead"] == summary.leads and outbox["activity"] == summary.activities
    assert Counter(a for (a,) in _all(store, select(AuditEntry.action)))["patient.create"] == N
    # progress: increasing, ending at (total, total)
    calls = built[2]
    assert calls and calls[-1][0] == calls[-1][1] and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_menu_follows_the_domain(store: Store) -> None:
    services = _rows(store, Service)
    by_cat = Counter(s.category for s in services)
    assert set(by_cat) == {"neuromodulators", "fillers", "lasers", "body", "skin", "wellness", "consultations"}
    for s in services:
        assert s.duration_min in range(15, 91) and s.price_minor >= 0 and s.deposit_minor >= 0
        assert s.qualified_roles and set(s.qualified_roles) <= {r.value for r in Role}
        if s.category == "neuromodulators":
            assert s.price_unit == "unit" and 400 <= s.price_minor <= 2000
        if s.category == "fillers" and s.name != "Filler Dissolve (Hyaluronidase)":
            assert s.price_unit in ("syringe", "vial") and 60000 <= s.price_minor <= 90000
    devices = {s.device_kind for s in services if s.device_kind}
    assert {"alexandrite_ndyag_laser", "rf_microneedling", "cryolipolysis", "hydrafacial"} <= devices
    assert {s.name for s in services} >= {"Botox Cosmetic", "Dysport", "Juvéderm Voluma XC", "Restylane Kysse",
                                          "CoolSculpting Elite", "Good-Faith Exam (GFE)", "HydraFacial Signature"}


# --- staff and sign-in -----------------------------------------------------------------------


def test_every_role_is_staffed_and_pins_sign_in(store: Store, summary: DemoSummary) -> None:
    staff = _rows(store, Staff)
    roles = Counter(s.role for s in staff)
    assert set(roles) == {r.value for r in Role}
    assert roles["provider"] >= 3 and roles["front_desk"] >= 2
    assert all(s.pin_hash and s.pin_hash.startswith("$argon2id$") for s in staff)
    owner = sign_in(store, name="olivia owens", pin="1234")
    assert (owner.staff_id, owner.role) == (summary.owner_staff_id, "owner")
    for name, pin in summary.staff_pins.items():
        assert name in (demo.__doc__ or "") and pin in (demo.__doc__ or "")
        assert sign_in(store, name=name, pin=pin).name == name
    with pytest.raises(SignInError) as wrong:
        sign_in(store, name="Olivia Owens", pin="9999")
    assert "9999" not in str(wrong.value)
    with pytest.raises(SignInError):
        sign_in(store, name="Nobody Here", pin="1234")
    assert sign_in(store, staff_id=summary.owner_staff_id, pin="1234").name == "Olivia Owens"


def test_pin_hashing() -> None:
    h = hash_pin("0420")
    assert h != hash_pin("0420") and verify_pin(h, "0420") and not verify_pin(h, "0421")
    assert not verify_pin(None, "0420") and not verify_pin("not a hash", "0420")
    for bad in ("123", "1234567", "12a4", ""):
        with pytest.raises(ValidationError):
            hash_pin(bad)


# --- clients ---------------------------------------------------------------------------------


def test_every_phone_is_valid_e164_and_unique(store: Store) -> None:
    phones = [p for (p,) in _all(store, select(Patient.phone)) if p]
    assert len(phones) > N * 0.9 and len(set(phones)) == len(phones)
    extra = [p for (p,) in _all(store, sa.text("SELECT phone FROM location UNION ALL SELECT phone FROM clinic"))]
    for phone in phones + extra:
        parsed = phonenumbers.parse(phone, None)
        assert phonenumbers.is_valid_number(parsed), phone
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == phone


def test_clients_are_diverse_and_complete(store: Store) -> None:
    people = _rows(store, Patient)
    assert any(any(ord(ch) > 127 for ch in p.first_name + p.last_name) for p in people)
    last_names = {unicodedata.normalize("NFC", p.last_name) for p in people}
    assert len(last_names) > 120
    assert 0.02 <= sum(p.vip for p in people) / N <= 0.09
    today = NOW.date()
    ages = [(today - p.date_of_birth).days // 365 for p in people if p.date_of_birth]
    assert sum(25 <= a <= 60 for a in ages) / len(ages) >= 0.7 and min(ages) >= 18
    assert 0.05 <= sum(bool(p.allergies) for p in people) / N <= 0.25
    assert sum(bool(p.medical_alerts) for p in people) > 0
    assert 0.15 <= sum(bool(p.instagram_handle) for p in people) / N <= 0.6
    assert sum(bool(p.tags) for p in people) > N * 0.3
    emails = [p.email for p in people if p.email]
    assert len(set(emails)) == len(emails) and all(e.split("@")[1].startswith("example.") for e in emails)
    for p in people:
        assert set(p.consents) == {"transactional_sms", "marketing_sms", "email", "phone", "photo_clinical",
                                   "photo_portal", "photo_marketing"}
        assert all({"granted", "at", "source"} <= set(v) for v in p.consents.values())
        assert p.first_touch.get("source") and p.first_touch.get("at")


def test_first_touch_comes_from_the_clients_first_lead(store: Store) -> None:
    leads_by_id = {lead.id: lead for lead in _rows(store, Lead)}
    from_leads = [p for p in _rows(store, Patient) if p.first_touch.get("lead_id")]
    assert len(from_leads) > N * 0.25
    for p in from_leads:
        lead = leads_by_id[p.first_touch["lead_id"]]
        assert lead.patient_id == p.id and lead.source == p.first_touch["source"]
        assert p.first_touch.get("utm_campaign") == lead.utm_campaign
        assert p.first_touch.get("fbclid") == lead.fbclid and p.first_touch.get("gclid") == lead.gclid


def test_search_finds_a_generated_client(store: Store) -> None:
    people = _rows(store, Patient)
    target = next(p for p in people if p.phone and any(ord(ch) > 127 for ch in p.last_name))
    with unit_of_work(store, system_actor(store)) as ctx:
        assert target.id in {h.id for h in patients.search(ctx, target.last_name)}
        assert target.id in {h.id for h in patients.search(ctx, f"{target.first_name[:3]} {target.last_name}")}
        assert target.id in {h.id for h in patients.search(ctx, target.phone[-7:])}


# --- calendar --------------------------------------------------------------------------------


def test_status_proportions(store: Store) -> None:
    appts = _rows(store, Appointment)
    past = Counter(a.status for a in appts if a.end_at <= NOW)
    total = sum(past.values())
    assert total > 600
    share = {k: v / total for k, v in past.items()}
    assert set(share) == {"completed", "no_show", "cancelled", "late_cancelled"}
    assert abs(share["completed"] - 0.80) <= 0.04
    assert abs(share["no_show"] - 0.07) <= 0.025
    assert abs(share["cancelled"] - 0.08) <= 0.025
    assert abs(share["late_cancelled"] - 0.05) <= 0.02
    future = Counter(a.status for a in appts if a.start_at > NOW)
    assert set(future) == {"booked", "confirmed"}
    assert all(a.status == "checked_in" for a in appts if a.start_at <= NOW < a.end_at)
    starts = [a.start_at for a in appts]
    assert NOW - timedelta(days=366) <= min(starts) <= NOW - timedelta(days=350)
    assert NOW + timedelta(days=14) <= max(starts) <= NOW + timedelta(days=29)


def test_opening_hours_and_grid(store: Store) -> None:
    for a in _rows(store, Appointment):
        local = a.start_at.astimezone(TZ)
        assert local.weekday() != 6 and 9 <= local.hour and a.end_at.astimezone(TZ).hour <= 19
        assert local.minute % 15 == 0 and local.second == 0
        assert a.room_id and a.location_id


def _held(store: Store) -> list[tuple[str, str, datetime, datetime, str]]:
    """(appointment id, resource id, held from, held until, status) for every resource held."""
    rows = _all(store, select(Appointment, Service.buffer_before_min, Service.buffer_after_min)
                .join(Service, Service.id == Appointment.service_id))
    out = []
    for a, before, after in rows:
        start, end = a.start_at - timedelta(minutes=before), a.end_at + timedelta(minutes=after)
        for rid in (a.provider_id, a.room_id, a.device_id):
            if rid:
                out.append((a.id, rid, start, end, a.status))
    return out


def test_no_double_booking(store: Store) -> None:
    # straight SQL: no two active appointments overlap on a provider, room or device
    overlaps = _all(store, sa.text(
        "SELECT count(*) FROM appointment a JOIN appointment b ON a.id < b.id "
        "AND a.start_at < b.end_at AND b.start_at < a.end_at "
        "AND (a.provider_id = b.provider_id OR a.room_id = b.room_id OR a.device_id = b.device_id) "
        f"WHERE a.status IN {ACTIVE} AND b.status IN {ACTIVE}"))
    assert overlaps == [(0,)]
    # with set-up and clean-up buffers, and whatever the status
    by_resource: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for aid, rid, start, end, _ in _held(store):
        by_resource.setdefault(rid, []).append((start, end, aid))
    for spans in by_resource.values():
        spans.sort()
        for (_, end, a), (start, _, b) in zip(spans, spans[1:], strict=False):
            assert end <= start, (a, b)
    # and the repository agrees for a sample
    with unit_of_work(store, system_actor(store)) as ctx:
        sample = [a for a in _rows(store, Appointment) if a.status in ACTIVE][::7]
        services = {s.id: s for s in _rows(store, Service)}
        for a in sample:
            s = services[a.service_id]
            assert appointments.find_conflicts(
                ctx, start_at=a.start_at, end_at=a.end_at, provider_id=a.provider_id, room_id=a.room_id,
                device_id=a.device_id, buffer_before_min=s.buffer_before_min, buffer_after_min=s.buffer_after_min,
                exclude_id=a.id) == []


def test_services_need_their_room_device_and_a_skilled_provider(store: Store) -> None:
    services = {s.id: s for s in _rows(store, Service)}
    staff = {s.id: s for s in _rows(store, Staff)}
    rooms = dict(_all(store, sa.text("SELECT id, kind FROM room")))
    devices = dict(_all(store, sa.text("SELECT id, kind FROM device")))
    device_location = dict(_all(store, sa.text("SELECT id, location_id FROM device")))
    room_location = dict(_all(store, sa.text("SELECT id, location_id FROM room")))
    spec = {s.name: s for s in demo.SERVICES}
    for a in _rows(store, Appointment):
        service = services[a.service_id]
        assert staff[a.provider_id].role in service.qualified_roles
        assert rooms[a.room_id] in spec[service.name].rooms and room_location[a.room_id] == a.location_id
        assert (devices.get(a.device_id) if a.device_id else None) == service.device_kind
        if a.device_id:
            assert device_location[a.device_id] == a.location_id
        assert a.price_minor % service.price_minor == 0 if service.price_minor else a.price_minor == 0
        assert a.deposit_minor == service.deposit_minor


def test_deposits_follow_the_domain(store: Store) -> None:
    allowed = {
        "completed": {"applied", "released", "waived"},
        "no_show": {"forfeited", "waived"},
        "late_cancelled": {"forfeited", "waived"},
        "cancelled": {"released", "refunded", "waived"},
        "checked_in": {"authorised", "captured", "waived"},
        "booked": {"required", "link_sent", "authorised", "captured", "waived"},
        "confirmed": {"required", "link_sent", "authorised", "captured", "waived"},
    }
    seen: Counter[str] = Counter()
    for a in _rows(store, Appointment):
        if a.deposit_minor == 0:
            assert a.deposit_status == "not_required"
            continue
        assert a.deposit_status in allowed[a.status], (a.status, a.deposit_status)
        if a.deposit_status == "authorised":  # a card hold lasts about 7 days
            assert a.start_at - NOW <= timedelta(days=7)
        seen[a.deposit_status] += 1
    assert {"applied", "forfeited", "released", "waived"} <= set(seen)


# --- leads and timeline ----------------------------------------------------------------------


def test_leads_from_every_source_with_their_click_ids(store: Store) -> None:
    leads = _rows(store, Lead)
    by_source: dict[str, list[Lead]] = {}
    for lead in leads:
        by_source.setdefault(lead.source, []).append(lead)
    assert set(by_source) == {"meta_lead_ad", "instagram_dm", "google_ads", "web_form", "phone", "walk_in",
                              "referral", "manual"}
    for lead in leads:
        clicks = {k for k in ("fbclid", "gclid", "gbraid", "wbraid") if getattr(lead, k)}
        if lead.source == "meta_lead_ad":
            assert clicks == {"fbclid"} and lead.utm_source in ("facebook", "instagram")
            assert lead.utm_medium == "paid_social"
        elif lead.source == "google_ads":
            assert len(clicks) == 1 and clicks <= {"gclid", "gbraid", "wbraid"}
            assert (lead.utm_source, lead.utm_medium) == ("google", "cpc") and lead.utm_term
            assert lead.referrer == "https://www.google.com/"
        else:
            assert clicks == set()
        if lead.campaign_id:
            assert lead.utm_campaign == lead.campaign_id and lead.utm_content == lead.ad_id and lead.adset_id
        if lead.landing_page and lead.utm_campaign:
            assert f"utm_campaign={lead.utm_campaign}" in lead.landing_page
            for key in clicks:
                assert f"{key}={getattr(lead, key)}" in lead.landing_page
        if lead.source in ("web_form", "referral", "google_ads", "meta_lead_ad"):
            assert lead.landing_page and lead.landing_page.startswith("https://lumiere-aesthetics.example/")
        assert lead.received_at <= NOW
        if lead.first_reply_at:
            assert lead.first_reply_at >= lead.received_at
    statuses = Counter(lead.status for lead in leads)
    assert {"new", "contacted", "converted", "lost", "spam"} <= set(statuses)
    assert len(statuses) >= 6
    assert all(lead.patient_id is None for lead in leads if lead.status == "spam")
    assert all(lead.first_reply_at is None for lead in leads if lead.status == "new")


def test_converted_leads_have_a_visit(store: Store) -> None:
    leads = {lead.id: lead for lead in _rows(store, Lead)}
    first_visits = {a.source_lead_id: a for a in _rows(store, Appointment) if a.source_lead_id}
    assert first_visits
    for lead_id, appt in first_visits.items():
        lead = leads[lead_id]
        assert appt.patient_id == lead.patient_id and appt.start_at > lead.received_at
        assert lead.status in ("converted", "booked", "lost", "qualified")
    for lead in leads.values():
        if lead.status in ("converted", "booked"):
            assert lead.id in first_visits


def test_timeline(store: Store) -> None:
    acts = _rows(store, Activity)
    kinds = Counter(a.type for a in acts)
    assert kinds[activities.LEAD_RECEIVED] == len(_rows(store, Lead))
    assert kinds[activities.APPOINTMENT_BOOKED] == len(_rows(store, Appointment))
    for kind in (activities.APPOINTMENT_COMPLETED, activities.APPOINTMENT_NO_SHOW, activities.NOTE,
                 activities.LEAD_CONTACTED):
        assert kinds[kind] > 0, kind
    assert all(a.occurred_at <= NOW for a in acts)  # the timeline holds no future
    booked = [a for a in acts if a.type == activities.APPOINTMENT_BOOKED]
    starts = {a.id: a.start_at for a in _rows(store, Appointment)}
    assert all(a.occurred_at < starts[a.payload["appointment_id"]] for a in booked)
    busiest = Counter(a.patient_id for a in acts if a.patient_id).most_common(1)[0][0]
    with unit_of_work(store, system_actor(store)) as ctx:
        timeline = activities.for_patient(ctx, busiest, limit=None)
        assert len(timeline) >= 4
        assert [a.occurred_at for a in timeline] == sorted((a.occurred_at for a in timeline), reverse=True)


# --- more than one demo, and an empty one ----------------------------------------------------


def test_a_second_demo_gets_its_own_slug(tmp_path: Path) -> None:
    s = _open(tmp_path)
    try:
        first = generate_demo(s, patients=0, seed=1, now=NOW)
        second = generate_demo(s, patients=0, seed=1, now=NOW)
        slugs = sorted(c.slug for c in _rows(s, Clinic))
        assert slugs == ["lumiere", "lumiere-2"] and first.patients == second.patients == 0
        with unit_of_work(s, system_actor(s)) as ctx:
            assert settings.get(ctx, settings.CLINIC_ID) == second.clinic_id
        # two "Olivia Owens" in the file: signing in by name picks the workstation's clinic
        assert sign_in(s, name="Olivia Owens", pin="1234").staff_id == second.owner_staff_id
    finally:
        s.close()


def test_now_must_be_aware(tmp_path: Path) -> None:
    s = _open(tmp_path)
    try:
        with pytest.raises(ValueError):
            generate_demo(s, patients=1, now=datetime(2026, 1, 1))
        assert _rows(s, Clinic) == []
    finally:
        s.close()

