"""The demo clinic's content, made server-side: *Lumière Aesthetics*, a two-location Bay Area med spa.

A pure, deterministic generator (stdlib and ``core`` only; no database): :func:`generate`
returns plain dicts per entity, shaped exactly like the sync catalogue
(:data:`core.sync.ENTITIES`), which :mod:`sync_server.demo.service` stores as sync rows. The
same ``seed`` and ``now`` give the same content; only record ids (UUIDv7) differ between runs.

The reference tables (locations, rooms, equipment, the service menu, the staff and their PINs,
names, places) are those of the desktop's own demo (``app/services/demo.py``), copied rather
than imported: the server never imports the desktop. The calendar is simpler than the
desktop's, with the same guarantees that matter: appointments never overlap on a provider, a
room or a device (buffers included), they fall inside the providers' shifts, and every phone
number is a 555 number and every address a reserved example domain, so a demo can never reach a
real person.

Demo staff and PINs: Olivia Owens owner 1234, Marcus Mendoza manager 2468, Dr. Diane Moreau
medical_director 1357, Priya Raman provider 1111, Nora Kim provider 2222, Jasmine Okafor
provider 3333, Elena Rossi provider 4444, Felix Park front_desk 5555, Daisy Alvarez front_desk
6666, Sam Taylor front_desk 7777.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from core.demo.catalogue import (
    ALLERGIES,
    AREA_CODES,
    ASIAN_GROUPS,
    CAMPAIGNS,
    CATEGORIES,
    CATEGORY_WEIGHTS,
    CLINIC_NAME,
    CLINIC_SLUG,
    DESK_BY_LOCATION,
    DEVICES,
    EMAIL_DOMAINS,
    ENGLISH_NAMES,
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
from core.email import email_match_key
from core.ids import new_id
from core.permissions import Role
from core.routing import clinic_hours, parse_policy, sla_due
from core.states import ACTIVE_APPOINTMENT_STATES
from core.states import AppointmentStatus as A
from core.states import DepositStatus as D
from core.states import LeadStatus as L

T = TypeVar("T")


# ================================================================================================
# Leads: sources, ad campaigns, messages
# ================================================================================================


# ================================================================================================
# The generator
# ================================================================================================

#: Appointment statuses that hold a slot (set-up and clean-up buffers included).
ACTIVE = frozenset(s.value for s in ACTIVE_APPOINTMENT_STATES)
ENTITY_ORDER = ("clinic", "location", "room", "device", "staff", "service", "patient", "lead",
                "appointment", "activity", "message_template", "message", "message_read")


@dataclass(frozen=True)
class StaffMember:
    id: str
    name: str
    role: Role
    pin: str


@dataclass
class DemoClinic:
    """What :func:`generate` made: rows per entity (``{"id": ..., **fields}``) and the staff."""

    clinic_id: str
    slug: str
    rows: dict[str, list[dict[str, Any]]]
    staff: list[StaffMember]
    staff_pins: dict[str, str]

    def count(self, entity: str | None = None) -> int:
        if entity is not None:
            return len(self.rows.get(entity, ()))
        return sum(len(v) for v in self.rows.values())


@dataclass(slots=True)
class _Patient:
    index: int
    id: str
    row: dict[str, Any]
    home: str
    interests: tuple[str, ...]
    acquired: datetime
    from_lead: bool
    last_visit: dict[str, date] = field(default_factory=dict)
    lead: dict[str, Any] | None = None
    completed_after_lead: bool = False
    future_booking: bool = False


def utc_text(value: datetime) -> str:
    """A datetime in the wire's canonical form (``...%fZ`` UTC, as core.sync.normalise_value)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _e164(us_number: str) -> str:
    return "+1" + "".join(ch for ch in us_number if ch.isdigit())


