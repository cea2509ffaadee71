"""The lead board: leads with their person, filtered by status, source, owner and arrival time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.db.store import Store
from app.repositories import clinic as clinic_repo
from app.repositories import desk_reads
from app.repositories.context import Actor
from app.repositories.leads import SOURCES
from app.repositories.uow import unit_of_work
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
                                          owner_id=f.owner_id, since=since, limit=limit + 1)
            counts = desk_reads.lead_status_counts(ctx, self.clinic_id, source=f.source, owner_id=f.owner_id,
                                                   since=since)
            rows = [
                LeadRow(
                    id=r.lead.id, patient_id=r.lead.patient_id if r.first_name is not None else None,
                    first_name=r.first_name, last_name=r.last_name, preferred_name=r.preferred_name,
                    date_of_birth=r.date_of_birth, phone=r.phone, source=r.lead.source, status=r.lead.status,
                    service_interest=r.lead.service_interest, message=r.lead.message,
                    utm_campaign=r.lead.utm_campaign, owner_id=r.lead.owner_id,
                    owner=names.get(r.lead.owner_id or "", ""), received_at=r.lead.received_at,
                    first_reply_at=r.lead.first_reply_at,
                )
                for r in found[:limit]
            ]
            active = [StaffName(s.id, s.display_name) for s in staff if s.active]
        return LeadBoard(rows, counts, active, len(found) > limit)
