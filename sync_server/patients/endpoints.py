"""The desk's merge-review API under ``/api/v1`` (needs ``patient.merge``; the server decides):

- ``POST /merge-reviews/{review_id}/merge`` with :class:`MergeRequest`: the two records become one
  (see :mod:`sync_server.patients.merge`); answers the survivor, the merged-away tombstone and
  the closed review.
- ``POST /merge-reviews/{review_id}/dismiss``: "not the same person"; answers the closed review.

``409`` with a sentence when the review was already resolved or a record is gone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from core.permissions import Permission, require
from sync_server.deps import CurrentDevice, CurrentStaff, SessionDep
from sync_server.patients import merge as merging
from sync_server.patients.schemas import MergeRequest
from sync_server.records.api import answer, writes_for
from sync_server.records.schemas import ServerChanges

router = APIRouter(tags=["patients"])


@router.post("/merge-reviews/{review_id}/merge", response_model=ServerChanges)
def merge_records(review_id: str, body: MergeRequest, request: Request, session: SessionDep, device: CurrentDevice,
                  staff: CurrentStaff) -> ServerChanges:
    require(staff.role, Permission.PATIENT_MERGE)
    writes = writes_for(request, session, device, staff)
    outcome = merging.merge(writes, review_id=review_id, survivor_id=body.survivor_id, keep=dict(body.keep),
                            staff_id=staff.id)
    moved = sum(outcome.moved.values())
    return answer(writes, ("patient", outcome.survivor_id), ("patient", outcome.merged_id),
                  ("merge_review", review_id),
                  message=f"The two records are now one; {moved} related item{'s' if moved != 1 else ''} moved.")


@router.post("/merge-reviews/{review_id}/dismiss", response_model=ServerChanges)
def dismiss_review(review_id: str, request: Request, session: SessionDep, device: CurrentDevice,
                   staff: CurrentStaff) -> ServerChanges:
    require(staff.role, Permission.PATIENT_MERGE)
    writes = writes_for(request, session, device, staff)
    merging.dismiss(writes, review_id=review_id, staff_id=staff.id)
    return answer(writes, ("merge_review", review_id), message="Marked as two different people.")
