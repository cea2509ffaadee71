"""Leads: create (one or in bulk), read, and list for the desk's lead board and for a client."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import select

from app.db.models import Lead
from app.repositories import rows
from app.repositories.clinic import bulk_insert
from app.repositories.context import Ctx

#: Where a lead came from (DOMAIN.md "Lead sources and attribution").
SOURCES = (
    "meta_lead_ad",
    "instagram_dm",
    "sms",  # a text from an unknown number (the server opens a lead for it)
    "google_ads",
    "web_form",
    "phone",
    "walk_in",
    "referral",
    "manual",
)


def create(ctx: Ctx, lead: Lead) -> Lead:
    return rows.insert(ctx, lead)


def create_many(ctx: Ctx, leads: Iterable[Lead]) -> int:
    """Insert many leads, with the bookkeeping and outbox entry of
    :func:`create`, in batches (see :func:`app.repositories.clinic.bulk_insert`)."""
    return bulk_insert(ctx, Lead, leads)


def get(ctx: Ctx, lead_id: str) -> Lead | None:
    lead = ctx.session.get(Lead, lead_id)
    return None if lead is None or lead.deleted else lead


def list_leads(
    ctx: Ctx,
    clinic_id: str,
    *,
    statuses: Iterable[str] | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 200,
) -> list[Lead]:
    """Leads newest first, optionally by status, source and time received ([since, until))."""
    query = select(Lead).where(Lead.clinic_id == clinic_id, Lead.deleted.is_(False))
    if statuses is not None:
        query = query.where(Lead.status.in_(list(statuses)))
    if source is not None:
        query = query.where(Lead.source == source)
    if since is not None:
        query = query.where(Lead.received_at >= since)
    if until is not None:
        query = query.where(Lead.received_at < until)
    query = query.order_by(Lead.received_at.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(ctx.session.execute(query).scalars())


def for_patient(ctx: Ctx, patient_id: str) -> list[Lead]:
    """A client's leads, newest first."""
    return list(
        ctx.session.execute(
            select(Lead)
            .where(Lead.patient_id == patient_id, Lead.deleted.is_(False))
            .order_by(Lead.received_at.desc())
        ).scalars()
    )


def count_by(ctx: Ctx, clinic_id: str, column: str) -> dict[str, int]:
    """{value: count} of live leads grouped by ``column`` ("source" or "status")."""
    if column not in ("source", "status"):
        raise ValueError("leads can be counted by source or status")
    col = getattr(Lead, column)
    result = ctx.session.execute(
        select(col, sa.func.count())
        .where(Lead.clinic_id == clinic_id, Lead.deleted.is_(False))
        .group_by(col)
    )
    return {str(value): int(n) for value, n in result}
