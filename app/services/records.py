"""The client record: one audited read of everything the record screen shows, and its timeline.

``RecordService.client_file`` returns plain values (plus the detached patient row): the
client's appointments with service, provider and room names resolved, the newest timeline
entries with who did them, the leads that brought the client in, and counts per timeline kind.
``RecordService.timeline`` reads the timeline again under a filter (and pages back in time).
Both append a ``patient.read`` audit entry in the same transaction as the read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.db.models import Patient
from app.db.store import Store
from app.repositories import activities as activity_repo
from app.repositories import appointments as appointment_repo
from app.repositories import clinic as clinic_repo
from app.repositories import desk_reads
from app.repositories import leads as lead_repo
from app.repositories import merge_reviews as review_repo
from app.repositories import messages as message_repo
from app.repositories import patients as patient_repo
from app.repositories.context import Actor, Ctx
from app.repositories.messages import INBOUND
from app.repositories.uow import unit_of_work
from core.errors import NotFoundError
from core.permissions import Permission, has_permission, require

#: Timeline filter kinds: name -> activity types (a name ending in "." is a prefix)
TIMELINE_KINDS: dict[str, tuple[str, ...]] = {
    "appointments": ("appointment.",),
    "leads": ("lead.",),
    "notes": (activity_repo.NOTE,),
    "messages": ("message.",),
}
#: what the server notes on the timeline about a message (sent, received, refused, not
#: delivered): the timeline shows the messages themselves instead, one entry each with its text
#: and what became of it, whoever wrote them (the server, this workstation, the demo clinic)
MESSAGE_EVENTS = ("message.received", "message.outbound", "message.refused", "message.failed")
TIMELINE_PAGE = 100
#: characters of a message's text on its timeline entry (the whole text is on the Messages tab)
SNIPPET = 160
GONE = "That client no longer exists (it may have been merged or deleted)."


@dataclass(frozen=True)
class AppointmentLine:
    id: str
    start_at: datetime
    end_at: datetime
    service: str
    provider: str
    location: str
    room: str
    status: str
    deposit_status: str
    deposit_minor: int
    price_minor: int
    currency: str
    tentative: bool
    notes: str | None


@dataclass(frozen=True)
class TimelineEntry:
    id: str
    type: str
    occurred_at: datetime
    actor: str  # the staff member's name; "" for the system or an online action
    payload: dict[str, Any]


@dataclass(frozen=True)
class LeadLine:
    id: str
    source: str
    status: str
    received_at: datetime
    first_reply_at: datetime | None
    service_interest: str | None
    message: str | None
    utm_campaign: str | None
    owner: str


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    kind: str | None
    more: bool  # older entries exist beyond these


@dataclass(frozen=True)
class ClientFile:
    patient: Patient  # detached from the session: read its attributes freely
    appointments: list[AppointmentLine]
    timeline: Timeline
    leads: list[LeadLine]
    kind_counts: dict[str, int] = field(default_factory=dict)  # TIMELINE_KINDS name -> entries
    #: the record asked for, when it was merged into this one (the screen follows to the survivor)
    merged_from: str | None = None


def kind_of(activity_type: str) -> str | None:
    """The TIMELINE_KINDS name an activity type falls under, if any."""
    for name, patterns in TIMELINE_KINDS.items():
        for pattern in patterns:
            if activity_type == pattern or (pattern.endswith(".") and activity_type.startswith(pattern)):
                return name
    return None


class RecordService:
    def __init__(self, store: Store, *, clinic_id: str) -> None:
        self.store = store
        self.clinic_id = clinic_id

    def client_file(self, *, actor: Actor, patient_id: str, timeline_limit: int = TIMELINE_PAGE) -> ClientFile:
        if actor.role:
            require(actor.role, Permission.PATIENT_READ)
        with unit_of_work(self.store, actor) as ctx:
            asked = patient_id
            patient_id = review_repo.surviving_id(ctx, patient_id) or patient_id
            patient = patient_repo.get(ctx, patient_id, purpose="record")
            if patient is None:
                raise NotFoundError(GONE)
            names = _Names(ctx, self.clinic_id)
            appointments = (
                [names.appointment(a) for a in appointment_repo.for_patient(ctx, patient_id)]
                if not actor.role or has_permission(actor.role, Permission.APPOINTMENT_READ) else []
            )
            leads = (
                [names.lead(lead) for lead in lead_repo.for_patient(ctx, patient_id)]
                if not actor.role or has_permission(actor.role, Permission.LEAD_READ) else []
            )
            timeline = _timeline(ctx, names, patient_id, None, None, timeline_limit)
            counts: dict[str, int] = {}
            for activity_type, n in desk_reads.activity_type_counts(ctx, patient_id).items():
                kind = kind_of(activity_type)
                if kind is not None and activity_type not in MESSAGE_EVENTS:
                    counts[kind] = counts.get(kind, 0) + n
            messages = message_repo.count_for(ctx, patient_id)
            if messages:
                counts["messages"] = counts.get("messages", 0) + messages
            ctx.session.expunge(patient)
        return ClientFile(patient, appointments, timeline, leads, counts,
                          merged_from=asked if asked != patient_id else None)

    def timeline(self, *, actor: Actor, patient_id: str, kind: str | None = None,
                 before: datetime | None = None, limit: int = TIMELINE_PAGE) -> Timeline:
        """The timeline newest first, of one kind (``None``: every entry), older than ``before``."""
        if actor.role:
            require(actor.role, Permission.PATIENT_READ)
        if kind is not None and kind not in TIMELINE_KINDS:
            raise ValueError(f"unknown timeline kind {kind!r}")
        with unit_of_work(self.store, actor) as ctx:
            patient_id = review_repo.surviving_id(ctx, patient_id) or patient_id
            if patient_repo.get(ctx, patient_id, purpose="timeline") is None:
                raise NotFoundError(GONE)
            return _timeline(ctx, _Names(ctx, self.clinic_id), patient_id, kind, before, limit)


def _timeline(ctx: Ctx, names: _Names, patient_id: str, kind: str | None, before: datetime | None,
              limit: int) -> Timeline:
    """Activities and messages, newest first: ``limit`` of them, and whether older ones exist."""
    types = TIMELINE_KINDS[kind] if kind is not None else None
    rows = activity_repo.for_patient(ctx, patient_id, types=types, before=before, limit=limit + 1,
                                     exclude=MESSAGE_EVENTS)
    entries = [TimelineEntry(a.id, a.type, a.occurred_at, names.staff.get(a.actor_id or "", ""),
                             names.payload(a.payload)) for a in rows]
    if kind in (None, "messages"):
        entries += [names.message(m) for m in message_repo.for_timeline(ctx, patient_id, before=before,
                                                                         limit=limit + 1)]
        entries.sort(key=lambda e: (e.occurred_at, e.id), reverse=True)
    return Timeline(entries[:limit], kind, len(entries) > limit)


class _Names:
    """Display names of the clinic's staff, services, rooms and locations (inactive ones too)."""

    def __init__(self, ctx: Ctx, clinic_id: str) -> None:
        self.staff = {s.id: s.display_name for s in clinic_repo.list_staff(ctx, clinic_id, active_only=False)}
        self.services = {s.id: s.name for s in clinic_repo.list_services(ctx, clinic_id, active_only=False)}
        self.rooms = {r.id: r.name for r in clinic_repo.list_rooms(ctx, clinic_id, active_only=False)}
        self.locations = {loc.id: loc.name for loc in clinic_repo.list_locations(ctx, clinic_id)}

    def payload(self, payload: dict[str, Any] | None) -> dict[str, Any]:
        """A copy of an activity's payload with staff ids named (``provider_id`` -> ``provider``)."""
        out = dict(payload or {})
        if out.get("provider_id"):
            out["provider"] = self.staff.get(str(out["provider_id"]), "")
        return out

    def appointment(self, a: Any) -> AppointmentLine:
        return AppointmentLine(
            id=a.id, start_at=a.start_at, end_at=a.end_at, service=self.services.get(a.service_id, "Service"),
            provider=self.staff.get(a.provider_id, ""), location=self.locations.get(a.location_id or "", ""),
            room=self.rooms.get(a.room_id or "", ""), status=a.status, deposit_status=a.deposit_status,
            deposit_minor=a.deposit_minor, price_minor=a.price_minor, currency=a.currency,
            tentative=bool(a.tentative), notes=a.notes,
        )

    def message(self, m: Any) -> TimelineEntry:
        """A message as a timeline entry of the type the server would note it with."""
        if m.direction == INBOUND:
            kind = "message.received"
        elif m.status == "refused":
            kind = "message.refused"
        elif m.status in ("failed", "undelivered"):
            kind = "message.failed"
        else:
            kind = "message.outbound"
        text = " ".join(str(m.body or "").split())
        payload = {"channel": m.channel, "kind": m.kind, "status": m.status,
                   "text": text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "\u2026"}
        if m.status_reason:
            payload["reason"] = m.status_reason
        if m.media:
            payload["media"] = len(m.media)
        return TimelineEntry(m.id, kind, m.occurred_at, self.staff.get(m.author_id or "", ""), payload)

    def lead(self, lead: Any) -> LeadLine:
        return LeadLine(
            id=lead.id, source=lead.source, status=lead.status, received_at=lead.received_at,
            first_reply_at=lead.first_reply_at, service_interest=lead.service_interest, message=lead.message,
            utm_campaign=lead.utm_campaign, owner=self.staff.get(lead.owner_id or "", ""),
        )
