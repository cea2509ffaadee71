"""The demo clinic: a deterministic, seeded generator of a believable med spa.

``generate_demo(store, patients=2000, seed=42)`` fills an empty store with *Lumière Aesthetics*,
a two-location Bay Area med spa: rooms and devices, a real service menu (DOMAIN.md), staff in
every role, N clients, twelve months of appointments ending four weeks after ``now``, leads from
every source with their UTMs and click ids, and the timeline that goes with them. The same seed
and the same ``now`` give the same content (names, phones, times, prices, statuses); only the
row ids (UUIDv7, made as rows are written) differ between runs.

Demo staff and their PINs (sign in with ``--staff NAME --pin PIN``):

=======================  ==================  ==========================================  ======
name                     role                title                                       PIN
=======================  ==================  ==========================================  ======
Olivia Owens             owner               Owner                                       1234
Marcus Mendoza           manager             Practice Manager                            2468
Dr. Diane Moreau         medical_director    Medical Director, MD                        1357
Priya Raman              provider            Senior Nurse Injector, RN                   1111
Nora Kim                 provider            Nurse Practitioner, NP                      2222
Jasmine Okafor           provider            Nurse Injector, RN                          3333
Elena Rossi              provider            Licensed Aesthetician & Laser Specialist    4444
Felix Park               front_desk          Patient Coordinator (Pacific Heights)       5555
Daisy Alvarez            front_desk          Patient Coordinator (Palo Alto)             6666
Sam Taylor               front_desk          Patient Coordinator (float)                 7777
=======================  ==================  ==========================================  ======

Olivia Owens is the demo owner (``settings.DEMO_STAFF_ID``), the default actor of a demo home.

Safety of the made-up data: every phone number is in a California (or a few other US) area
code with the 555 exchange, which is valid E.164 but not handed out to subscribers, so a demo can
never text a real person; email addresses use the reserved ``example.com/.net/.org`` domains and
web addresses the reserved ``.example`` top-level domain.

Appointments never overlap on a provider, a room or a device (set-up and clean-up buffers
included), whatever their status.
"""

from __future__ import annotations

import bisect
import gc
import logging
import math
import random
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from app.db.models import (
    Activity,
    Appointment,
    Clinic,
    Device,
    Lead,
    Location,
    MessageTemplate,
    Patient,
    Room,
    Service,
    Staff,
)
from app.db.store import Store
from app.repositories import activities as activity_repo
from app.repositories import appointments as appointment_repo
from app.repositories import clinic as clinic_repo
from app.repositories import leads as lead_repo
from app.repositories import messages as message_repo
from app.repositories import patients as patient_repo
from app.repositories import settings
from app.repositories.context import Actor, Ctx
from app.repositories.uow import unit_of_work
from app.services.staff import hash_pin
from core.demo.catalogue import (
    ALLERGIES,
    AREA_CODES,
    ASIAN_GROUPS,
    BOOK_RATE,
    CAMPAIGNS,
    CATEGORIES,
    CATEGORY_WEIGHTS,
    CLINIC_NAME,
    CLINIC_SLUG,
    DESK_BY_LOCATION,
    DEVICES,
    EMAIL_DOMAINS,
    ENGLISH_NAMES,
    FIRST_CONSULT,
    FUTURE_DAYS,
    ID_ALPHABET,
    LEAD_SOURCES,
    LOCATIONS,
    LUNCH,
    MANUAL_NOTES,
    MEDICAL_ALERTS,
    MESSAGES,
    MIN_GAP,
    NAMES,
    NICKNAMES,
    NOTES,
    PATIENT_NOTES,
    PLACES,
    ROOMS,
    SERVICE_BY_KEY,
    SERVICES,
    STAFF,
    STREETS,
    TAGS,
    TIMEZONE,
    VISITS_PER_CLIENT,
    WEBSITE,
    ServiceSpec,
    StaffSpec,
    ascii_fold,
    demo_routing,
    staff_hours,
    us_holidays,
)
from core.demo.threads import Threads, build_threads
from core.email import email_match_key
from core.ids import new_id
from core.phone import normalize_phone
from core.routing import DEFAULT_CLAIM_MINUTES, RoutingPolicy, clinic_hours, sla_due
from core.states import AppointmentStatus as A
from core.states import DepositStatus as D
from core.states import LeadStatus as L

log = logging.getLogger(__name__)
T = TypeVar("T")


HISTORY_DAYS = 365
#: Most new clients a year that arrive as leads (two locations of this size see ~300 a month).
MAX_NEW_LEADS = 3600


@dataclass(frozen=True)
class DemoSummary:
    clinic_id: str
    owner_staff_id: str
    seed: int
    locations: int
    rooms: int
    devices: int
    staff: int
    services: int
    patients: int
    leads: int
    appointments: int
    activities: int
    staff_pins: dict[str, str] = field(default_factory=dict)


# ================================================================================================
# The clinic: locations, rooms, devices, staff, services
# ================================================================================================


# ================================================================================================
# People: names, places, phones
# ================================================================================================


# ================================================================================================
# Leads: sources, ad campaigns, messages
# ================================================================================================


# ================================================================================================
# Plans: plain records made first, turned into rows when written
# ================================================================================================


@dataclass(slots=True)
class PatientPlan:
    index: int
    id: str
    row: Patient
    home: str
    interests: tuple[str, ...]
    weight: float
    acquired_at: datetime
    vip: bool
    from_lead: bool
    in_pools: bool = False
    last_visit: dict[str, date] = field(default_factory=dict)


@dataclass(slots=True)
class LeadPlan:
    id: str
    row: Lead
    patient: PatientPlan | None
    interest: str
    first_service: str
    wants_booking: bool
    ready_at: datetime | None  # earliest time the first appointment may be booked
    book_by: date | None
    home: str
    first_appt: AppointmentPlan | None = None


@dataclass(slots=True)
class AppointmentPlan:
    id: str
    patient: PatientPlan
    service: ServiceSpec
    provider: str
    location: str
    room_id: str
    device_id: str | None
    start: datetime
    end: datetime
    status: str
    quantity: int
    lead: LeadPlan | None
    booked_at: datetime
    booked_by: str | None


@dataclass
class _Resources:
    clinic_id: str
    location_ids: dict[str, str]
    rooms: dict[str, list[tuple[str, str]]]  # location -> [(room id, kind)]
    devices: dict[str, list[tuple[str, str]]]  # location -> [(device id, kind)]
    staff_ids: dict[str, str]
    service_ids: dict[str, str]
    rows: list[Any]
    campaigns: list[dict[str, Any]]


