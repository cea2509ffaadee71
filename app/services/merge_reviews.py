"""Possible duplicates for the desk: each open review with both client records side by side, the
details that differ, and how much history each record holds. Reading the two records is an
audited read of each (``patient.read``, purpose ``merge review``). Resolving a review is the
server's decision (:mod:`app.sync.requests`), made from the duplicates screen while online.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.db.models import Patient
from app.db.store import Store
from app.repositories import merge_reviews as review_repo
from app.repositories import patients as patient_repo
from app.repositories import rows
from app.repositories.context import Actor
from app.repositories.uow import unit_of_work
from core.dedup import SAME_NAME, SAME_NAME_OTHER_PHONE, differing
from core.permissions import Permission, require

REASONS = {SAME_NAME_OTHER_PHONE: "Same name, another mobile number",
           SAME_NAME: "Same name, not enough else in common to be sure"}


@dataclass(frozen=True)
class RecordSide:
    id: str
    data: dict[str, Any]  # every detail of the record, as stored
    appointments: int
    leads: int

    @property
    def name(self) -> str:
        first = self.data.get("preferred_name") or self.data.get("first_name") or ""
        return f"{first} {self.data.get('last_name') or ''}".strip()


@dataclass(frozen=True)
class ReviewCase:
    id: str
    reason: str
    opened_at: datetime
    left: RecordSide  # the record that was already there
    right: RecordSide  # the newer record (the one the match created)
    differs: list[str] = field(default_factory=list)

    @property
    def suggested_survivor(self) -> str:
        """The record with more history (the older one on a tie)."""
        a, b = self.left, self.right
        return b.id if (b.appointments + b.leads) > (a.appointments + a.leads) else a.id


class MergeReviewService:
    def __init__(self, store: Store, *, clinic_id: str) -> None:
        self.store = store
        self.clinic_id = clinic_id

    def open_cases(self, *, actor: Actor) -> list[ReviewCase]:
        if actor.role:
            require(actor.role, Permission.PATIENT_MERGE)
        out: list[ReviewCase] = []
        with unit_of_work(self.store, actor) as ctx:
            for review in review_repo.open_reviews(ctx, self.clinic_id):
                sides = []
                for patient_id in (review.candidate_id, review.patient_id):
                    patient = patient_repo.get(ctx, patient_id, purpose="merge review")
                    if patient is None:
                        break
                    sides.append(RecordSide(patient.id, _data(patient), *review_repo.history_counts(ctx, patient.id)))
                if len(sides) == 2:
                    out.append(ReviewCase(review.id, REASONS.get(review.reason, review.reason.replace("_", " ")),
                                          review.opened_at, sides[0], sides[1], differing(sides[0].data, sides[1].data)))
        return out

    def count_open(self, *, actor: Actor) -> int:
        with unit_of_work(self.store, actor) as ctx:
            return review_repo.count_open(ctx, self.clinic_id)


def _data(patient: Patient) -> dict[str, Any]:
    return {name: getattr(patient, name) for name in rows.data_fields(Patient)}
