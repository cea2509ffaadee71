"""Queries of the patients context."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.patients.models import MergeReview


def add_review(session: Session, review: MergeReview) -> None:
    session.add(review)
    session.flush()


def open_reviews(session: Session, *, clinic_id: str) -> Sequence[MergeReview]:
    return session.execute(
        select(MergeReview).where(MergeReview.clinic_id == clinic_id, MergeReview.status == "open")
        .order_by(MergeReview.created_at)
    ).scalars().all()
