"""Possible duplicates the server found (``merge_review``, server-only rows, read here)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import select

from app.db.models import Appointment, Lead, MergeReview, Patient
from app.repositories.context import Ctx


def open_reviews(ctx: Ctx, clinic_id: str) -> list[MergeReview]:
    """Open reviews, oldest first."""
    return list(ctx.session.execute(
        select(MergeReview).where(MergeReview.clinic_id == clinic_id, MergeReview.deleted.is_(False),
                                  MergeReview.status == "open").order_by(MergeReview.opened_at, MergeReview.id)
    ).scalars())


def count_open(ctx: Ctx, clinic_id: str) -> int:
    return int(ctx.session.execute(
        select(sa.func.count()).select_from(MergeReview).where(
            MergeReview.clinic_id == clinic_id, MergeReview.deleted.is_(False), MergeReview.status == "open")
    ).scalar_one())


def get(ctx: Ctx, review_id: str) -> MergeReview | None:
    review = ctx.session.get(MergeReview, review_id)
    return None if review is None or review.deleted else review


def history_counts(ctx: Ctx, patient_id: str) -> tuple[int, int]:
    """(appointments, leads) on a client record: what staff weigh when choosing the one to keep."""
    appointments = ctx.session.execute(select(sa.func.count()).select_from(Appointment).where(
        Appointment.patient_id == patient_id, Appointment.deleted.is_(False))).scalar_one()
    leads = ctx.session.execute(select(sa.func.count()).select_from(Lead).where(
        Lead.patient_id == patient_id, Lead.deleted.is_(False))).scalar_one()
    return int(appointments), int(leads)


def surviving_id(ctx: Ctx, patient_id: str) -> str | None:
    """The record a merged-away client record now lives on (following merges of merges); None
    when the record is not a merged-away one."""
    seen: set[str] = set()
    current, survivor = patient_id, None
    while current not in seen:
        seen.add(current)
        row = ctx.session.get(Patient, current)
        if row is None or not row.deleted or not row.merged_into:
            break
        survivor = current = row.merged_into
    return survivor
