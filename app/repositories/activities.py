"""The client timeline: append-only activity entries (never edited, never deleted).

Each entry goes out as an ``append`` outbox entry (see ``APPEND_ONLY`` in the models), so entries
made on two workstations never conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from app.db.models import Activity
from app.repositories import rows
from app.repositories.clinic import bulk_insert
from app.repositories.context import Ctx

# Activity types written so far (free text in the table; these are the names code uses).
LEAD_RECEIVED = "lead.received"
LEAD_CONTACTED = "lead.contacted"
LEAD_STATUS = "lead.status_changed"
APPOINTMENT_BOOKED = "appointment.booked"
APPOINTMENT_CONFIRMED = "appointment.confirmed"
APPOINTMENT_COMPLETED = "appointment.completed"
APPOINTMENT_CANCELLED = "appointment.cancelled"
APPOINTMENT_LATE_CANCELLED = "appointment.late_cancelled"
APPOINTMENT_NO_SHOW = "appointment.no_show"
NOTE = "note"


def append(
    ctx: Ctx,
    *,
    clinic_id: str,
    type: str,
    occurred_at: datetime,
    patient_id: str | None = None,
    lead_id: str | None = None,
    payload: dict[str, Any] | None = None,
    actor_id: str | None = None,
) -> Activity:
    """Append one entry; the actor defaults to whoever acts in ``ctx``."""
    return rows.insert(
        ctx,
        Activity(
            clinic_id=clinic_id,
            patient_id=patient_id,
            lead_id=lead_id,
            type=type,
            actor_id=actor_id if actor_id is not None else ctx.actor.staff_id,
            occurred_at=occurred_at,
            payload=payload or {},
        ),
    )


def append_many(ctx: Ctx, activities: Iterable[Activity]) -> int:
    """Append many timeline entries, with the bookkeeping and outbox entry of
    :func:`append`, in batches (see :func:`app.repositories.clinic.bulk_insert`)."""
    return bulk_insert(ctx, Activity, activities)


def for_patient(
    ctx: Ctx,
    patient_id: str,
    *,
    types: Iterable[str] | None = None,
    before: datetime | None = None,
    limit: int | None = 100,
    exclude: Iterable[str] = (),
) -> list[Activity]:
    """A client's timeline, newest first; ``types`` filters (a type name or a prefix ending in
    ``.``, e.g. ``"appointment."``), ``exclude`` leaves these types out; ``before`` pages back
    in time."""
    query = select(Activity).where(Activity.patient_id == patient_id, Activity.deleted.is_(False))
    left_out = list(exclude)
    if left_out:
        query = query.where(Activity.type.not_in(left_out))
    if types is not None:
        wanted = list(types)
        exact = [t for t in wanted if not t.endswith(".")]
        prefixes = [t for t in wanted if t.endswith(".")]
        conditions: list[ColumnElement[bool]] = [Activity.type.in_(exact)] if exact else []
        conditions += [Activity.type.startswith(p, autoescape=True) for p in prefixes]
        if not conditions:
            return []
        query = query.where(or_(*conditions))
    if before is not None:
        query = query.where(Activity.occurred_at < before)
    query = query.order_by(Activity.occurred_at.desc(), Activity.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(ctx.session.execute(query).scalars())


def for_lead(ctx: Ctx, lead_id: str) -> list[Activity]:
    """A lead's entries, newest first."""
    return list(
        ctx.session.execute(
            select(Activity)
            .where(Activity.lead_id == lead_id, Activity.deleted.is_(False))
            .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        ).scalars()
    )
