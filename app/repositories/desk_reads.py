"""Read-only queries the desk's screens need beyond the entity repositories.

- the lead board: leads with the person they belong to, in one query, filtered and newest first;
- counts of leads per status under the same filters (the filter buttons show them);
- counts of a client's timeline entries per type (the timeline filter shows them).

Nothing here writes; nothing here is audited (no chart is read: names and birthdays only, as the
search results show).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import select

from app.db.models import Activity, Lead, Patient
from app.repositories.context import Ctx

#: owner filter value for leads nobody owns
UNASSIGNED = "__unassigned__"


@dataclass(frozen=True)
class BoardRow:
    lead: Lead
    first_name: str | None
    last_name: str | None
    preferred_name: str | None
    date_of_birth: date | None
    phone: str | None


def _lead_filters(
    clinic_id: str, *, source: str | None, owner_id: str | None, since: datetime | None, escalated: bool = False
) -> list[sa.ColumnElement[bool]]:
    filters: list[sa.ColumnElement[bool]] = [Lead.clinic_id == clinic_id, Lead.deleted.is_(False)]
    if escalated:
        filters.append(Lead.escalated_at.is_not(None))
    if source is not None:
        filters.append(Lead.source == source)
    if owner_id == UNASSIGNED:
        filters.append(Lead.owner_id.is_(None))
    elif owner_id is not None:
        filters.append(Lead.owner_id == owner_id)
    if since is not None:
        filters.append(Lead.received_at >= since)
    return filters


def lead_board(
    ctx: Ctx,
    clinic_id: str,
    *,
    statuses: Iterable[str] | None = None,
    source: str | None = None,
    owner_id: str | None = None,
    since: datetime | None = None,
    escalated: bool = False,
    limit: int = 500,
) -> list[BoardRow]:
    """Leads newest first with their person's name, birthday and phone (outer join: a lead not
    yet matched to a client comes with ``None`` for those); ``escalated``: only leads whose
    first reply was missed and escalated."""
    filters = _lead_filters(clinic_id, source=source, owner_id=owner_id, since=since, escalated=escalated)
    if statuses is not None:
        filters.append(Lead.status.in_(list(statuses)))
    query = (
        select(Lead, Patient.first_name, Patient.last_name, Patient.preferred_name, Patient.date_of_birth,
               Patient.phone)
        .outerjoin(Patient, sa.and_(Patient.id == Lead.patient_id, Patient.deleted.is_(False)))
        .where(*filters)
        .order_by(Lead.received_at.desc(), Lead.id.desc())
        .limit(limit)
    )
    return [BoardRow(lead, first, last, preferred, dob, phone)
            for lead, first, last, preferred, dob, phone in ctx.session.execute(query)]


def lead_status_counts(
    ctx: Ctx, clinic_id: str, *, source: str | None = None, owner_id: str | None = None,
    since: datetime | None = None, escalated: bool = False,
) -> dict[str, int]:
    """{status: count} of live leads under the filters other than status."""
    filters = _lead_filters(clinic_id, source=source, owner_id=owner_id, since=since, escalated=escalated)
    result = ctx.session.execute(select(Lead.status, sa.func.count()).where(*filters).group_by(Lead.status))
    return {str(status): int(n) for status, n in result}


def waiting_escalations(ctx: Ctx, clinic_id: str, statuses: Iterable[str]) -> int:
    """Open leads escalated for a missed first reply and still unanswered (the managers' banner)."""
    return int(ctx.session.execute(
        select(sa.func.count()).select_from(Lead).where(
            Lead.clinic_id == clinic_id, Lead.deleted.is_(False), Lead.escalated_at.is_not(None),
            Lead.first_reply_at.is_(None), Lead.status.in_(list(statuses)))
    ).scalar_one())


def activity_type_counts(ctx: Ctx, patient_id: str) -> dict[str, int]:
    """{activity type: count} of a client's live timeline entries."""
    result = ctx.session.execute(
        select(Activity.type, sa.func.count())
        .where(Activity.patient_id == patient_id, Activity.deleted.is_(False))
        .group_by(Activity.type)
    )
    return {str(kind): int(n) for kind, n in result}
