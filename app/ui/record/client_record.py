"""The client record as the screen shows it: plain, formatted values built on the DB worker.

:class:`ClientRecord` holds the header snapshot (:class:`PatientRecord`), the appointments, the
timeline and a few numbers worked out from the appointments (visits, no-shows, spend, next visit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from app.services.records import AppointmentLine, ClientFile, LeadLine, TimelineEntry, kind_of
from app.ui.formatting import (
    APPOINTMENT_STATUS,
    DEPOSIT_STATUS,
    LEAD_STATUS,
    display_day,
    display_money,
    display_time,
    display_when,
    source_label,
    status_label,
    status_tone,
)
from app.ui.patient_record import PatientRecord
from app.ui.record.routing_entries import describe_routing

#: the timeline filter: (kind or None for everything, label)
TIMELINE_FILTERS: tuple[tuple[str | None, str], ...] = (
    (None, "All"), ("appointments", "Appointments"), ("leads", "Leads"), ("notes", "Notes"),
    ("messages", "Messages"),
)
_CHANNELS = {"sms": "by text", "call": "by phone", "in_person": "in person", "instagram_dm": "by Instagram DM",
             "email": "by email", "online": "online", "desk": "at the desk"}


@dataclass(frozen=True)
class TimelineItem:
    id: str
    kind: str  # appointments, leads, notes, messages, other
    title: str
    detail: str
    when: str
    actor: str
    tone: str
    occurred_at: datetime


@dataclass(frozen=True)
class AppointmentItem:
    id: str
    start_at: datetime
    day: str
    time: str
    service: str
    provider: str
    place: str
    status: str
    status_label: str
    status_tone: str
    deposit_status: str
    deposit_label: str
    deposit_tone: str
    deposit: str
    price: str
    upcoming: bool
    notes: str


@dataclass(frozen=True)
class LeadItem:
    id: str
    source: str
    status: str
    status_tone: str
    received: str
    interest: str
    campaign: str
    owner: str


@dataclass(frozen=True)
class ClientRecord:
    patient: PatientRecord
    appointments: tuple[AppointmentItem, ...]
    timeline: tuple[TimelineItem, ...]
    timeline_more: bool
    leads: tuple[LeadItem, ...]
    kind_counts: dict[str, int]
    visits: int
    no_shows: int
    spent: str
    last_visit: str
    next_visit: str
    client_since: str
    #: the record that was asked for, when it was merged into this one
    merged_from: str | None = None

    @property
    def id(self) -> str:
        return self.patient.id

    @classmethod
    def build(cls, file: ClientFile, *, region: str, today: date, tz: tzinfo | None,
              now: datetime | None = None) -> ClientRecord:
        now = now or datetime.now(tz)
        patient = PatientRecord.from_patient(file.patient, region=region, today=today)
        appointments = tuple(appointment_item(a, tz, today, now) for a in file.appointments)
        done = [a for a in file.appointments if a.status == "completed"]
        upcoming = [a for a in file.appointments if a.start_at >= now and a.status in ("booked", "confirmed")]
        currency = file.appointments[0].currency if file.appointments else "USD"
        nxt = min(upcoming, key=lambda a: a.start_at) if upcoming else None
        since = getattr(file.patient, "created_at", None)
        first_seen = min([a.start_at for a in file.appointments] + ([since] if since else []), default=None)
        return cls(
            patient=patient,
            appointments=appointments,
            timeline=tuple(timeline_item(e, tz, today) for e in file.timeline.entries),
            timeline_more=file.timeline.more,
            leads=tuple(lead_item(lead, tz, today) for lead in file.leads),
            kind_counts=dict(file.kind_counts),
            visits=len(done),
            no_shows=sum(a.status == "no_show" for a in file.appointments),
            spent=display_money(sum(a.price_minor for a in done), currency, cents=False),
            last_visit=display_day(max(a.start_at for a in done).astimezone(tz).date(), today) if done else "",
            next_visit=(f"{display_when(nxt.start_at, tz, today)} \u00b7 {nxt.service}" if nxt else ""),
            client_since=display_day(first_seen.astimezone(tz).date(), None) if first_seen else "",
            merged_from=file.merged_from,
        )


def appointment_item(a: AppointmentLine, tz: tzinfo | None, today: date, now: datetime) -> AppointmentItem:
    local = a.start_at.astimezone(tz) if tz else a.start_at
    end = a.end_at.astimezone(tz) if tz else a.end_at
    place = " \u00b7 ".join(p for p in (a.location, a.room) if p)
    return AppointmentItem(
        id=a.id, start_at=a.start_at, day=display_day(local.date(), today),
        time=f"{display_time(local)} \u2013 {display_time(end)}", service=a.service, provider=a.provider,
        place=place, status=a.status, status_label=status_label(APPOINTMENT_STATUS, a.status),
        status_tone=status_tone(APPOINTMENT_STATUS, a.status), deposit_status=a.deposit_status,
        deposit_label=status_label(DEPOSIT_STATUS, a.deposit_status),
        deposit_tone=status_tone(DEPOSIT_STATUS, a.deposit_status),
        deposit=display_money(a.deposit_minor, a.currency, cents=False) if a.deposit_minor else "",
        price=display_money(a.price_minor, a.currency, cents=False) if a.price_minor else "Free",
        upcoming=a.start_at >= now, notes=a.notes or "",
    )


def lead_item(lead: LeadLine, tz: tzinfo | None, today: date) -> LeadItem:
    return LeadItem(lead.id, source_label(lead.source), status_label(LEAD_STATUS, lead.status),
                    status_tone(LEAD_STATUS, lead.status), display_when(lead.received_at, tz, today),
                    lead.service_interest or "", lead.utm_campaign or "", lead.owner)


def timeline_item(entry: TimelineEntry, tz: tzinfo | None, today: date) -> TimelineItem:
    title, detail, tone = describe(entry.type, entry.payload, tz, today)
    return TimelineItem(entry.id, kind_of(entry.type) or "other", title, detail,
                        display_when(entry.occurred_at, tz, today), entry.actor, tone, entry.occurred_at)


def describe(kind: str, payload: dict[str, Any], tz: tzinfo | None, today: date) -> tuple[str, str, str]:
    """(title, detail, tone) of one timeline entry, in the desk's words."""
    service = str(payload.get("service") or "an appointment")
    start = _when(payload.get("start_at"), tz, today)
    channel = _CHANNELS.get(str(payload.get("channel") or ""), "")
    if kind == "appointment.booked":
        parts = [" ".join(p for p in (f"for {start}" if start else "",
                                       f"with {payload['provider']}" if payload.get("provider") else "") if p),
                 "online" if payload.get("channel") == "online" else ""]
        return f"Booked {service}", " \u00b7 ".join(p for p in parts if p), "accent"
    if kind == "appointment.confirmed":
        return f"Confirmed {service}", " ".join(p for p in (f"for {start}" if start else "", channel) if p), "info"
    if kind == "appointment.completed":
        return f"Completed {service}", start, "ok"
    if kind == "appointment.cancelled":
        return f"Cancelled {service}", f"was booked for {start}" if start else "", "muted"
    if kind == "appointment.late_cancelled":
        return f"Late cancellation: {service}", f"was booked for {start}" if start else "", "danger"
    if kind == "appointment.no_show":
        return f"No-show: {service}", f"was booked for {start}" if start else "", "danger"
    if kind == "lead.received":
        interest = payload.get("service_interest")
        return (f"New lead from {source_label(str(payload.get('source') or ''))}",
                f"interested in {interest}" if interest else "", "info")
    if kind == "lead.contacted":
        return "First reply to the lead", channel, "info"
    if kind == "lead.status_changed":
        status = str(payload.get("status") or payload.get("to") or "")
        return f"Lead marked {status_label(LEAD_STATUS, status).lower()}" if status else "Lead updated", "", "info"
    if kind == "note":
        return "Note", str(payload.get("text") or ""), "vip"
    if kind.startswith("message."):
        return _message_entry(kind, payload)
    routed = describe_routing(kind, payload, tz, today)
    if routed is not None:
        return routed
    return kind.replace(".", " ").replace("_", " ").capitalize(), "", "neutral"


