"""Believable text threads for the demo clinic: what the desk and its clients said to each other.

From the generated clinic (clients, leads, appointments, staff) this makes, in wire shape:

- the clinic's starter templates (``core.templates.STARTER_TEMPLATES``);
- lead threads of the last few months: the instant acknowledgement of a web, Meta or Google lead,
  or the client's own Instagram DM; the desk's first reply at the lead's ``first_reply_at``;
  often an answer from the client and a booking confirmation;
- appointment reminders for the next two days, with the client's "C" or a question;
- aftercare check-ins after recent treatments, and a few marketing texts ("We miss you") to
  lapsed clients who agreed to marketing (one refused: the client had not agreed);
- one text the carrier could not deliver (30003), to show a failure with its reason;
- read receipts: every thread has been read by the desk except the few most recent client
  messages, which are the unread ones a workstation shows.

Deterministic for one random generator; all times at or before ``now``. Shared by the desktop's
local demo (``app.services.demo``) and the server's demo clinic (``sync_server.demo.generator``);
rows come out in wire shape (ISO text times) and each side stores them its own way.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.ids import new_id
from core.sms import CARRIER_REASONS
from core.templates import STARTER_TEMPLATES, render_template

LEAD_WINDOW = timedelta(days=100)
UNREAD_THREADS = 6
ACK = ("Hi {first}, thanks for reaching out to {clinic}! We got your request{about} and will text you back in a "
       "few minutes. Reply STOP to opt out.")
ANSWERS = {
    "neuromodulators": "Botox is $14 a unit here, and most first visits are 20 to 40 units.",
    "fillers": "Lip filler starts at $750 a syringe, and the consult is free.",
    "lasers": "Laser hair removal comes in packages of 6, and we can test a small spot first.",
    "body": "CoolSculpting starts with a free body assessment so we can plan the applicators.",
    "skin": "HydraFacials are 45 minutes and there is no downtime at all.",
    "wellness": "Our weight-loss program starts with a medical consult with Dr. Moreau.",
}
CLIENT_REPLIES = ("Yes please! Do you have anything Thursday after 4?", "Thank you! Is there parking nearby?",
                  "Great, I'll book online tonight.", "Could I come in Saturday morning?",
                  "Perfect, thanks for the quick reply!", "How long does it usually last?")
CONFIRMS = ("C", "C", "Confirmed, see you then!", "Confirmed, thank you!", "C - can I park in the back lot?",
            "Yes! Running maybe 5 min late")
AFTERCARE_REPLIES = ("Feeling great, thank you!", "A little bruising but otherwise good.",
                     "All good! When should I book my next one?", "Some swelling this morning, is that normal?")
AFTERCARE_ANSWERS = ("So glad to hear it! We will text you when it is time for a touch-up.",
                     "Totally normal for a few days. Arnica and a cold compress help. Text us a photo if it gets "
                     "worse.")


@dataclass
class Threads:
    messages: list[dict[str, Any]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _granted(patient: Mapping[str, Any], purpose: str) -> bool:
    entry = (patient.get("consents") or {}).get(purpose)
    return isinstance(entry, dict) and bool(entry.get("granted"))


class _Builder:
    def __init__(self, *, rng: random.Random, now: datetime, tz: ZoneInfo, clinic_id: str, clinic_name: str,
                 booking_link: str, staff_names: Mapping[str, str], service_names: Mapping[str, str]) -> None:
        self.rng, self.now, self.tz = rng, now, tz
        self.clinic_id, self.clinic_name, self.booking_link = clinic_id, clinic_name, booking_link
        self.staff_names, self.service_names = staff_names, service_names
        self.out = Threads()

    def sid(self) -> str:
        return "SM" + "".join(self.rng.choice("0123456789abcdef") for _ in range(32))

    def add(self, patient: Mapping[str, Any], at: datetime, body: str, *, inbound: bool = False,
            author: str | None = None, kind: str = "manual", channel: str = "sms", purpose: str = "transactional",
            lead_id: str | None = None, template_id: str | None = None, status: str | None = None,
            reason: str | None = None, error: str | None = None) -> datetime:
        if at > self.now - timedelta(seconds=30):
            return self.now + LEAD_WINDOW  # not said yet: neither is anything after it
        if status is None:
            status = "received" if inbound else "delivered"
        sent = status in ("sent", "delivered", "undelivered")
        self.out.messages.append({
            "id": new_id(), "clinic_id": self.clinic_id, "patient_id": patient["id"], "channel": channel,
            "purpose": None if inbound else purpose, "body": body, "template_id": template_id,
            "occurred_at": utc_text(at), "direction": "inbound" if inbound else "outbound",
            "kind": "inbound" if inbound else kind, "lead_id": lead_id, "author_id": None if inbound else author,
            "media": [], "status": status, "status_reason": reason, "error_code": error,
            "provider_message_id": self.sid() if inbound or sent else None, "send_after": None,
            "sent_at": utc_text(at + timedelta(seconds=1)) if sent else None,
            "delivered_at": utc_text(at + timedelta(seconds=4)) if status == "delivered" else None,
        })
        return at

    def first(self, patient: Mapping[str, Any]) -> str:
        return str(patient.get("preferred_name") or patient.get("first_name") or "there")

    def when(self, at: datetime) -> str:
        local = at.astimezone(self.tz)
        return f"{local:%a, %b} {local.day} at {local:%I:%M %p}".replace(" 0", " ")

    def render(self, name: str, patient: Mapping[str, Any], appointment: Mapping[str, Any] | None) -> tuple[str, str]:
        template = next(t for t in self.out.templates if t["name"] == name)
        values = {"first_name": self.first(patient), "clinic_name": self.clinic_name,
                  "booking_link": self.booking_link}
        if appointment is not None:
            values.update(service=self.service_names.get(appointment["service_id"], ""),
                          provider=self.staff_names.get(appointment["provider_id"], ""),
                          appointment_time=self.when(datetime.fromisoformat(appointment["start_at"])))
        return render_template(template["body"], values).text, template["id"]


def build_threads(*, rng: random.Random, now: datetime, tz: ZoneInfo, clinic_id: str, clinic_name: str,
                  booking_link: str, patients: Sequence[Mapping[str, Any]], leads: Sequence[Mapping[str, Any]],
                  appointments: Sequence[Mapping[str, Any]], staff_names: Mapping[str, str],
                  service_names: Mapping[str, str], desk_staff: Sequence[str],
                  interest_of: Mapping[str, str]) -> Threads:
    """The demo clinic's threads (see the module docstring). ``interest_of`` maps a service name
    to its category (for the desk's first answer)."""
    b = _Builder(rng=rng, now=now, tz=tz, clinic_id=clinic_id, clinic_name=clinic_name, booking_link=booking_link,
                 staff_names=staff_names, service_names=service_names)
    b.out.templates = [{"id": new_id(), "clinic_id": clinic_id, "name": t.name, "body": t.body,
                        "purpose": t.purpose, "active": True} for t in STARTER_TEMPLATES]
    by_id = {p["id"]: p for p in patients}
    upcoming: dict[str, Mapping[str, Any]] = {}
    for a in sorted(appointments, key=lambda a: a["start_at"]):
        if a["status"] in ("booked", "confirmed") and datetime.fromisoformat(a["start_at"]) > now:
            upcoming.setdefault(a["patient_id"], a)

    # leads of the last months
    refused_one = False
    for lead in leads:
        patient = by_id.get(lead.get("patient_id") or "")
        received = _when(lead.get("received_at"))
        if patient is None or received is None or received < now - LEAD_WINDOW:
            continue
        source = lead["source"]
        if source not in ("web_form", "meta_lead_ad", "google_ads", "instagram_dm"):
            continue
        texts = bool(patient.get("phone")) and _granted(patient, "transactional_sms")
        if source == "instagram_dm":
            b.add(patient, received, lead.get("message") or "Hi! Do you have openings this week?", inbound=True,
                  channel="instagram", lead_id=lead["id"])
        elif texts:
            about = f" about {lead['service_interest']}" if lead.get("service_interest") else ""
            b.add(patient, received + timedelta(seconds=14), ACK.format(first=b.first(patient), clinic=clinic_name,
                                                                       about=about), kind="lead_ack",
                  lead_id=lead["id"])
        reply_at = _when(lead.get("first_reply_at"))
        if reply_at is None or not patient.get("phone"):
            continue
        owner = lead.get("owner_id") or rng.choice(list(desk_staff))
        desk_first = staff_names.get(owner, "the front desk").split()[0]
        answer = ANSWERS.get(interest_of.get(lead.get("service_interest") or "", ""), ANSWERS["skin"])
        body = (f"Hi {b.first(patient)}, this is {desk_first} at {clinic_name}. {answer} Would you like to come in? "
                f"You can book here: {booking_link}")
        if not texts:
            if refused_one:
                continue
            refused_one = True
            b.add(patient, reply_at, body, author=owner, lead_id=lead["id"], status="refused",
                  reason="This client has not agreed to appointment and service texts, so no text was sent.")
            continue
        b.add(patient, reply_at, body, author=owner, lead_id=lead["id"])
        if rng.random() < 0.6:
            answered = b.add(patient, reply_at + timedelta(minutes=rng.randint(2, 90)), rng.choice(CLIENT_REPLIES),
                             inbound=True)
            booked = upcoming.get(patient["id"])
            if booked is not None and rng.random() < 0.8:
                start = datetime.fromisoformat(booked["start_at"])
                b.add(patient, answered + timedelta(minutes=rng.randint(3, 25)),
                      f"You're all set: {service_names.get(booked['service_id'], 'your visit')} on {b.when(start)} with "
                      f"{staff_names.get(booked['provider_id'], 'us')}. See you then!", author=owner)

    # reminders for the next two days (sent the day before, around 10 AM)
    undelivered_one = False
    for pid, a in upcoming.items():
        patient = by_id.get(pid)
        start = datetime.fromisoformat(a["start_at"])
        if patient is None or not patient.get("phone") or not _granted(patient, "transactional_sms"):
            continue
        day_before = (start.astimezone(tz) - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
        at = day_before.astimezone(UTC) + timedelta(seconds=rng.randint(0, 600))
        if at > now - timedelta(minutes=5) or at < now - timedelta(days=2):
            continue
        body, template_id = b.render("Appointment reminder", patient, a)
        if not undelivered_one and rng.random() < 0.15:
            undelivered_one = True
            b.add(patient, at, body, author=None, kind="reminder", template_id=template_id, status="undelivered",
                  error="30003", reason=CARRIER_REASONS[30003])
            continue
        b.add(patient, at, body, author=None, kind="reminder", template_id=template_id)
        if rng.random() < 0.7:
            b.add(patient, at + timedelta(minutes=rng.randint(3, 240)), rng.choice(CONFIRMS), inbound=True)

    # aftercare the morning after recent treatments
    for a in appointments:
        start = datetime.fromisoformat(a["start_at"])
        if a["status"] != "completed" or not now - timedelta(days=14) < start < now - timedelta(days=1):
            continue
        patient = by_id.get(a["patient_id"])
        if patient is None or not patient.get("phone") or not _granted(patient, "transactional_sms"):
            continue
        if rng.random() > 0.35:
            continue
        next_morning = (start.astimezone(tz) + timedelta(days=1)).replace(hour=11, minute=0, second=0,
                                                                          microsecond=0).astimezone(UTC)
        body, template_id = b.render("Aftercare check-in", patient, a)
        author = rng.choice(list(desk_staff))
        at = b.add(patient, next_morning + timedelta(minutes=rng.randint(0, 50)), body, author=author,
                   template_id=template_id)
        if rng.random() < 0.55:
            reply = rng.choice(AFTERCARE_REPLIES)
            answered = b.add(patient, at + timedelta(minutes=rng.randint(5, 300)), reply, inbound=True)
            if "normal" in reply or "next one" in reply:
                b.add(patient, answered + timedelta(minutes=rng.randint(4, 40)),
                      AFTERCARE_ANSWERS[1] if "normal" in reply else AFTERCARE_ANSWERS[0], author=author)

    # a few marketing texts to lapsed clients (and one that was refused: no marketing consent)
    seen = {a["patient_id"] for a in appointments if datetime.fromisoformat(a["start_at"]) > now - timedelta(days=150)}
    lapsed = [p for p in patients if p["id"] not in seen and p.get("phone")]
    sent_on = (now - timedelta(days=9)).astimezone(tz).replace(hour=11, minute=0, second=0, microsecond=0)
    marketing_sent, refused_marketing = 0, False
    manager = next((sid for sid, name in staff_names.items() if name == "Marcus Mendoza"), None)
    for patient in lapsed:
        if marketing_sent >= 8 and refused_marketing:
            break
        body, template_id = b.render("We miss you", patient, None)
        at = sent_on.astimezone(UTC) + timedelta(minutes=marketing_sent)
        if _granted(patient, "marketing_sms") and marketing_sent < 8:
            marketing_sent += 1
            b.add(patient, at, body, author=manager, purpose="marketing", template_id=template_id)
        elif not _granted(patient, "marketing_sms") and not refused_marketing:
            refused_marketing = True
            b.add(patient, at, body, author=manager, purpose="marketing", template_id=template_id, status="refused",
                  reason="This client has not agreed to marketing texts, so no text was sent.")

    # read receipts: the desk has read everything except the newest few client messages
    inbound: dict[str, list[str]] = {}
    for m in b.out.messages:
        if m["direction"] == "inbound":
            inbound.setdefault(m["patient_id"], []).append(m["occurred_at"])
    newest = sorted(((max(times), pid) for pid, times in inbound.items()), reverse=True)
    unread = {pid for _, pid in newest[:UNREAD_THREADS]}
    for pid, times in inbound.items():
        times = sorted(times)
        up_to = times[-2] if pid in unread and len(times) > 1 else (None if pid in unread else times[-1])
        if up_to is None:
            continue
        read_at = min(now, datetime.fromisoformat(up_to) + timedelta(minutes=rng.randint(1, 30)))
        b.out.reads.append({"id": new_id(), "clinic_id": clinic_id, "patient_id": pid, "up_to": up_to,
                            "staff_id": rng.choice(list(desk_staff)), "read_at": utc_text(read_at)})
    b.out.messages.sort(key=lambda m: m["occurred_at"])
    return b.out
