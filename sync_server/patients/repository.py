"""Queries of the patients context."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sync_server.patients.models import MergeReview
from sync_server.sync.models import SyncRow


def add_review(session: Session, review: MergeReview) -> None:
    session.add(review)
    session.flush()


def get_review(session: Session, *, clinic_id: str, review_id: str) -> MergeReview | None:
    return session.execute(
        select(MergeReview).where(MergeReview.clinic_id == clinic_id, MergeReview.id == review_id)
    ).scalar_one_or_none()


def open_reviews(session: Session, *, clinic_id: str) -> Sequence[MergeReview]:
    return session.execute(
        select(MergeReview).where(MergeReview.clinic_id == clinic_id, MergeReview.status == "open")
        .order_by(MergeReview.created_at)
    ).scalars().all()


def reviews_naming(session: Session, *, clinic_id: str, patient_id: str) -> Sequence[MergeReview]:
    """Every review (any status) with this record on either side."""
    return session.execute(
        select(MergeReview).where(
            MergeReview.clinic_id == clinic_id,
            or_(MergeReview.patient_id == patient_id, MergeReview.candidate_id == patient_id),
        ).order_by(MergeReview.created_at)
    ).scalars().all()


def same_last_name(session: Session, *, clinic_id: str, last_name: str) -> list[tuple[str, dict[str, Any]]]:
    """Live client records whose last name is ``last_name`` ignoring case, oldest first (the
    name candidates of :func:`core.dedup.decide`; a scan like ``ServerWrites.find``)."""
    stmt = select(SyncRow.id, SyncRow.data).where(
        SyncRow.clinic_id == clinic_id, SyncRow.entity == "patient", SyncRow.deleted.is_(False),
        func.lower(SyncRow.data["last_name"].as_string()) == last_name.lower(),
    ).order_by(SyncRow.created_at, SyncRow.id)
    return [(rid, dict(data)) for rid, data in session.execute(stmt)]
