"""Queries of the patients context."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sync_server.patients.models import MergeReview


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