class _Generator:
    def __init__(self, *, patients: int, seed: int, now: datetime, region: str = "US") -> None:
        self.n = patients
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = now
        self.region = region
        self.tz = ZoneInfo(TIMEZONE)
        self.today = now.astimezone(self.tz).date()
        self.window_start = self.today - timedelta(days=HISTORY_DAYS)
        self.window_end = self.today + timedelta(days=FUTURE_DAYS)
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.handles: set[str] = set()
        self.patients: list[PatientPlan] = []
        self.leads: list[LeadPlan] = []
        self.appointments: list[AppointmentPlan] = []
        self.activities: list[Activity] = []
        for group in AREA_CODES.values():
            for area, _ in group:
                normalize_phone(f"({area}) 555-0100", region)  # raises if an area code is not valid

    # --- small helpers ------------------------------------------------------------------------

    def pick(self, weighted: Sequence[tuple[T, float]]) -> T:
        items = [w[0] for w in weighted]
        weights = [w[1] for w in weighted]
        return self.rng.choices(items, weights=weights, k=1)[0]

    def local(self, day: date, minutes: int) -> datetime:
        """A wall-clock time at the clinic (minutes after midnight) as UTC."""
        return datetime.combine(day, time(minutes // 60, minutes % 60), self.tz).astimezone(UTC)

    def digits(self, n: int, first: str = "123456789") -> str:
        return self.rng.choice(first) + "".join(self.rng.choice(string.digits) for _ in range(n - 1))

    def token(self, n: int) -> str:
        return "".join(self.rng.choice(ID_ALPHABET) for _ in range(n))

    def random_time_between(self, start: datetime, end: datetime) -> datetime:
        span = max(0.0, (end - start).total_seconds())
        return start + timedelta(seconds=int(self.rng.random() * span))

    # --- the clinic ---------------------------------------------------------------------------

    def build_clinic(self, *, slug: str) -> _Resources:
        clinic_id = new_id()
        campaigns = self.build_campaigns()
        staff_ids = {spec.key: new_id() for spec in STAFF}
        out: list[Any] = [Clinic(
            id=clinic_id, name=CLINIC_NAME, slug=slug, timezone=TIMEZONE, region="US", currency="USD",
            phone=normalize_phone("(415) 555-0100", "US"),
            settings={"website": WEBSITE, "deposit_policy": {
                "text": "A deposit holds your appointment. Cancel or reschedule at least 24 hours ahead "
                        "for a full release; late cancellations and no-shows forfeit the deposit.",
                "late_cancel_hours": 24, "version": 3},
                "lead_routing": demo_routing(staff_ids),
                "quiet_hours": {"start": "20:00", "end": "08:00"},
                "channels": {"sms": True, "instagram": True},
                "demo_ad_campaigns": campaigns},
        )]
        location_ids: dict[str, str] = {}
        for key, name, address, phone in LOCATIONS:
            location_ids[key] = new_id()
            out.append(Location(id=location_ids[key], clinic_id=clinic_id, name=name, address=address,
                                timezone=TIMEZONE, phone=normalize_phone(phone, "US")))
        rooms: dict[str, list[tuple[str, str]]] = {k: [] for k in location_ids}
        for loc, name, kind in ROOMS:
            room = Room(id=new_id(), clinic_id=clinic_id, location_id=location_ids[loc], name=name, kind=kind,
                        active=True)
            rooms[loc].append((room.id, kind))
            out.append(room)
        devices: dict[str, list[tuple[str, str]]] = {k: [] for k in location_ids}
        for loc, name, kind, model in DEVICES:
            device = Device(id=new_id(), clinic_id=clinic_id, location_id=location_ids[loc], name=name,
                            kind=kind, model=model, active=True)
            devices[loc].append((device.id, kind))
            out.append(device)
        for spec in STAFF:
            first = spec.name.replace("Dr. ", "").split()[0].lower()
            out.append(Staff(
                id=staff_ids[spec.key], clinic_id=clinic_id, display_name=spec.name, role=spec.role.value,
                title=spec.title, email=f"{first}@lumiere-aesthetics.example",
                phone=None, pin_hash=hash_pin(spec.pin), color=spec.color, active=True,
                working_hours=staff_hours(spec)))
        service_ids: dict[str, str] = {}
        for s in SERVICES:
            service_ids[s.key] = new_id()
            out.append(Service(
                id=service_ids[s.key], clinic_id=clinic_id, name=s.name, category=s.category,
                duration_min=s.duration, buffer_before_min=s.before, buffer_after_min=s.after,
                price_minor=s.price, price_unit=s.unit, currency="USD", deposit_minor=s.deposit,
                requires_room=True, device_kind=s.device, qualified_roles=list(s.roles),
                description=s.description, active=True))
        return _Resources(clinic_id, location_ids, rooms, devices, staff_ids, service_ids, out, campaigns)

    def build_campaigns(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for platform, name, interest, path, keywords in CAMPAIGNS:
            if platform == "meta":
                cid = "1202" + self.digits(14, string.digits)
                adsets = [{"id": "1202" + self.digits(14, string.digits),
                           "ads": ["1202" + self.digits(14, string.digits) for _ in range(self.rng.randint(2, 3))]}
                          for _ in range(2)]
                form = self.digits(15)
            else:
                cid = self.digits(11)
                adsets = [{"id": self.digits(12),
                           "ads": [self.digits(12) for _ in range(self.rng.randint(2, 3))]}
                          for _ in range(2)]
                form = self.digits(12)
            out.append({"platform": platform, "id": cid, "name": name, "interest": interest,
                        "landing_path": path, "keywords": list(keywords), "adsets": adsets, "form_id": form})
        return out

    # --- people -------------------------------------------------------------------------------

    def person_name(self) -> tuple[str, str, str | None, str, str | None]:
        """(first, last, preferred, sex, pronouns)."""
        groups = list(NAMES)
        group = self.rng.choices(groups, weights=[NAMES[g][0] for g in groups], k=1)[0]
        _, female, male, lasts = NAMES[group]
        r = self.rng.random()
        if r < 0.86:
            sex, first, pronouns = "female", self.rng.choice(female), None
        elif r < 0.985:
            sex, first, pronouns = "male", self.rng.choice(male), None
        else:
            sex, first, pronouns = "nonbinary", self.rng.choice(female + male), "they/them"
        last_group = group if self.rng.random() < 0.85 else self.rng.choices(
            groups, weights=[NAMES[g][0] for g in groups], k=1)[0]
        last = self.rng.choice(NAMES[last_group][3])
        preferred = None
        if first in NICKNAMES and self.rng.random() < 0.4:
            preferred = NICKNAMES[first]
        elif group in ASIAN_GROUPS and sex == "female" and self.rng.random() < 0.15:
            preferred = self.rng.choice(ENGLISH_NAMES)
        if sex == "female" and pronouns is None and self.rng.random() < 0.04:
            pronouns = "she/her"
        return first, last, preferred, sex, pronouns

    def phone(self, home: str) -> str:
        """A unique 555 number; every area code used was checked with ``phonenumbers`` once
        (the line digits do not change a NANP number's validity)."""
        for _ in range(1000):
            pool = AREA_CODES["away"] if self.rng.random() < 0.04 else AREA_CODES[home]
            area = self.pick(pool)
            e164 = f"+1{area}555{self.rng.randint(100, 9999):04d}"
            if e164 not in self.phones:
                self.phones.add(e164)
                return e164
        raise RuntimeError("ran out of demo phone numbers")  # pragma: no cover - 400k numbers exist

    def email(self, first: str, last: str, birth_year: int | None) -> str:
        f, lname = ascii_fold(first), ascii_fold(last)
        domain = self.pick(EMAIL_DOMAINS)
        patterns = [f"{f}.{lname}", f"{f}{lname}", f"{f}_{lname}", f"{f[:1]}{lname}", f"{f}.{lname[:1]}"]
        if birth_year:
            patterns.append(f"{f}{birth_year % 100:02d}")
        base = self.rng.choice(patterns) or "client"
        candidate = f"{base}@{domain}"
        while email_match_key(candidate) in self.emails:
            candidate = f"{base}{self.rng.randint(2, 999)}@{domain}"
        self.emails.add(email_match_key(candidate))
        return candidate

    def handle(self, first: str, last: str) -> str:
        f, lname = ascii_fold(first).replace("-", ""), ascii_fold(last).replace("-", "")
        patterns = [f"{f}.{lname}", f"{f}_{lname}", f"{f}{lname}", f"{f}.glow", f"{lname}.{f}",
                    f"its{f}", f"{f}_{lname[:1]}", f"{f}.{lname}.sf"]
        base = self.rng.choice(patterns)[:26].strip("._") or "client"
        candidate = base
        while candidate in self.handles:
            candidate = f"{base}{self.rng.randint(1, 999)}"
        self.handles.add(candidate)
        return candidate

    def address(self, home: str) -> tuple[dict[str, Any], str]:
        city_spec = self.pick([(p, p[0]) for p in PLACES[home]])
        _, city, zips = city_spec
        if self.rng.random() < 0.35:
            return {}, city
        line1 = f"{self.rng.randint(10, 3999)} {self.rng.choice(STREETS)}"
        address: dict[str, Any] = {"line1": line1, "city": city, "state": "CA",
                                   "postal_code": self.rng.choice(zips), "country": "US"}
        if self.rng.random() < 0.15:
            address["line2"] = f"Apt {self.rng.randint(1, 40)}{self.rng.choice('ABCD')}"
        return address, city

    def consents(self, at: datetime, source: str) -> dict[str, Any]:
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        odds = {"transactional_sms": 0.95, "marketing_sms": 0.6, "email": 0.8, "phone": 0.9,
                "photo_clinical": 0.88, "photo_portal": 0.6, "photo_marketing": 0.12}
        out: dict[str, Any] = {}
        for purpose, p in odds.items():
            granted = self.rng.random() < p
            src = "intake_form" if purpose.startswith("photo") else source
            out[purpose] = {"granted": granted, "at": stamp, "source": src}
        if out["marketing_sms"]["granted"] and self.rng.random() < 0.06:
            later = self.random_time_between(at, self.now)
            out["marketing_sms"] = {"granted": False, "at": later.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                    "source": "sms_stop"}
        return out

    def build_patients(self, res: _Resources, new_from_leads: int) -> None:
        """N clients: the first ones established before the window, the rest arriving as leads."""
        established = self.n - new_from_leads
        window_start = self.local(self.window_start, 9 * 60)
        for i in range(self.n):
            first, last, preferred, sex, pronouns = self.person_name()
            home = "sf" if self.rng.random() < 0.58 else "pa"
            age = min(78, max(19, int(self.rng.gauss(41, 10.5))))
            dob: date | None = self.today - timedelta(days=age * 365 + self.rng.randint(0, 364))
            if self.rng.random() < 0.03:
                dob = None
            from_lead = i >= established
            if from_lead:
                acquired = window_start  # set from the lead later
            else:
                acquired = window_start - timedelta(days=self.rng.randint(20, 6 * 365),
                                                    minutes=self.rng.randint(0, 600))
            address, _city = self.address(home)
            interests = tuple(sorted(set(self.rng.choices(CATEGORIES, weights=CATEGORY_WEIGHTS,
                                                          k=self.rng.choice((1, 1, 2, 2, 3)))),
                                     key=CATEGORIES.index))
            vip = self.rng.random() < 0.05
            lapsed = not from_lead and self.rng.random() < 0.3
            weight = 0.0 if lapsed else self.rng.lognormvariate(0, 0.6) * (2.5 if vip else 1.0)
            tags = sorted({self.pick(TAGS) for _ in range(self.rng.choice((0, 0, 0, 1, 1, 2, 3)))})
            if vip:
                tags.append("VIP")
            patient = Patient(
                id=new_id(), clinic_id=res.clinic_id, first_name=first, last_name=last,
                preferred_name=preferred, date_of_birth=dob, sex=sex, pronouns=pronouns,
                phone=self.phone(home) if self.rng.random() < 0.97 else None,
                address=address, timezone=None,
                allergies=", ".join(self.rng.sample(ALLERGIES, self.rng.choice((1, 1, 2))))
                if self.rng.random() < 0.12 else None,
                medical_alerts=self.rng.choice(MEDICAL_ALERTS) if self.rng.random() < 0.08 else None,
                tags=sorted(tags), vip=vip,
                notes=self.rng.choice(PATIENT_NOTES) if self.rng.random() < 0.05 else None,
            )
            if self.rng.random() < 0.93:
                patient.email = self.email(first, last, dob.year if dob else None)
                patient.email_key = email_match_key(patient.email)
            if self.rng.random() < 0.33:
                patient.instagram_handle = self.handle(first, last)
            if not from_lead:
                source = self.pick((("referral", 30), ("walk_in", 10), ("google_ads", 15), ("web_form", 15),
                                    ("phone", 15), ("meta_lead_ad", 8), ("instagram_dm", 7)))
                patient.first_touch = {"source": source, "at": _iso(acquired), "lead_id": None,
                                       "note": "client before Glowdesk; source from the old system"}
                patient.consents = self.consents(acquired, "intake_form")
                patient.external_ref = f"LUM-{10000 + i}"
            plan = PatientPlan(i, patient.id, patient, home, interests, weight, acquired, vip, from_lead)
            if weight > 0:  # a returning client's last visits before the window
                for cat in interests:
                    plan.last_visit[cat] = self.window_start - timedelta(
                        days=self.rng.randint(1, int(MIN_GAP[cat] * 1.6)))
            self.patients.append(plan)

    # --- leads --------------------------------------------------------------------------------

    def lead_time(self, index: int, total: int) -> datetime:
        """When a lead arrives: spread over the year, daytime and evening, a few very recent."""
        if index >= total - 2:  # something new on the lead board; the newest just arrived (its timer runs)
            moment = self.random_time_between(self.now - timedelta(hours=2), self.now - timedelta(minutes=5))
            return self.now - timedelta(seconds=100) if index == total - 1 else moment
        if index >= total - max(3, total // 100):
            start = self.now - timedelta(hours=36)
            return self.random_time_between(start, self.now - timedelta(minutes=5))
        day = self.window_start + timedelta(days=self.rng.randint(0, HISTORY_DAYS - 1))
        minute = int(min(23 * 60 + 30, max(6 * 60, self.rng.gauss(15 * 60, 3.6 * 60))))
        moment = self.local(day, minute) + timedelta(seconds=self.rng.randint(0, 59))
        return min(moment, self.now - timedelta(minutes=5))

    def during_opening_hours(self, moment: datetime) -> datetime:
        """Calls and walk-ins happen while the front desk is open."""
        local = moment.astimezone(self.tz)
        if 9 <= local.hour < 19:
            return moment
        moved = self.local(local.date(), self.rng.randint(10 * 60, 18 * 60))
        return moved if moved <= self.now - timedelta(minutes=5) else moment

    def first_reply(self, received: datetime, source: str) -> datetime:
        """Speed to lead: minutes in opening hours, next morning after 7 PM."""
        if source in ("phone", "walk_in"):
            return received
        local = received.astimezone(self.tz)
        if 9 <= local.hour < 19 and local.weekday() != 6:
            delay = timedelta(minutes=min(24 * 60, self.rng.lognormvariate(math.log(12), 1.1)))
            return received + delay
        day = local.date() + timedelta(days=0 if local.hour < 9 else 1)
        while day.weekday() == 6:
            day += timedelta(days=1)
        return self.local(day, 9 * 60) + timedelta(minutes=self.rng.lognormvariate(math.log(35), 0.8))

    def build_leads(self, res: _Resources) -> None:
        new_patients = [p for p in self.patients if p.from_lead]
        repeat = [p for p in self.patients if not p.from_lead and p.weight > 0]
        n_repeat = min(len(repeat), round(len(new_patients) * 0.08))
        repeaters = self.rng.sample(repeat, n_repeat) if n_repeat else []
        n_spam = max(2, round(len(new_patients) * 0.03))
        owners: list[PatientPlan | None] = [*new_patients, *repeaters, *([None] * n_spam)]
        self.rng.shuffle(owners)
        times = sorted(self.lead_time(i, len(owners)) for i in range(len(owners)))
        sources = [s for s, _ in LEAD_SOURCES]
        for i, (owner, received) in enumerate(zip(owners, times, strict=True)):
            if owner is None:
                source = self.rng.choice(["meta_lead_ad", "instagram_dm", "web_form", "google_ads"])
            elif i < 2 * len(sources):  # every source shows up, however small the demo
                source = sources[i % len(sources)]
            else:
                source = self.pick(LEAD_SOURCES)
            self.leads.append(self.make_lead(res, owner, source, received))

    def make_lead(self, res: _Resources, owner: PatientPlan | None, source: str, received: datetime) -> LeadPlan:
        rng = self.rng
        home = owner.home if owner else ("sf" if rng.random() < 0.58 else "pa")
        campaign: dict[str, Any] | None = None
        if source in ("meta_lead_ad", "google_ads") or (source == "instagram_dm" and rng.random() < 0.35):
            platform = "google" if source == "google_ads" else "meta"
            pool = [c for c in res.campaigns if c["platform"] == platform
                    and (c["landing_path"] != "" or source == "instagram_dm")]
            if source == "instagram_dm":
                pool = [c for c in res.campaigns if c["name"].startswith("Instagram DM")]
            campaign = rng.choice(pool)
        interest = campaign["interest"] if campaign else (
            owner.interests[0] if owner and rng.random() < 0.8 else rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0])
        if source in ("phone", "walk_in"):
            received = self.during_opening_hours(received)
        if owner is not None and owner.from_lead:
            owner.acquired_at = received
        lead = Lead(id=new_id(), clinic_id=res.clinic_id, patient_id=owner.id if owner else None, source=source,
                    status=L.NEW.value, received_at=received)
        examples = [s for s in SERVICES if s.category == interest and s.price > 0]
        lead.service_interest = self.pick([(s.name, s.weight) for s in examples]) if examples else None
        lead.message = rng.choice(MESSAGES[interest]) if source not in ("walk_in", "manual") else None
        if campaign is not None:
            adset = rng.choice(campaign["adsets"])
            ad = rng.choice(adset["ads"])
            lead.campaign_id, lead.adset_id, lead.ad_id = campaign["id"], adset["id"], ad
            lead.utm_campaign, lead.utm_content = campaign["id"], ad
            if campaign["platform"] == "meta":
                lead.utm_source = "instagram" if source == "instagram_dm" else rng.choice(("facebook", "instagram"))
                lead.utm_medium = "paid_social"
                if source == "meta_lead_ad":
                    lead.fbclid = "IwAR" + self.token(58)
                    lead.form_id = campaign["form_id"]
                    lead.external_id = self.digits(16)
                    lead.referrer = ("https://l.instagram.com/" if lead.utm_source == "instagram"
                                     else "https://l.facebook.com/")
            else:
                lead.utm_source, lead.utm_medium = "google", "cpc"
                lead.utm_term = rng.choice(campaign["keywords"])
                r = rng.random()
                if r < 0.74:
                    lead.gclid = "Cj0KCQjw" + self.token(80)
                elif r < 0.88:
                    lead.gbraid = "0AAAAA" + self.token(28)
                else:
                    lead.wbraid = "Cl" + self.token(40)
                lead.referrer = "https://www.google.com/"
                if rng.random() < 0.2:  # a Google lead form rather than the landing page's form
                    lead.form_id, lead.external_id = campaign["form_id"], "gads-" + self.token(24)
            if campaign["landing_path"]:
                query = [("utm_source", lead.utm_source), ("utm_medium", lead.utm_medium),
                         ("utm_campaign", lead.utm_campaign), ("utm_content", lead.utm_content)]
                if lead.utm_term:
                    query.append(("utm_term", lead.utm_term.replace(" ", "+")))
                for key in ("fbclid", "gclid", "gbraid", "wbraid"):
                    if getattr(lead, key):
                        query.append((key, getattr(lead, key)))
                lead.landing_page = WEBSITE + campaign["landing_path"] + "?" + "&".join(
                    f"{k}={v}" for k, v in query)
        if source == "instagram_dm":
            lead.external_id = "ig-thread-" + self.digits(17)
            if owner is not None and owner.row.instagram_handle is None:
                owner.row.instagram_handle = self.handle(owner.row.first_name, owner.row.last_name)
            if owner is not None:
                owner.row.instagram_id = self.digits(17)
        elif source == "web_form":
            path = rng.choice(("/contact", "/book-a-consult", "/services/botox", "/services/laser-hair-removal",
                               "/services/hydrafacial", "/specials"))
            r = rng.random()
            if r < 0.25:
                lead.utm_source, lead.utm_medium = "newsletter", "email"
                lead.utm_campaign = f"monthly-glow-{received.astimezone(self.tz):%Y-%m}"
                lead.landing_page = (f"{WEBSITE}{path}?utm_source=newsletter&utm_medium=email"
                                     f"&utm_campaign={lead.utm_campaign}")
            elif r < 0.4:
                lead.utm_source, lead.utm_medium = "yelp", "referral"
                lead.referrer = "https://www.yelp.com/biz/lumiere-aesthetics-san-francisco"
                lead.landing_page = f"{WEBSITE}{path}?utm_source=yelp&utm_medium=referral"
            else:
                lead.landing_page = WEBSITE + path
                lead.referrer = rng.choice(("https://www.google.com/", "https://www.google.com/",
                                            "https://www.bing.com/", "https://www.instagram.com/", None))
        elif source == "referral":
            code = "FRIEND-" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(5))
            lead.landing_page = f"{WEBSITE}/refer?code={code}"
            lead.message = "Referred by a friend who is a client"
        elif source == "manual":
            lead.message = rng.choice(MANUAL_NOTES)
        elif source == "phone":
            lead.message = "Called the front desk: " + (lead.message or "asked about services").lower()
        lead.owner_id = res.staff_ids[rng.choice(DESK_BY_LOCATION[home])]
        spam = owner is None
        wants = not spam and rng.random() < BOOK_RATE[source]
        first_service = self.first_service(interest, owner)
        reply = None if spam else self.first_reply(received, source)
        ready_at = None
        book_by = None
        if wants and reply is not None:
            ready_at = reply + timedelta(minutes=rng.randint(2, 40))
            delay = 0 if source == "walk_in" and rng.random() < 0.3 else int(rng.lognormvariate(math.log(6), 0.8))
            book_by = ready_at.astimezone(self.tz).date() + timedelta(days=min(delay, 40))
        if spam:
            lead.status = L.SPAM.value
        plan = LeadPlan(lead.id, lead, owner, interest, first_service, wants and ready_at is not None
                        and ready_at <= self.now, ready_at, book_by, home)
        lead.first_reply_at = reply
        return plan

    def first_service(self, interest: str, owner: PatientPlan | None) -> str:
        rng = self.rng
        consult_first = {"neuromodulators": 0.2, "fillers": 0.55, "lasers": 0.5, "body": 0.6, "skin": 0.15,
                         "wellness": 0.7}[interest]
        if rng.random() < consult_first and (owner is None or owner.from_lead):
            return FIRST_CONSULT[interest]
        options = [s for s in SERVICES if s.category == interest]
        return str(self.pick([(s.key, s.weight) for s in options]))

    # --- the calendar -------------------------------------------------------------------------

    def schedule(self, res: _Resources) -> None:
        """Fill each provider's days slot by slot, never overlapping a provider, room or device."""
        pools: dict[tuple[str, str], tuple[list[PatientPlan], list[float]]] = {
            (loc, cat): ([], []) for loc in res.location_ids for cat in CATEGORIES}

        def join_pools(p: PatientPlan) -> None:
            if p.in_pools or p.weight <= 0:
                return
            p.in_pools = True
            for cat in p.interests:
                members, cum = pools[(p.home, cat)]
                members.append(p)
                cum.append((cum[-1] if cum else 0.0) + p.weight)

        for p in self.patients:
            if not p.from_lead:
                join_pools(p)
        pending: dict[str, list[LeadPlan]] = {loc: [] for loc in res.location_ids}
        for lead in sorted((x for x in self.leads if x.wants_booking), key=lambda x: x.ready_at or self.now):
            pending[lead.home].append(lead)

        providers = [s for s in STAFF if s.shifts]
        fill = self.fill_rate(providers)
        holidays = us_holidays(self.window_start.year, self.window_end.year)
        day = self.window_start
        while day < self.window_end:
            if day not in holidays:
                self.schedule_day(res, day, providers, fill, pools, pending, join_pools)
            day += timedelta(days=1)

    def fill_rate(self, providers: list[StaffSpec]) -> float:
        """Share of open slots filled, so the year holds about VISITS_PER_CLIENT visits per client."""
        minutes = sum((end - start) * 60 - 45 for s in providers for (_, start, end) in s.shifts.values())
        slots_per_year = minutes / 55 * 51  # an average visit holds ~55 minutes with its buffers
        return max(0.08, min(0.85, self.n * VISITS_PER_CLIENT / slots_per_year))

    def schedule_day(
        self,
        res: _Resources,
        day: date,
        providers: list[StaffSpec],
        fill: float,
        pools: dict[tuple[str, str], tuple[list[PatientPlan], list[float]]],
        pending: dict[str, list[LeadPlan]],
        join_pools: Callable[[PatientPlan], None],
    ) -> None:
        rng = self.rng
        weekday = day.weekday()
        ahead = (day - self.today).days
        if ahead > 0:  # the future fills up less the further out it is
            fill *= max(0.12, 1.0 - ahead / (FUTURE_DAYS + 6))
        for queue in pending.values():  # a lead that found no slot in time stays unbooked
            queue[:] = [lead for lead in queue if lead.book_by is None or lead.book_by >= day]
        busy: dict[str, list[tuple[datetime, datetime]]] = {}
        seen_today: set[int] = set()
        cursors: list[list[Any]] = []  # [minute, order, spec, location, end minute]
        for order, spec in enumerate(providers):
            if weekday in spec.shifts:
                loc, start_h, end_h = spec.shifts[weekday]
                cursors.append([start_h * 60, order, spec, loc, end_h * 60])
        while cursors:
            cursors.sort(key=lambda c: (c[0], c[1]))
            cur = cursors[0]
            minute, _, spec, loc, shift_end = cur
            if LUNCH[0] <= minute < LUNCH[1]:
                cur[0] = LUNCH[1]
                continue
            if minute >= shift_end - 15:
                cursors.pop(0)
                continue
            if rng.random() > fill:
                cur[0] = minute + rng.choice((15, 15, 30))
                continue
            lead = self.next_pending(pending[loc], res, loc, day, minute, shift_end, spec)
            if lead is not None:
                service = SERVICE_BY_KEY[lead.first_service]
                patient = lead.patient
            else:
                options = self.services_for(spec, res, loc, minute, shift_end)
                if not options:
                    cur[0] = minute + 15
                    continue
                service = self.pick([(o, o.weight) for o in options])
                patient = None
            start_min = _ceil_to(minute + service.before, 15)
            start = self.local(day, start_min)
            end = start + timedelta(minutes=service.duration)
            h_from = start - timedelta(minutes=service.before)
            h_until = end + timedelta(minutes=service.after)
            room = self.free_resource(res.rooms[loc], service.rooms, h_from, h_until, busy)
            device = (self.free_resource(res.devices[loc], (service.device,), h_from, h_until, busy)
                      if service.device else None)
            if room is None or (service.device and device is None):
                cur[0] = minute + 15
                continue
            if patient is None:
                patient = self.pick_patient(pools, loc, service, day, seen_today)
                if patient is None:
                    cur[0] = minute + 15
                    continue
            elif patient.index in seen_today:
                cur[0] = minute + 15
                continue
            if lead is not None:
                pending[loc].remove(lead)
            busy.setdefault(room, []).append((h_from, h_until))
            if device is not None:
                busy.setdefault(device, []).append((h_from, h_until))
            seen_today.add(patient.index)
            patient.last_visit[service.category] = day
            appt = self.make_appointment(res, patient, service, spec, loc, room, device, start, end, lead)
            if lead is not None:
                lead.first_appt = appt
            if appt.status == A.COMPLETED.value:
                join_pools(patient)
            cur[0] = start_min + service.duration + service.after

    @staticmethod
    def fits(service: ServiceSpec, minute: int, shift_end: int) -> bool:
        """Whether the service, buffers included, fits between ``minute`` and the shift's end
        without running into lunch."""
        start = _ceil_to(minute + service.before, 15)
        held_from, held_until = start - service.before, start + service.duration + service.after
        return held_until <= shift_end and not (held_from < LUNCH[1] and held_until > LUNCH[0])

    @staticmethod
    def offered_at(service: ServiceSpec, res: _Resources, loc: str) -> bool:
        rooms = any(kind in service.rooms for _, kind in res.rooms[loc])
        return rooms and (service.device is None or any(k == service.device for _, k in res.devices[loc]))

    def next_pending(self, queue: list[LeadPlan], res: _Resources, loc: str, day: date, minute: int,
                     shift_end: int, spec: StaffSpec) -> LeadPlan | None:
        """The earliest waiting new client this provider can see now, if any."""
        slot = self.local(day, minute)
        for lead in queue[:12]:
            if lead.ready_at is None or lead.ready_at > slot:
                break
            service = SERVICE_BY_KEY[lead.first_service]
            if (lead.first_service in spec.skills and lead.patient is not None
                    and self.offered_at(service, res, loc) and self.fits(service, minute, shift_end)):
                return lead
        return None

    def services_for(self, spec: StaffSpec, res: _Resources, loc: str, minute: int,
                     shift_end: int) -> list[ServiceSpec]:
        """Treatments (not consults) this provider can start at ``minute`` at this location."""
        return [s for s in (SERVICE_BY_KEY[k] for k in spec.skills)
                if s.category != "consultations" and self.offered_at(s, res, loc)
                and self.fits(s, minute, shift_end)]

    def free_resource(self, resources: list[tuple[str, str]], kinds: tuple[str | None, ...], start: datetime,
                      end: datetime, busy: dict[str, list[tuple[datetime, datetime]]]) -> str | None:
        for rid, kind in resources:
            if kind in kinds and all(not (s < end and start < e) for s, e in busy.get(rid, ())):
                return rid
        return None

    def pick_patient(self, pools: dict[tuple[str, str], tuple[list[PatientPlan], list[float]]], loc: str,
                     service: ServiceSpec, day: date, seen_today: set[int]) -> PatientPlan | None:
        rng = self.rng
        category = service.category
        if rng.random() < 0.08:
            loc = "pa" if loc == "sf" else "sf"
        members, cum = pools[(loc, category)]
        if not members:
            return None
        gap = MIN_GAP[category]
        for _ in range(6):
            i = bisect.bisect_left(cum, rng.random() * cum[-1])
            p = members[min(i, len(members) - 1)]
            last = p.last_visit.get(category)
            if p.index in seen_today or (last is not None and (day - last).days < gap):
                continue
            return p
        return None

    def make_appointment(self, res: _Resources, patient: PatientPlan, service: ServiceSpec, spec: StaffSpec,
                         loc: str, room: str, device: str | None, start: datetime, end: datetime,
                         lead: LeadPlan | None) -> AppointmentPlan:
        rng = self.rng
        quantity = rng.choice(service.quantities)
        if end <= self.now:
            r = rng.random()
            no_show = 0.11 if lead is not None and lead.row.source == "meta_lead_ad" else 0.07
            if r < no_show:
                status = A.NO_SHOW.value
            elif r < no_show + 0.08:
                status = A.CANCELLED.value
            elif r < no_show + 0.13:
                status = A.LATE_CANCELLED.value
            else:
                status = A.COMPLETED.value
        elif start <= self.now:
            status = A.CHECKED_IN.value
        else:
            soon = start - self.now < timedelta(days=3)
            status = A.CONFIRMED.value if rng.random() < (0.75 if soon else 0.2) else A.BOOKED.value
        if lead is not None and lead.ready_at is not None:
            booked_at = lead.ready_at
        else:
            lead_days = min(60.0, rng.lognormvariate(math.log(9), 0.9))
            booked_at = start - timedelta(days=lead_days)
            booked_at = max(booked_at, patient.acquired_at + timedelta(hours=1))
            booked_at = min(booked_at, start - timedelta(minutes=30), self.now - timedelta(minutes=rng.randint(5, 600)))
        booked_by = None if rng.random() < 0.3 else res.staff_ids[rng.choice(DESK_BY_LOCATION[loc])]
        if booked_by is not None and lead is None and not 9 <= booked_at.astimezone(self.tz).hour < 19:
            # the desk books while it is open; outside those hours it was the online booking page
            during = self.local(booked_at.astimezone(self.tz).date(), rng.randint(9 * 60, 18 * 60 + 45))
            if patient.acquired_at < during <= min(self.now, start - timedelta(minutes=30)):
                booked_at = during
            else:
                booked_by = None
        appt = AppointmentPlan(new_id(), patient, service, spec.key, loc, room, device, start, end, status,
                               quantity, lead, booked_at, booked_by)
        self.appointments.append(appt)
        return appt

    # --- outcomes ------------------------------------------------------------------------------

    def deposit_status(self, appt: AppointmentPlan) -> str:
        if appt.service.deposit == 0:
            return D.NOT_REQUIRED.value
        rng = self.rng
        if appt.patient.vip and rng.random() < 0.5:
            return D.WAIVED.value
        status = appt.status
        if status == A.COMPLETED.value:
            return self.pick(((D.APPLIED.value, 78), (D.RELEASED.value, 14), (D.WAIVED.value, 8)))
        if status == A.NO_SHOW.value:
            return self.pick(((D.FORFEITED.value, 85), (D.WAIVED.value, 15)))
        if status == A.LATE_CANCELLED.value:
            return self.pick(((D.FORFEITED.value, 70), (D.WAIVED.value, 30)))
        if status == A.CANCELLED.value:
            return self.pick(((D.RELEASED.value, 60), (D.REFUNDED.value, 30), (D.WAIVED.value, 10)))
        if status == A.CHECKED_IN.value:
            return self.pick(((D.AUTHORISED.value, 60), (D.CAPTURED.value, 40)))
        if appt.start - self.now <= timedelta(days=7):  # a card hold lasts about 7 days
            return self.pick(((D.AUTHORISED.value, 65), (D.CAPTURED.value, 15), (D.LINK_SENT.value, 12),
                              (D.REQUIRED.value, 8)))
        return self.pick(((D.CAPTURED.value, 40), (D.LINK_SENT.value, 35), (D.REQUIRED.value, 15),
                          (D.WAIVED.value, 10)))

    def finish_leads(self, res: _Resources) -> None:
        """Each lead's status, claim and first touch, from what happened to it."""
        rng = self.rng
        completed_after: dict[int, list[datetime]] = {}
        future: dict[int, bool] = {}
        for appt in self.appointments:
            if appt.status == A.COMPLETED.value:
                completed_after.setdefault(appt.patient.index, []).append(appt.start)
            elif appt.start > self.now and appt.status in (A.BOOKED.value, A.CONFIRMED.value):
                future[appt.patient.index] = True
        for lead in self.leads:
            row = lead.row
            if row.status == L.SPAM.value:
                continue
            owner = lead.patient
            assert owner is not None
            age = self.now - row.received_at
            if lead.first_appt is not None:
                appt = lead.first_appt
                done = any(t >= appt.start for t in completed_after.get(owner.index, ()))
                if done:
                    status = L.CONVERTED
                elif appt.start > self.now or appt.status == A.CHECKED_IN.value or future.get(owner.index):
                    status = L.BOOKED
                else:
                    status = L.LOST if rng.random() < 0.6 else L.QUALIFIED
            elif row.first_reply_at is None or row.first_reply_at > self.now or age < timedelta(hours=2):
                status = L.NEW
            elif age < timedelta(days=3):
                status = L.CONTACTED if rng.random() < 0.7 else L.NEW
            elif age < timedelta(days=21):
                status = self.pick(((L.CONTACTED, 45), (L.QUALIFIED, 35), (L.LOST, 20)))
            else:
                status = self.pick(((L.LOST, 80), (L.QUALIFIED, 10), (L.CONTACTED, 10)))
            row.status = status.value
            if status == L.NEW:
                row.first_reply_at = None
            elif row.first_reply_at is not None and row.source not in ("phone", "walk_in"):
                row.claimed_by = row.owner_id  # claimed, then kept by the reply (no expiry any more)
                row.claimed_at = row.first_reply_at - timedelta(minutes=rng.randint(1, 4))
                row.claim_expires_at = None
            self.reply_deadline(row, res)
            if owner.from_lead and not owner.row.first_touch:
                owner.acquired_at = row.received_at
                touch: dict[str, Any] = {"source": row.source, "at": _iso(row.received_at), "lead_id": row.id}
                for key in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "fbclid",
                            "gclid", "gbraid", "wbraid", "landing_page", "referrer", "campaign_id", "adset_id",
                            "ad_id"):
                    if getattr(row, key):
                        touch[key] = getattr(row, key)
                owner.row.first_touch = touch
                owner.row.consents = self.consents(
                    row.received_at, {"phone": "verbal", "walk_in": "intake_form", "instagram_dm": "instagram_dm",
                                      "manual": "verbal"}.get(row.source, "web_form"))
        for p in self.patients:  # a client created from a lead that arrived after others' data
            if not p.row.first_touch:
                p.row.first_touch = {"source": "manual", "at": _iso(p.acquired_at), "lead_id": None}
                p.row.consents = self.consents(p.acquired_at, "intake_form")

    def reply_deadline(self, row: Lead, res: _Resources) -> None:
        """The server-owned routing facts the clinic server would have recorded: the first reply's
        deadline, an escalation when it was missed, and a running claim on the newest lead."""
        row.sla_due_at = sla_due(row.received_at, row.source, RoutingPolicy(), tz=self.tz, clinic=clinic_hours({}))
        due = row.sla_due_at
        if due is not None and due < min(row.first_reply_at or self.now, self.now):
            row.escalated_at = min(due + timedelta(minutes=1), self.now)
            row.escalated_to = res.staff_ids["manager"]
        if self.now - row.received_at < timedelta(minutes=3) and row.status == L.NEW.value and row.owner_id:
            row.claimed_by, row.claimed_at = row.owner_id, self.now - timedelta(seconds=40)
            row.claim_expires_at = row.claimed_at + timedelta(minutes=DEFAULT_CLAIM_MINUTES)

    # --- rows ----------------------------------------------------------------------------------

    def appointment_rows(self, res: _Resources) -> Iterator[Appointment]:
        for a in self.appointments:
            s = a.service
            unit = {"unit": "units", "syringe": "syringe", "vial": "vial"}.get(s.unit)
            notes = None
            if unit is not None:
                label = unit if a.quantity == 1 or unit == "units" else unit + "s"
                notes = f"Planned: {a.quantity} {label}"
            yield Appointment(
                id=a.id, clinic_id=res.clinic_id, patient_id=a.patient.id, service_id=res.service_ids[s.key],
                provider_id=res.staff_ids[a.provider], location_id=res.location_ids[a.location],
                room_id=a.room_id, device_id=a.device_id, start_at=a.start, end_at=a.end, status=a.status,
                deposit_status=self.deposit_status(a), deposit_minor=s.deposit, price_minor=s.price * a.quantity,
                currency="USD", source_lead_id=a.lead.id if a.lead else None, booked_by=a.booked_by,
                notes=notes, tentative=False)

    def build_activities(self, res: _Resources) -> None:
        rng = self.rng
        cid = res.clinic_id
        out = self.activities
        for lead in self.leads:
            row = lead.row
            pid = lead.patient.id if lead.patient else None
            out.append(Activity(id=new_id(), clinic_id=cid, patient_id=pid, lead_id=row.id,
                                type=activity_repo.LEAD_RECEIVED, actor_id=None, occurred_at=row.received_at,
                                payload={"source": row.source, "service_interest": row.service_interest}))
            if row.first_reply_at is not None:
                channel = {"phone": "call", "walk_in": "in_person", "instagram_dm": "instagram_dm"}.get(
                    row.source, "sms")
                out.append(Activity(id=new_id(), clinic_id=cid, patient_id=pid, lead_id=row.id,
                                    type=activity_repo.LEAD_CONTACTED, actor_id=row.owner_id,
                                    occurred_at=row.first_reply_at, payload={"channel": channel}))
        outcome_type = {A.COMPLETED.value: activity_repo.APPOINTMENT_COMPLETED,
                        A.NO_SHOW.value: activity_repo.APPOINTMENT_NO_SHOW,
                        A.CANCELLED.value: activity_repo.APPOINTMENT_CANCELLED,
                        A.LATE_CANCELLED.value: activity_repo.APPOINTMENT_LATE_CANCELLED}
        for a in self.appointments:
            pid = a.patient.id
            provider = res.staff_ids[a.provider]
            base = {"appointment_id": a.id, "service": a.service.name, "start_at": _iso(a.start)}
            out.append(Activity(id=new_id(), clinic_id=cid, patient_id=pid, lead_id=a.lead.id if a.lead else None,
                                type=activity_repo.APPOINTMENT_BOOKED, actor_id=a.booked_by, occurred_at=a.booked_at,
                                payload={**base, "provider_id": provider,
                                         "channel": "online" if a.booked_by is None else "desk"}))
            if a.status == A.CONFIRMED.value:
                at = max(a.booked_at, min(self.now, a.start - timedelta(days=2)))
                out.append(Activity(id=new_id(), clinic_id=cid, patient_id=pid, type=activity_repo.APPOINTMENT_CONFIRMED,
                                    actor_id=None, occurred_at=at, payload={**base, "channel": "sms"}))
            kind = outcome_type.get(a.status)
            if kind is None:
                continue
            if a.status == A.CANCELLED.value:
                at = self.random_time_between(a.booked_at, a.start - timedelta(hours=24))
                at = max(at, a.booked_at)
            elif a.status == A.LATE_CANCELLED.value:
                at = max(a.booked_at, a.start - timedelta(hours=rng.randint(1, 23)))
            elif a.status == A.NO_SHOW.value:
                at = a.start + timedelta(minutes=15)
            else:
                at = a.end
            out.append(Activity(id=new_id(), clinic_id=cid, patient_id=pid, type=kind,
                                actor_id=provider if kind == activity_repo.APPOINTMENT_COMPLETED else None,
                                occurred_at=at, payload=base))
            if kind == activity_repo.APPOINTMENT_COMPLETED and rng.random() < 0.12:
                out.append(Activity(id=new_id(), clinic_id=cid, patient_id=pid, type=activity_repo.NOTE,
                                    actor_id=provider, occurred_at=min(self.now, a.end + timedelta(minutes=5)),
                                    payload={"text": rng.choice(NOTES)}))


# ================================================================================================
# The entry point
# ================================================================================================


def generate_demo(
    store: Store,
    *,
    patients: int = 2000,
    seed: int = 42,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Create the demo clinic in ``store`` in one transaction and mark the store as a demo home.

    Deterministic for a given ``seed`` and ``now`` (default: the store's clock). ``progress``
    is called with (rows written, rows to write) as the rows go in.
    """
    if patients < 0:
        raise ValueError("patients must be zero or more")
    now = (now or store.clock.now())
    if now.tzinfo is None:
        raise ValueError("now must be a tz-aware datetime")
    now = now.astimezone(UTC)
    gen = _Generator(patients=patients, seed=seed, now=now)
    # Tens of thousands of long-lived objects make each full garbage collection slower and slower
    # (a third of the run time at 20,000 clients). Pause the cyclic collector for these seconds;
    # whatever cycles are made are collected after it resumes.
    collecting = gc.isenabled()
    gc.disable()
    try:
        res = _generate(store, gen, progress)
    finally:
        if collecting:
            gc.enable()
    log.info("demo clinic generated: %d clients, %d leads, %d appointments, %d activities",
             patients, len(gen.leads), len(gen.appointments), len(gen.activities))
    return DemoSummary(
        clinic_id=res.clinic_id, owner_staff_id=res.staff_ids["owner"], seed=seed,
        locations=len(LOCATIONS), rooms=len(ROOMS), devices=len(DEVICES), staff=len(STAFF),
        services=len(SERVICES), patients=patients, leads=len(gen.leads), appointments=len(gen.appointments),
        activities=len(gen.activities), staff_pins={s.name: s.pin for s in STAFF},
    )


def _generate(store: Store, gen: _Generator, progress: Callable[[int, int], None] | None) -> _Resources:
    actor = Actor(staff_id=None, device_id=store.device_id, role=None, name="Glowdesk demo")
    with unit_of_work(store, actor) as ctx:
        slug = CLINIC_SLUG
        n = 1
        while clinic_repo.slug_taken(ctx, slug):
            n += 1
            slug = f"{CLINIC_SLUG}-{n}"
        res = gen.build_clinic(slug=slug)
        new_from_leads = min(round(gen.n * 0.38), MAX_NEW_LEADS)
        gen.build_patients(res, new_from_leads)
        gen.build_leads(res)
        gen.schedule(res)
        gen.finish_leads(res)
        gen.build_activities(res)
        threads = _threads(gen, res)
        total = (len(res.rows) + gen.n + len(gen.leads) + len(gen.appointments) + len(gen.activities)
                 + len(threads.templates) + len(threads.messages) + len(threads.reads))
        writer = _Writer(ctx, total, progress)
        writer.write_setup(res.rows)
        writer.write_patients(gen)
        lead_repo.create_many(ctx, writer.counted(p.row for p in gen.leads))
        appointment_repo.create_many(ctx, writer.counted(gen.appointment_rows(res)))
        activity_repo.append_many(ctx, writer.counted(gen.activities))
        writer.write_threads(threads)
        settings.put(ctx, settings.CLINIC_ID, res.clinic_id)
        settings.put(ctx, settings.IS_DEMO, True)
        settings.put(ctx, settings.DEMO_STAFF_ID, res.staff_ids["owner"])
        writer.done()
    return res


class _Writer:
    """Counts rows as they are written and reports progress every few thousand."""

    EVERY = 2000

    def __init__(self, ctx: Ctx, total: int, progress: Callable[[int, int], None] | None) -> None:
        self.ctx = ctx
        self.total = total
        self.progress = progress
        self.written = 0

    def counted(self, items: Any) -> Iterator[Any]:
        for item in items:
            yield item
            self.written += 1
            if self.progress is not None and self.written % self.EVERY == 0:
                self.progress(self.written, self.total)

    def write_setup(self, rows_: list[Any]) -> None:
        create: dict[type, Callable[[Ctx, Any], Any]] = {
            Clinic: clinic_repo.create_clinic, Location: clinic_repo.create_location,
            Room: clinic_repo.create_room, Device: clinic_repo.create_device,
            Staff: clinic_repo.create_staff, Service: clinic_repo.create_service,
        }
        for row in self.counted(rows_):
            create[type(row)](self.ctx, row)
        self.ctx.session.flush()

    def write_patients(self, gen: _Generator) -> None:
        patient_repo.create_many(self.ctx, self.counted(p.row for p in gen.patients), reason="demo")
        self.ctx.session.flush()
        self.ctx.session.expunge_all()

    def write_threads(self, threads: Threads) -> None:
        """The templates as the owner's settings (outbox entries, like the service menu); the
        messages and read receipts as the clinic server would have delivered them (no outbox)."""
        message_repo.create_templates(self.ctx, (MessageTemplate(**t) for t in self.counted(threads.templates)))
        message_repo.add_received(self.ctx, (_stored(m, _MESSAGE_TIMES) for m in self.counted(threads.messages)))
        message_repo.add_reads(self.ctx, (_stored(r, _READ_TIMES) for r in self.counted(threads.reads)))

    def done(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)


# ================================================================================================
# helpers
# ================================================================================================


_MESSAGE_TIMES = ("occurred_at", "send_after", "sent_at", "delivered_at")
_READ_TIMES = ("up_to", "read_at")


def _stored(row: dict[str, Any], times: tuple[str, ...]) -> dict[str, Any]:
    return {k: (datetime.fromisoformat(v) if k in times and isinstance(v, str) else v) for k, v in row.items()}


def _threads(gen: _Generator, res: _Resources) -> Threads:
    """The demo's text threads (core.demo.threads), from their own random stream so that
    adding them changed nothing else of the demo clinic."""
    staff_names = {res.staff_ids[s.key]: s.name for s in STAFF}
    patients = [{"id": p.id, "first_name": p.row.first_name, "preferred_name": p.row.preferred_name,
                 "phone": p.row.phone, "consents": p.row.consents or {}} for p in gen.patients]
    leads = [{"id": lead.id, "patient_id": lead.patient.id if lead.patient else None, "source": lead.row.source,
              "received_at": _wire(lead.row.received_at), "first_reply_at": _wire(lead.row.first_reply_at),
              "owner_id": lead.row.owner_id, "service_interest": lead.row.service_interest,
              "message": lead.row.message} for lead in gen.leads]
    appointments = [{"patient_id": a.patient.id, "service_id": res.service_ids[a.service.key],
                     "provider_id": res.staff_ids[a.provider], "start_at": _wire(a.start), "status": a.status}
                    for a in gen.appointments]
    return build_threads(
        rng=random.Random(gen.seed * 7919 + 17), now=gen.now, tz=ZoneInfo(TIMEZONE), clinic_id=res.clinic_id,
        clinic_name=CLINIC_NAME, booking_link=f"{WEBSITE}/book", patients=patients, leads=leads,
        appointments=appointments, staff_names=staff_names,
        service_names={res.service_ids[s.key]: s.name for s in SERVICES},
        desk_staff=[res.staff_ids[k] for k in ("felix", "daisy", "sam")],
        interest_of={s.name: s.category for s in SERVICES})


def _wire(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value is not None else None


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ceil_to(minute: int, step: int) -> int:
    return -(-minute // step) * step


def add_demo_duplicate(store: Store, *, now: datetime | None = None) -> str:
    """A possible duplicate in a demo store, as the clinic server would have sent it: a VIP client
    with history, and a newer record of the same name with another mobile number (for demos and
    screenshots of the duplicates screen). Returns the review id."""
    from sqlalchemy import select

    from app.db.models import MergeReview

    actor = Actor(staff_id=None, device_id=store.device_id, role=None, name="Glowdesk demo")
    with unit_of_work(store, actor) as ctx:
        at = now or ctx.now()
        original = ctx.session.execute(
            select(Patient).where(Patient.deleted.is_(False), Patient.vip.is_(True), Patient.phone.is_not(None),
                                  Patient.email.is_not(None)).order_by(Patient.last_name, Patient.id).limit(1)
        ).scalar_one()
        newer = patient_repo.create(ctx, Patient(
            clinic_id=original.clinic_id, first_name=original.first_name, last_name=original.last_name,
            phone=normalize_phone("(415) 555-0187", "US"), email=None, tags=["new client"], consents={},
            first_touch={"source": "meta_lead_ad", "at": _iso(at)}))
        review = MergeReview(id=new_id(), clinic_id=original.clinic_id, patient_id=newer.id,
                             candidate_id=original.id, reason="same_name_other_phone", status="open",
                             opened_at=at - timedelta(hours=2), version=1, hlc=str(store.hlc.now()), deleted=False,
                             created_at=at, updated_at=at)
        ctx.session.add(review)
        return review.id
