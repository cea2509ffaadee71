"""Queries of the leads context over the clinic's synced ``lead`` rows (the JSON ``data`` of
``sync_row``): open leads per owner, when each person was last given one, the leads a sweep
looks at. Every function takes ``clinic_id`` and filters on it (RLS filters again on PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.states import OPEN_LEAD_STATES
from sync_server.sync.models import SyncRow

OPEN = sorted(s.value for s in OPEN_LEAD_STATES)


def _leads(clinic_id: str) -> Any:
    return (SyncRow.clinic_id == clinic_id) & (SyncRow.entity == "lead") & SyncRow.deleted.is_(False)


def open_leads_per_owner(session: Session, *, clinic_id: str) -> dict[str, int]:
    owner = SyncRow.data["owner_id"].as_string()
    status = SyncRow.data["status"].as_string()
    result = session.execute(
        select(owner, func.count()).where(_leads(clinic_id), status.in_(OPEN), owner.is_not(None)).group_by(owner)
    )
    return {str(staff): int(n) for staff, n in result}


def last_assigned(session: Session, *, clinic_id: str) -> dict[str, str]:
    """The arrival time (ISO text) of the newest lead each staff member owns."""
    owner = SyncRow.data["owner_id"].as_string()
    received = SyncRow.data["received_at"].as_string()
    result = session.execute(
        select(owner, func.max(received)).where(_leads(clinic_id), owner.is_not(None)).group_by(owner)
    )
    return {str(staff): str(at) for staff, at in result if at}


def sweep_candidates(session: Session, *, clinic_id: str, since: str) -> list[tuple[str, dict[str, Any]]]:
    """Open leads that arrived after ``since`` (ISO text) or hold a claim: the ones whose
    timers a sweep checks."""
    status = SyncRow.data["status"].as_string()
    received = SyncRow.data["received_at"].as_string()
    claim = SyncRow.data["claim_expires_at"].as_string()
    result = session.execute(
        select(SyncRow.id, SyncRow.data)
        .where(_leads(clinic_id), status.in_(OPEN), or_(received >= since, claim.is_not(None)))
        .order_by(SyncRow.created_at, SyncRow.id)
    )
    return [(rid, dict(data)) for rid, data in result]


def iso_floor(at: datetime) -> str:
    """``at`` as the ISO text leads store (comparable as text)."""
    from sync_server.sync.service import iso

    return iso(at) or ""