def history_days(patients: int) -> int:
    """Days of calendar history: a year for a small clinic, more as the client base grows (the
    same staff have served a 20,000-client clinic for about five years)."""
    return min(5 * 365, max(365, patients * 91 // 1000))


class _Generator:
    def __init__(self, *, patients: int, seed: int, now: datetime, clinic_id: str, slug: str) -> None:
        self.n = patients
        self.rng = random.Random(seed)
        self.now = now.astimezone(UTC)
        self.tz = ZoneInfo(TIMEZONE)
        self.today = self.now.astimezone(self.tz).date()
        self.days = history_days(patients)
        self.window_start = self.today - timedelta(days=self.days)
        self.window_end = self.today + timedelta(days=FUTURE_DAYS)
        self.clinic_id = clinic_id
        self.slug = slug
        self.rows: dict[str, list[dict[str, Any]]] = {e: [] for e in ENTITY_ORDER}
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.handles: set[str] = set()
        self.patients: list[_Patient] = []
        self.location_ids: dict[str, str] = {}
        self.rooms: dict[str, list[tuple[str, str]]] = {}
        self.devices: dict[str, list[tuple[str, str]]] = {}
        self.staff_ids: dict[str, str] = {}
        self.service_ids: dict[str, str] = {}
        self.staff: list[StaffMember] = []
        self.fill = 0.82

    # --- helpers -------------------------------------------------------------------------------

    def pick(self, weighted: Sequence[tuple[T, float]]) -> T:
        return self.rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted], k=1)[0]

    def local(self, day: date, minutes: int) -> datetime:
        return datetime.combine(day, time(minutes // 60, minutes % 60), self.tz).astimezone(UTC)

    def digits(self, n: int, first: str = "123456789") -> str:
        return self.rng.choice(first) + "".join(self.rng.choice(string.digits) for _ in range(n - 1))

    def token(self, n: int) -> str:
        return "".join(self.rng.choice(ID_ALPHABET) for _ in range(n))

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + timedelta(seconds=int(self.rng.random() * max(0.0, (end - start).total_seconds())))

    def add(self, entity: str, row: dict[str, Any]) -> dict[str, Any]:
        self.rows[entity].append(row)
        return row

    # --- the clinic ----------------------------------------------------------------------------

    def routing_settings(self) -> dict[str, Any]:
        ids = {spec.key: new_id() for spec in STAFF}
        self._preset_ids = ids
        settings = demo_routing(ids)
        self.policy = parse_policy(settings)
        self.hours = clinic_hours({})
        return settings

    def build_clinic(self) -> None:
        cid = self.clinic_id
        self.add("clinic", {
            "id": cid, "name": CLINIC_NAME, "slug": self.slug, "timezone": TIMEZONE, "region": "US",
            "currency": "USD", "phone": "+14155550100",
            "settings": {"website": WEBSITE, "lead_routing": self.routing_settings(),
                         "quiet_hours": {"start": "20:00", "end": "08:00"},
                         "deposit_policy": {"late_cancel_hours": 24, "version": 3,
                                            "text": "A deposit holds your appointment. Cancel or reschedule at "
                                                    "least 24 hours ahead for a full release; late cancellations "
                                                    "and no-shows forfeit the deposit."}},
        })
        for key, name, address, phone in LOCATIONS:
            self.location_ids[key] = new_id()
            self.add("location", {"id": self.location_ids[key], "clinic_id": cid, "name": name,
                                  "address": dict(address), "timezone": TIMEZONE, "phone": _e164(phone)})
            self.rooms[key], self.devices[key] = [], []
        for loc, name, kind in ROOMS:
            rid = new_id()
            self.rooms[loc].append((rid, kind))
            self.add("room", {"id": rid, "clinic_id": cid, "location_id": self.location_ids[loc], "name": name,
                              "kind": kind, "active": True})
        for loc, name, kind, model in DEVICES:
            did = new_id()
            self.devices[loc].append((did, kind))
            self.add("device", {"id": did, "clinic_id": cid, "location_id": self.location_ids[loc], "name": name,
                                "kind": kind, "model": model, "active": True})
        for spec in STAFF:
            sid = self._preset_ids[spec.key]
            self.staff_ids[spec.key] = sid
            self.staff.append(StaffMember(sid, spec.name, spec.role, spec.pin))
            first = spec.name.replace("Dr. ", "").split()[0].lower()
            self.add("staff", {"id": sid, "clinic_id": cid, "display_name": spec.name, "role": spec.role.value,
                               "title": spec.title, "email": f"{first}@lumiere-aesthetics.example", "phone": None,
                               "pin_hash": None, "color": spec.color, "active": True,
                               "working_hours": staff_hours(spec)})
        for s in SERVICES:
            self.service_ids[s.key] = new_id()
            self.add("service", {
                "id": self.service_ids[s.key], "clinic_id": cid, "name": s.name, "category": s.category,
                "duration_min": s.duration, "buffer_before_min": s.before, "buffer_after_min": s.after,
                "price_minor": s.price, "price_unit": s.unit, "currency": "USD", "deposit_minor": s.deposit,
                "requires_room": True, "device_kind": s.device, "qualified_roles": list(s.roles),
                "description": s.description, "active": True})

    # --- people ---------------------------------------------------------------------------------

    def person(self) -> tuple[str, str, str | None, str, str | None]:
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
        last = self.rng.choice(lasts if self.rng.random() < 0.85 else NAMES[self.rng.choice(groups)][3])
        preferred = NICKNAMES.get(first) if first in NICKNAMES and self.rng.random() < 0.4 else None
        if preferred is None and group in ASIAN_GROUPS and sex == "female" and self.rng.random() < 0.15:
            preferred = self.rng.choice(ENGLISH_NAMES)
        return first, last, preferred, sex, pronouns

    def phone(self, home: str) -> str:
        while True:
            area = self.pick(AREA_CODES["away"] if self.rng.random() < 0.04 else AREA_CODES[home])
            number = f"+1{area}555{self.rng.randint(100, 9999):04d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def email(self, first: str, last: str, year: int | None) -> str:
        f, lname = ascii_fold(first) or "client", ascii_fold(last) or "glow"
        domain = self.pick(EMAIL_DOMAINS)
        patterns = [f"{f}.{lname}", f"{f}{lname}", f"{f}_{lname}", f"{f[:1]}{lname}"]
        if year:
            patterns.append(f"{f}{year % 100:02d}")
        base = self.rng.choice(patterns)
        candidate = f"{base}@{domain}"
        while email_match_key(candidate) in self.emails:
            candidate = f"{base}{self.rng.randint(2, 9999)}@{domain}"
        self.emails.add(email_match_key(candidate))
        return candidate

    def handle(self, first: str, last: str) -> str:
        f, lname = ascii_fold(first).replace("-", ""), ascii_fold(last).replace("-", "")
        base = self.rng.choice([f"{f}.{lname}", f"{f}_{lname}", f"{f}{lname}", f"{f}.glow", f"its{f}"])[:26] or "client"
        candidate = base
        while candidate in self.handles:
            candidate = f"{base}{self.rng.randint(1, 9999)}"
        self.handles.add(candidate)
        return candidate

    def address(self, home: str) -> dict[str, Any]:
        _, city, zips = self.pick([(p, p[0]) for p in PLACES[home]])
        if self.rng.random() < 0.35:
            return {}
        out: dict[str, Any] = {"line1": f"{self.rng.randint(10, 3999)} {self.rng.choice(STREETS)}", "city": city,
                               "state": "CA", "postal_code": self.rng.choice(zips), "country": "US"}
        if self.rng.random() < 0.15:
            out["line2"] = f"Apt {self.rng.randint(1, 40)}{self.rng.choice('ABCD')}"
        return out

    def consents(self, at: datetime, source: str) -> dict[str, Any]:
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        odds = {"transactional_sms": 0.95, "marketing_sms": 0.6, "email": 0.8, "phone": 0.9,
                "photo_clinical": 0.88, "photo_portal": 0.6, "photo_marketing": 0.12}
        return {purpose: {"granted": self.rng.random() < p, "at": stamp,
                          "source": "intake_form" if purpose.startswith("photo") else source}
                for purpose, p in odds.items()}

    def build_patients(self, from_leads: int) -> None:
        established = self.n - from_leads
        start = self.local(self.window_start, 9 * 60)
        for i in range(self.n):
            first, last, preferred, sex, pronouns = self.person()
            home = "sf" if self.rng.random() < 0.58 else "pa"
            age = min(78, max(19, int(self.rng.gauss(41, 10.5))))
            dob = self.today - timedelta(days=age * 365 + self.rng.randint(0, 364))
            has_dob = self.rng.random() >= 0.03
            from_lead = i >= established
            acquired = start if from_lead else start - timedelta(days=self.rng.randint(20, 6 * 365))
            interests = tuple(sorted(set(self.rng.choices(CATEGORIES, weights=CATEGORY_WEIGHTS,
                                                          k=self.rng.choice((1, 1, 2, 2, 3)))),
                                     key=CATEGORIES.index))
            vip = self.rng.random() < 0.05
            tags = sorted({self.pick(TAGS) for _ in range(self.rng.choice((0, 0, 0, 1, 1, 2, 3)))} | ({"VIP"} if vip else set()))
            email = self.email(first, last, dob.year if has_dob else None) if self.rng.random() < 0.93 else None
            row: dict[str, Any] = {
                "id": new_id(), "clinic_id": self.clinic_id, "first_name": first, "last_name": last,
                "preferred_name": preferred, "date_of_birth": dob.isoformat() if has_dob else None, "sex": sex,
                "pronouns": pronouns, "phone": self.phone(home) if self.rng.random() < 0.97 else None,
                "email": email, "email_key": email_match_key(email) if email else None,
                "instagram_handle": self.handle(first, last) if self.rng.random() < 0.33 else None,
                "instagram_id": None, "address": self.address(home), "timezone": None,
                "allergies": ", ".join(self.rng.sample(ALLERGIES, self.rng.choice((1, 1, 2))))
                if self.rng.random() < 0.12 else None,
                "medical_alerts": self.rng.choice(MEDICAL_ALERTS) if self.rng.random() < 0.08 else None,
                "consents": {}, "tags": tags, "vip": vip, "first_touch": {},
                "notes": self.rng.choice(PATIENT_NOTES) if self.rng.random() < 0.05 else None,
                "external_ref": None, "merged_into": None,
            }
            if not from_lead:
                source = self.pick((("referral", 30), ("walk_in", 10), ("google_ads", 15), ("web_form", 15),
                                    ("phone", 15), ("meta_lead_ad", 8), ("instagram_dm", 7)))
                row["first_touch"] = {"source": source, "at": utc_text(acquired), "lead_id": None,
                                      "note": "client before Glowdesk; source from the old system"}
                row["consents"] = self.consents(acquired, "intake_form")
                row["external_ref"] = f"LUM-{10000 + i}"
            plan = _Patient(i, row["id"], row, home, interests, acquired, from_lead)
            for cat in interests:  # when an established client was last treated
                if not from_lead:
                    plan.last_visit[cat] = self.window_start - timedelta(days=self.rng.randint(1, MIN_GAP[cat] * 2))
            self.patients.append(plan)
            self.add("patient", row)

    # --- leads ----------------------------------------------------------------------------------

    def lead_time(self, index: int, total: int) -> datetime:
        if index >= total - 2:  # something new on the lead board; the newest just arrived (its timer runs)
            moment = self.between(self.now - timedelta(hours=2), self.now - timedelta(minutes=5))
            return self.now - timedelta(seconds=100) if index == total - 1 else moment
        day = self.window_start + timedelta(days=self.rng.randint(0, self.days - 1))
        minute = int(min(23 * 60 + 30, max(6 * 60, self.rng.gauss(15 * 60, 3.6 * 60))))
        return min(self.local(day, minute) + timedelta(seconds=self.rng.randint(0, 59)),
                   self.now - timedelta(minutes=5))

    def first_reply(self, received: datetime, source: str) -> datetime:
        if source in ("phone", "walk_in"):
            return received
        local = received.astimezone(self.tz)
        if 9 <= local.hour < 19:
            return received + timedelta(minutes=min(24 * 60, self.rng.lognormvariate(math.log(12), 1.1)))
        day = local.date() + timedelta(days=0 if local.hour < 9 else 1)
        return self.local(day, 9 * 60) + timedelta(minutes=self.rng.lognormvariate(math.log(35), 0.8))

    def build_leads(self) -> None:
        owners: list[_Patient | None] = [p for p in self.patients if p.from_lead]
        owners += [None] * max(2, round(len(owners) * 0.03))  # spam
        self.rng.shuffle(owners)
        times = sorted(self.lead_time(i, len(owners)) for i in range(len(owners)))
        campaigns = self.campaigns()
        sources = [s for s, _ in LEAD_SOURCES]
        for i, (owner, received) in enumerate(zip(owners, times, strict=True)):
            if owner is None:
                source = self.rng.choice(["meta_lead_ad", "instagram_dm", "web_form", "google_ads"])
            else:
                source = sources[i % len(sources)] if i < 2 * len(sources) else self.pick(LEAD_SOURCES)
            self.make_lead(owner, source, received, campaigns)

    def campaigns(self) -> list[dict[str, Any]]:
        out = []
        for platform, name, interest, path, keywords in CAMPAIGNS:
            meta = platform == "meta"
            cid = "1202" + self.digits(14, string.digits) if meta else self.digits(11)
            ads = ["1202" + self.digits(14, string.digits) if meta else self.digits(12) for _ in range(3)]
            out.append({"platform": platform, "id": cid, "name": name, "interest": interest, "path": path,
                        "keywords": keywords, "adset": "1202" + self.digits(14, string.digits) if meta
                        else self.digits(12), "ads": ads, "form": self.digits(15)})
        return out

    def make_lead(self, owner: _Patient | None, source: str, received: datetime,
                  campaigns: list[dict[str, Any]]) -> None:
        rng = self.rng
        home = owner.home if owner else "sf"
        if source in ("phone", "walk_in"):
            local = received.astimezone(self.tz)
            if not 9 <= local.hour < 19:
                moved = self.local(local.date(), rng.randint(10 * 60, 18 * 60))
                received = moved if moved <= self.now - timedelta(minutes=5) else received
        campaign = None
        if source in ("meta_lead_ad", "google_ads", "instagram_dm"):
            platform = "google" if source == "google_ads" else "meta"
            pool = [c for c in campaigns if c["platform"] == platform and (bool(c["path"]) != (source == "instagram_dm"))]
            campaign = rng.choice(pool) if pool and (source != "instagram_dm" or rng.random() < 0.35) else None
        interest = campaign["interest"] if campaign else (
            owner.interests[0] if owner else rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0])
        examples = [s for s in SERVICES if s.category == interest and s.price > 0]
        lead: dict[str, Any] = {
            "id": new_id(), "clinic_id": self.clinic_id, "patient_id": owner.id if owner else None,
            "source": source, "status": L.NEW.value,
            "service_interest": self.pick([(s.name, s.weight) for s in examples]) if examples else None,
            "message": rng.choice(MESSAGES[interest]) if source not in ("walk_in", "manual") else None,
            **dict.fromkeys(("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "fbclid",
                             "gclid", "gbraid", "wbraid", "landing_page", "referrer", "campaign_id", "adset_id",
                             "ad_id", "form_id", "external_id")),
            "owner_id": self.staff_ids[rng.choice(DESK_BY_LOCATION[home])],
            "claimed_by": None, "claimed_at": None, "claim_expires_at": None, "first_reply_at": None,
            "received_at": utc_text(received), "sla_due_at": None, "escalated_at": None, "escalated_to": None,
        }
        if campaign is not None:
            ad = rng.choice(campaign["ads"])
            lead.update(campaign_id=campaign["id"], adset_id=campaign["adset"], ad_id=ad,
                        utm_campaign=campaign["id"], utm_content=ad)
            if campaign["platform"] == "meta":
                lead.update(utm_source="instagram" if source == "instagram_dm" else rng.choice(("facebook", "instagram")),
                            utm_medium="paid_social")
                if source == "meta_lead_ad":
                    lead.update(fbclid="IwAR" + self.token(58), form_id=campaign["form"],
                                external_id=self.digits(16), referrer="https://l.facebook.com/")
            else:
                lead.update(utm_source="google", utm_medium="cpc", utm_term=rng.choice(campaign["keywords"]),
                            gclid="Cj0KCQjw" + self.token(80), referrer="https://www.google.com/")
            if campaign["path"]:
                lead["landing_page"] = (f"{WEBSITE}{campaign['path']}?utm_source={lead['utm_source']}"
                                        f"&utm_medium={lead['utm_medium']}&utm_campaign={campaign['id']}&utm_content={ad}")
        if source == "instagram_dm":
            lead["external_id"] = "ig-thread-" + self.digits(17)
            if owner is not None:
                owner.row["instagram_id"] = self.digits(17)
                if owner.row["instagram_handle"] is None:
                    owner.row["instagram_handle"] = self.handle(owner.row["first_name"], owner.row["last_name"])
        elif source == "web_form":
            lead["landing_page"] = WEBSITE + rng.choice(("/contact", "/book-a-consult", "/services/botox", "/specials"))
        elif source == "referral":
            lead["landing_page"] = f"{WEBSITE}/refer?code=FRIEND-{self.token(5).upper()}"
            lead["message"] = "Referred by a friend who is a client"
        elif source == "manual":
            lead["message"] = rng.choice(MANUAL_NOTES)
        if owner is None:
            lead["status"] = L.SPAM.value
        else:
            reply = self.first_reply(received, source)
            if reply <= self.now:
                lead["first_reply_at"] = utc_text(reply)
            due = sla_due(received, source, self.policy, tz=self.tz, clinic=self.hours)
            if due is not None:
                lead["sla_due_at"] = utc_text(due)
                if due < min(reply, self.now):  # missed: the manager was told a minute later
                    lead["escalated_at"] = utc_text(min(due + timedelta(minutes=1), self.now))
                    lead["escalated_to"] = self.staff_ids["manager"]
            owner.acquired = received
            touch = {"source": source, "at": utc_text(received), "lead_id": lead["id"]}
            touch.update({k: lead[k] for k in ("utm_source", "utm_medium", "utm_campaign", "utm_content",
                                               "gclid", "fbclid", "campaign_id", "ad_id") if lead[k]})
            owner.row["first_touch"] = touch
            owner.row["consents"] = self.consents(received, {"phone": "verbal", "walk_in": "intake_form",
                                                             "instagram_dm": "instagram_dm"}.get(source, "web_form"))
            owner.lead = lead
        self.add("lead", lead)

    # --- the calendar ---------------------------------------------------------------------------

    def schedule(self) -> None:
        """Fill each provider's shifts slot by slot; a provider, room or device is never held twice
        at once (buffers included)."""
        pools: dict[tuple[str, str], list[_Patient]] = {(loc, cat): [] for loc in self.location_ids
                                                        for cat in CATEGORIES}
        for p in self.patients:
            for cat in p.interests:
                pools[(p.home, cat)].append(p)
        providers = [s for s in STAFF if s.shifts]
        menus = {(spec.key, loc): [s for s in (SERVICE_BY_KEY[k] for k in spec.skills) if self.offered_at(s, loc)]
                 for spec in providers for loc in self.location_ids}
        holidays = us_holidays(self.window_start.year, self.window_end.year)
        minutes = sum((end - start) * 60 - 45 for s in providers for (_, start, end) in s.shifts.values())
        slots_per_year = minutes / 55 * 51  # an average visit holds ~55 minutes with its buffers
        self.fill = max(0.08, min(0.82, self.n * VISITS_PER_CLIENT / slots_per_year))
        day = self.window_start
        while day < self.window_end:
            if day not in holidays and day.weekday() != 6:
                self.schedule_day(day, providers, menus, pools)
            day += timedelta(days=1)

    def offered_at(self, service: ServiceSpec, loc: str) -> bool:
        rooms = any(kind in service.rooms for _, kind in self.rooms[loc])
        return rooms and (service.device is None or any(k == service.device for _, k in self.devices[loc]))

    def schedule_day(self, day: date, providers: list[StaffSpec], menus: dict[tuple[str, str], list[ServiceSpec]],
                     pools: dict[tuple[str, str], list[_Patient]]) -> None:
        rng = self.rng
        ahead = (day - self.today).days
        fill = self.fill * (max(0.12, 1.0 - ahead / (FUTURE_DAYS + 6)) if ahead > 0 else 1.0)
        busy: dict[str, list[tuple[int, int]]] = {}
        seen: set[int] = set()
        for spec in providers:
            if day.weekday() not in spec.shifts:
                continue
            loc, start_h, end_h = spec.shifts[day.weekday()]
            minute, shift_end = start_h * 60, end_h * 60
            menu = menus[(spec.key, loc)]
            while minute < shift_end - 15:
                if LUNCH[0] <= minute < LUNCH[1]:
                    minute = LUNCH[1]
                    continue
                if rng.random() > fill:
                    minute += rng.choice((15, 15, 30))
                    continue
                service = self.pick([(s, s.weight if s.category != "consultations" else s.weight / 3) for s in menu])
                start = -(-(minute + service.before) // 15) * 15
                held = (start - service.before, start + service.duration + service.after)
                if held[1] > shift_end or (held[0] < LUNCH[1] and held[1] > LUNCH[0]):
                    minute += 15
                    continue
                room = self.free(self.rooms[loc], service.rooms, held, busy)
                device = self.free(self.devices[loc], (service.device,), held, busy) if service.device else None
                if room is None or (service.device and device is None):
                    minute += 15
                    continue
                begins = self.local(day, start)
                patient = self.pick_patient(pools, loc, service, day, begins, seen)
                if patient is None:
                    minute += 15
                    continue
                busy.setdefault(room, []).append(held)
                if device is not None:
                    busy.setdefault(device, []).append(held)
                seen.add(patient.index)
                patient.last_visit[service.category] = day
                self.make_appointment(patient, service, spec, loc, room, device, begins)
                minute = held[1]

    @staticmethod
    def free(resources: list[tuple[str, str]], kinds: tuple[str | None, ...], held: tuple[int, int],
             busy: dict[str, list[tuple[int, int]]]) -> str | None:
        for rid, kind in resources:
            if kind in kinds and all(not (s < held[1] and held[0] < e) for s, e in busy.get(rid, ())):
                return rid
        return None

    def pick_patient(self, pools: dict[tuple[str, str], list[_Patient]], loc: str, service: ServiceSpec, day: date,
                     begins: datetime, seen: set[int]) -> _Patient | None:
        category = service.category
        if category == "consultations":
            category = self.rng.choice(CATEGORIES)
        if self.rng.random() < 0.08:
            loc = "pa" if loc == "sf" else "sf"
        members = pools[(loc, category)]
        if not members:
            return None
        gap = MIN_GAP[service.category]
        for _ in range(8):
            p = members[self.rng.randrange(len(members))]
            last = p.last_visit.get(service.category)
            if p.index in seen or p.acquired > begins - timedelta(hours=2):
                continue
            if last is not None and (day - last).days < gap:
                continue
            return p
        return None

    def make_appointment(self, patient: _Patient, service: ServiceSpec, spec: StaffSpec, loc: str, room: str,
                         device: str | None, start: datetime) -> None:
        rng = self.rng
        end = start + timedelta(minutes=service.duration)
        if end <= self.now:
            r = rng.random()
            status = (A.NO_SHOW if r < 0.07 else A.CANCELLED if r < 0.15 else A.LATE_CANCELLED if r < 0.2
                      else A.COMPLETED).value
        elif start <= self.now:
            status = A.CHECKED_IN.value
        else:
            soon = start - self.now < timedelta(days=3)
            status = (A.CONFIRMED if rng.random() < (0.75 if soon else 0.2) else A.BOOKED).value
        lead_days = min(60.0, rng.lognormvariate(math.log(9), 0.9))
        booked_at = max(start - timedelta(days=lead_days), patient.acquired + timedelta(hours=1))
        booked_at = min(booked_at, start - timedelta(minutes=30), self.now - timedelta(minutes=5))
        booked_by = None if rng.random() < 0.3 else self.staff_ids[rng.choice(DESK_BY_LOCATION[loc])]
        quantity = rng.choice(service.quantities)
        unit = {"unit": "units", "syringe": "syringe", "vial": "vial"}.get(service.unit)
        notes = None
        if unit is not None:
            notes = f"Planned: {quantity} {unit if quantity == 1 or unit == 'units' else unit + 's'}"
        lead = patient.lead
        source_lead = lead["id"] if lead is not None and not patient.completed_after_lead else None
        if status == A.COMPLETED.value and lead is not None:
            patient.completed_after_lead = True
        if status in (A.BOOKED.value, A.CONFIRMED.value, A.CHECKED_IN.value):
            patient.future_booking = True
        appt = self.add("appointment", {
            "id": new_id(), "clinic_id": self.clinic_id, "patient_id": patient.id,
            "service_id": self.service_ids[service.key], "provider_id": self.staff_ids[spec.key],
            "location_id": self.location_ids[loc], "room_id": room, "device_id": device,
            "start_at": utc_text(start), "end_at": utc_text(end), "status": status,
            "deposit_status": self.deposit_status(service, status, start, patient.row["vip"]),
            "deposit_minor": service.deposit, "price_minor": service.price * quantity, "currency": "USD",
            "source_lead_id": source_lead, "booked_by": booked_by, "notes": notes, "tentative": False,
        })
        self.appointment_activities(appt, patient, service, spec, start, end, booked_at)

    def deposit_status(self, service: ServiceSpec, status: str, start: datetime, vip: bool) -> str:
        if service.deposit == 0:
            return D.NOT_REQUIRED.value
        if vip and self.rng.random() < 0.5:
            return D.WAIVED.value
        table = {
            A.COMPLETED.value: ((D.APPLIED, 78), (D.RELEASED, 14), (D.WAIVED, 8)),
            A.NO_SHOW.value: ((D.FORFEITED, 85), (D.WAIVED, 15)),
            A.LATE_CANCELLED.value: ((D.FORFEITED, 70), (D.WAIVED, 30)),
            A.CANCELLED.value: ((D.RELEASED, 60), (D.REFUNDED, 30), (D.WAIVED, 10)),
            A.CHECKED_IN.value: ((D.AUTHORISED, 60), (D.CAPTURED, 40)),
        }.get(status)
        if table is None:
            soon = start - self.now <= timedelta(days=7)  # a card hold lasts about 7 days
            table = (((D.AUTHORISED, 65), (D.CAPTURED, 15), (D.LINK_SENT, 12), (D.REQUIRED, 8)) if soon
                     else ((D.CAPTURED, 40), (D.LINK_SENT, 35), (D.REQUIRED, 15), (D.WAIVED, 10)))
        return str(self.pick(table).value)

    # --- the timeline ---------------------------------------------------------------------------

    def activity(self, patient_id: str | None, lead_id: str | None, type_: str, actor: str | None,
                 at: datetime, payload: dict[str, Any]) -> None:
        self.add("activity", {"id": new_id(), "clinic_id": self.clinic_id, "patient_id": patient_id,
                              "lead_id": lead_id, "type": type_, "actor_id": actor, "occurred_at": utc_text(at),
                              "payload": payload})

    def appointment_activities(self, appt: dict[str, Any], patient: _Patient, service: ServiceSpec,
                               spec: StaffSpec, start: datetime, end: datetime, booked_at: datetime) -> None:
        provider = self.staff_ids[spec.key]
        base = {"appointment_id": appt["id"], "service": service.name, "start_at": appt["start_at"]}
        self.activity(patient.id, appt["source_lead_id"], "appointment.booked", appt["booked_by"], booked_at,
                      {**base, "provider_id": provider, "channel": "online" if appt["booked_by"] is None else "desk"})
        status = appt["status"]
        if status == A.CONFIRMED.value:
            self.activity(patient.id, None, "appointment.confirmed", None,
                          max(booked_at, min(self.now, start - timedelta(days=2))), {**base, "channel": "sms"})
        if status == A.COMPLETED.value:
            self.activity(patient.id, None, "appointment.completed", provider, end, base)
            if self.rng.random() < 0.12:
                self.activity(patient.id, None, "note", provider, min(self.now, end + timedelta(minutes=5)),
                              {"text": self.rng.choice(NOTES)})
        elif status == A.NO_SHOW.value:
            self.activity(patient.id, None, "appointment.no_show", None, start + timedelta(minutes=15), base)
        elif status == A.CANCELLED.value:
            at = max(booked_at, self.between(booked_at, start - timedelta(hours=24)))
            self.activity(patient.id, None, "appointment.cancelled", None, at, base)
        elif status == A.LATE_CANCELLED.value:
            at = max(booked_at, start - timedelta(hours=self.rng.randint(1, 23)))
            self.activity(patient.id, None, "appointment.late_cancelled", None, at, base)

    def finish_leads(self) -> None:
        """Each lead's status and claim from what became of it; its timeline entries."""
        by_patient = {p.id: p for p in self.patients if p.lead is not None}
        for lead in self.rows["lead"]:
            received = datetime.fromisoformat(lead["received_at"])
            owner = by_patient.get(lead["patient_id"]) if lead["patient_id"] else None
            if owner is not None:
                age = self.now - received
                if owner.completed_after_lead:
                    status = L.CONVERTED
                elif owner.future_booking:
                    status = L.BOOKED
                elif lead["first_reply_at"] is None or age < timedelta(hours=2):
                    status = L.NEW
                elif age < timedelta(days=3):
                    status = L.CONTACTED
                elif age < timedelta(days=21):
                    status = self.pick(((L.CONTACTED, 45), (L.QUALIFIED, 35), (L.LOST, 20)))
                else:
                    status = self.pick(((L.LOST, 80), (L.QUALIFIED, 10), (L.CONTACTED, 10)))
                lead["status"] = status.value
                if status == L.NEW:
                    lead["first_reply_at"] = None
                elif lead["first_reply_at"] and lead["source"] not in ("phone", "walk_in"):
                    claimed = datetime.fromisoformat(lead["first_reply_at"]) - timedelta(minutes=self.rng.randint(1, 4))
                    lead.update(claimed_by=lead["owner_id"], claimed_at=utc_text(claimed),
                                claim_expires_at=utc_text(claimed + timedelta(minutes=5)))
            pid = lead["patient_id"]
            self.activity(pid, lead["id"], "lead.received", None, received,
                          {"source": lead["source"], "service_interest": lead["service_interest"]})
            if lead["first_reply_at"]:
                channel = {"phone": "call", "walk_in": "in_person", "instagram_dm": "instagram_dm"}.get(
                    lead["source"], "sms")
                self.activity(pid, lead["id"], "lead.contacted", lead["owner_id"],
                              datetime.fromisoformat(lead["first_reply_at"]), {"channel": channel})
        for p in self.patients:  # a client made from a lead that never came
            if not p.row["first_touch"]:
                p.row["first_touch"] = {"source": "manual", "at": utc_text(p.acquired), "lead_id": None}
                p.row["consents"] = self.consents(p.acquired, "intake_form")


    def build_threads(self, seed: int) -> None:
        """Text threads (core.demo.threads), from their own random stream so that adding
        them changed nothing else of the demo clinic."""
        from core.demo.threads import build_threads

        staff_names = {row["id"]: row["display_name"] for row in self.rows["staff"]}
        threads = build_threads(
            rng=random.Random(seed * 7919 + 17), now=self.now, tz=self.tz, clinic_id=self.clinic_id,
            clinic_name=CLINIC_NAME, booking_link=f"{WEBSITE}/book", patients=self.rows["patient"],
            leads=self.rows["lead"], appointments=self.rows["appointment"], staff_names=staff_names,
            service_names={row["id"]: row["name"] for row in self.rows["service"]},
            desk_staff=[self.staff_ids[k] for k in ("felix", "daisy", "sam")],
            interest_of={s.name: s.category for s in SERVICES})
        self.rows["message_template"] = threads.templates
        self.rows["message"] = threads.messages
        self.rows["message_read"] = threads.reads


def generate(*, patients: int, seed: int = 42, now: datetime, clinic_id: str, slug: str = CLINIC_SLUG) -> DemoClinic:
    """The demo clinic as rows per entity (staff ``pin_hash`` left for the caller to fill)."""
    if patients < 0:
        raise ValueError("patients must be zero or more")
    if now.tzinfo is None:
        raise ValueError("now must be tz-aware")
    gen = _Generator(patients=patients, seed=seed, now=now, clinic_id=clinic_id, slug=slug)
    gen.build_clinic()
    years = gen.days / 365
    gen.build_patients(min(round(patients * 0.38), round(3600 * years)))
    gen.build_leads()
    gen.schedule()
    gen.finish_leads()
    gen.build_threads(seed)
    for rows in gen.rows.values():  # the storage and wire shape: fields only, ids aside
        for row in rows:
            row.setdefault("id", new_id())
    return DemoClinic(clinic_id=clinic_id, slug=slug, rows=gen.rows, staff=gen.staff,
                      staff_pins={s.name: s.pin for s in STAFF})