def _message_entry(kind: str, payload: dict[str, Any]) -> tuple[str, str, str]:
    """A timeline line for a message: what happened and its text (the thread is on the
    Messages tab)."""
    dm = payload.get("channel") == "instagram"
    text = str(payload.get("text") or payload.get("body") or "")
    if payload.get("media") and not text:
        text = "Photo attached"
    reason = str(payload.get("reason") or "")
    if kind == "message.received":
        return ("Instagram message from the client" if dm else "Text from the client"), text, "info"
    if kind == "message.outbound":
        if payload.get("kind") in ("lead_ack", "help_reply"):
            return ("Automatic Instagram reply sent" if dm else "Automatic text sent"), text, "info"
        return ("Instagram message sent" if dm else "Text sent"), text, "info"
    if kind == "message.refused":
        return ("Instagram message not sent" if dm else "Text not sent"), reason or text, "danger"
    if kind == "message.failed":
        return ("Instagram message not delivered" if dm else "Text not delivered"), reason or text, "danger"
    if kind == "message.opt_out":
        return "Opted out of texts", f"replied {payload.get('keyword') or 'STOP'}", "warn"
    if kind == "message.opt_in":
        return "Opted back in to texts", f"replied {payload.get('keyword') or 'START'}", "ok"
    return "Message", text, "info"


def _when(value: Any, tz: tzinfo | None, today: date) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return ""
    return display_when(moment, tz, today)
