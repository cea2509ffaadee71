"""The lead board: leads with their person, filtered by status, source, owner and arrival time,
with who owns and who has claimed each, its reply deadline and whether a missed reply was
escalated (server-owned facts, as last synced; the screen counts the timers down itself)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.db.store import Store
from app.repositories import activities as activity_repo
from app.repositories import clinic as clinic_repo
from app.repositories import desk_reads
from app.repositories import leads as lead_repo
from app.repositories import rows as row_repo
from app.repositories.context import Actor
from app.repositories.leads import SOURCES
from app.repositories.uow import unit_of_work
from core.errors import NotFoundError
from core.permissions import Permission, require
from core.states import LeadStatus

UNASSIGNED = desk_reads.UNASSIGNED
__all__ = ["SOURCES", "UNASSIGNED", "LeadService", "LeadFilter", "LeadBoard", "LeadRow"]
#: the statuses of a lead someone still has to work
OPEN_STATUSES: tuple[str, ...] = (LeadStatus.NEW.value, LeadStatus.CONTACTED.value, LeadStatus.QUALIFIED.value)
ALL_STATUSES: tuple[str, ...] = tuple(s.value for s in LeadStatus)
#: arrival windows the board offers: name -> days back (None: any time)
PERIODS: dict[str, int | None] = {"today": 1, "7d": 7, "30d": 30, "90d": 90, "all": None}
BOARD_LIMIT = 500


@dataclass(frozen=True)
class LeadFilter:
    statuses: tuple[str, ...] | None = OPEN_STATUSES  # None: every status
    source: str | None = None
    owner_id: str | None = None  # a staff id, or UNASSIGNED
    period: str = "all"
    escalated: bool = False  # only leads whose missed first reply was escalated

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"unknown period {self.period!r}")
        if self.source is not None and self.source not in SOURCES:
            raise ValueError(f"unknown lead source {self.source!r}")
        if self.statuses is not None and not set(self.statuses) <= set(ALL_STATUSES):
            raise ValueError("unknown lead status")


@dataclass(frozen=True)
class LeadRow:
    id: str
    patient_id: str | None
    first_name: str | None
    last_name: str | None
    preferred_name: str | None
    date_of_birth: date | None
    phone: str | None
    source: str
    status: str
    service_interest: str | None
    message: str | None
    utm_campaign: str | None
    owner_id: str | None
    owner: str  # the owner's name, "" when nobody owns it
    received_at: datetime
    first_reply_at: datetime | None
    claimed_by: str | None = None
    claimed_by_name: str = ""
    claimed_at: datetime | None = None
    claim_expires_at: datetime | None = None  # None with a claim: kept after contact
    sla_due_at: datetime | None = None
    escalated_at: datetime | None = None
    escalated_to_name: str = ""

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def waiting_for_reply(self) -> bool:
        """Still new and unanswered: its reply timer runs."""
        return self.status == LeadStatus.NEW.value and self.first_reply_at is None


@dataclass(frozen=True)
class StaffName:
    id: str
    name: str


@dataclass(frozen=True)
class LeadBoard:
    rows: list[LeadRow]
    #: {status: count} under the filter's source, owner and period (every status)
    status_counts: dict[str, int]
    #: the staff who may own a lead (for the owner filter)
    staff: list[StaffName] = field(default_factory=list)
    limited: bool = False  # more leads match than the board shows
    #: open leads escalated for a missed reply and still unanswered (managers see a banner)
    escalations: int = 0


class LeadService:
    def __init__(self, store: Store, *, clinic_id: str) -> None:
        self.store = store
        self.clinic_id = clinic_id

    def board(self, *, actor: Actor, filter: LeadFilter | None = None, limit: int = BOARD_LIMIT) -> LeadBoard:
        if actor.role:
            require(actor.role, Permission.LEAD_READ)
        f = filter or LeadFilter()
        days = PERIODS[f.period]
        since = self.store.clock.now() - timedelta(days=days) if days is not None else None
        with unit_of_work(self.store, actor) as ctx:
            staff = clinic_repo.list_staff(ctx, self.clinic_id, active_only=False)
            names = {s.id: s.display_name for s in staff}
            found = desk_reads.lead_board(ctx, self.clinic_id, statuses=f.statuses, source=f.source,
                                          owner_id=f.owner_id, since=since, escalated=f.escalated, limit=limit + 1)
            counts = desk_reads.lead_status_counts(ctx, self.clinic_id, source=f.source, owner_id=f.owner_id,
                                                   since=since, escalated=f.escalated)
            escalations = desk_reads.waiting_escalations(ctx, self.clinic_id, OPEN_STATUSES)
            rows = [
                LeadRow(
                    id=r.lead.id, patient_id=r.lead.patient_id if r.first_name is not None else None,
                    first_name=r.first_name, last_name=r.last_name, preferred_name=r.preferred_name,
                    date_of_birth=r.date_of_birth, phone=r.phone, source=r.lead.source, status=r.lead.status,
                    service_interest=r.lead.service_interest, message=r.lead.message,
                    utm_campaign=r.lead.utm_campaign, owner_id=r.lead.owner_id,
                    owner=names.get(r.lead.owner_id or "", ""), received_at=r.lead.received_at,
                    first_reply_at=r.lead.first_reply_at, claimed_by=r.lead.claimed_by,
                    claimed_by_name=names.get(r.lead.claimed_by or "", ""), claimed_at=r.lead.claimed_at,
                    claim_expires_at=r.lead.claim_expires_at, sla_due_at=r.lead.sla_due_at,
                    escalated_at=r.lead.escalated_at, escalated_to_name=names.get(r.lead.escalated_to or "", ""),
                )
                for r in found[:limit]
            ]
            active = [StaffName(s.id, s.display_name) for s in staff if s.active]
        return LeadBoard(rows, counts, active, len(found) > limit, escalations)

    def log_call(self, *, actor: Actor, lead_id: str) -> None:
        """The signed-in person called the lead: a ``lead.contacted`` timeline entry (a call), and
        a new lead becomes contacted. Works offline; the server counts the call as contact (it
        keeps their claim and meets the reply deadline) once it arrives."""
        if actor.role:
            require(actor.role, Permission.LEAD_WRITE)
        with unit_of_work(self.store, actor) as ctx:
            lead = lead_repo.get(ctx, lead_id)
            if lead is None:
                raise NotFoundError("That lead no longer exists.")
            now = ctx.now()
            activity_repo.append(ctx, clinic_id=self.clinic_id, type=activity_repo.LEAD_CONTACTED, occurred_at=now,
                                 patient_id=lead.patient_id, lead_id=lead.id, payload={"channel": "call"})
            if lead.status == LeadStatus.NEW.value:
                row_repo.update(ctx, lead, {"status": LeadStatus.CONTACTED.value})
