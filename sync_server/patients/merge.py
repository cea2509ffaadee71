"""Resolving a possible duplicate: merge the two client records, or mark them different people.

Runs on the server, in the caller's transaction (services never commit), through
:class:`ServerWrites`, so every change is numbered, audited and pulled by the desktops.

A merge keeps one record (the *survivor*) and:

- sets its details by :func:`core.dedup.merged_values`: the values staff chose where the two
  differ (``keep``: field -> ``"survivor"`` or ``"other"``), allergies and medical alerts of
  both, joined tags, the most recent consent decisions, the earlier first touch;
- moves every record pointing at the other one (appointments, leads, timeline entries, and any
  other synced entity with a ``patient_id``) and the server's message thread to the survivor;
- turns the other record into a tombstone whose ``merged_into`` names the survivor (its data
  stays, deleted, so its history is still there), so a desktop showing it follows to the
  survivor;
- adds a ``patient.merged`` entry to the survivor's timeline with what was replaced, and an
  audit entry (ids and field names only);
- closes the review, and re-points the other open reviews of the merged-away record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.dedup import CHOOSABLE, COMBINED, SURVIVOR, merged_values
from core.errors import ConflictError, NotFoundError, ValidationError
from core.sync import ENTITIES, Kind
from sync_server.audit import service as audit
from sync_server.events import Event
from sync_server.patients import repository
from sync_server.patients.models import MergeReview
from sync_server.patients.service import mirror_review
from sync_server.records.service import ServerWrites
from sync_server.sync.service import iso

#: Two client records were merged, in the merge's transaction: ``handler(writes, merged_id=...,
#: survivor_id=...)``. Synced rows with a ``patient_id`` are moved here already; a context keeping
#: its own table of a client (messaging's thread, the outbox) moves it. Patients never import them.
RECORDS_MERGED: Event[Callable[..., None]] = Event("patients.records_merged")

@dataclass(frozen=True)
class MergeOutcome:
    survivor_id: str
    merged_id: str
    moved: dict[str, int] = field(default_factory=dict)


def _open_review(writes: ServerWrites, review_id: str) -> MergeReview:
    review = repository.get_review(writes.session, clinic_id=writes.clinic_id, review_id=review_id)
    if review is None:
        raise NotFoundError("There is no such possible duplicate in this clinic.")
    if review.status != "open":
        done = "merged" if review.status == "merged" else "marked as different people"
        raise ConflictError(f"These two records were already {done}; nothing was changed.", code="review_closed")
    return review


def _records(writes: ServerWrites, review: MergeReview) -> tuple[dict[str, Any], dict[str, Any]]:
    a, b = writes.get("patient", review.patient_id), writes.get("patient", review.candidate_id)
    if a is None or b is None:
        raise ConflictError("One of these two records no longer exists (it was merged or deleted); close this "
                            "review with 'Not the same person' or ask the other record's owner.",
                            code="record_gone")
    return a, b


def _moved_entities() -> list[str]:
    return sorted(name for name, spec in ENTITIES.items() if "patient_id" in spec.fields and name != "merge_review")


def merge(writes: ServerWrites, *, review_id: str, survivor_id: str, keep: dict[str, str], staff_id: str) -> MergeOutcome:
    review = _open_review(writes, review_id)
    pair = (review.patient_id, review.candidate_id)
    if survivor_id not in pair:
        raise ValidationError("The record to keep must be one of the two records of this review.", field="survivor_id")
    other_id = pair[1] if survivor_id == pair[0] else pair[0]
    a, b = _records(writes, review)
    survivor, other = (a, b) if survivor_id == review.patient_id else (b, a)
    values = merged_values(survivor, other, keep)
    replaced = {k: survivor.get(k) for k, v in values.items() if v != survivor.get(k)}
    if replaced:
        writes.update("patient", survivor_id, {k: values[k] for k in replaced})

    moved: dict[str, int] = {}
    for entity in _moved_entities():
        append_only = ENTITIES[entity].kind is Kind.APPEND_ONLY
        for row_id, _data in writes.find(entity, patient_id=other_id):
            if append_only:
                writes.correct(entity, row_id, {"patient_id": survivor_id})
            else:
                writes.update(entity, row_id, {"patient_id": survivor_id})
            moved[entity] = moved.get(entity, 0) + 1
    # contexts keeping their own tables of a client (messaging's thread) move them too
    for handler in RECORDS_MERGED.handlers():
        handler(writes, merged_id=other_id, survivor_id=survivor_id)

    writes.update("patient", other_id, {"merged_into": survivor_id})
    writes.delete("patient", other_id)
    writes.append("activity", {
        "patient_id": survivor_id, "lead_id": None, "type": "patient.merged", "actor_id": staff_id,
        "occurred_at": iso(writes.now),
        "payload": {"review_id": review.id, "merged_patient_id": other_id,
                    "merged_name": " ".join(p for p in (other.get("first_name"), other.get("last_name")) if p),
                    "kept": {k: keep.get(k, SURVIVOR) for k in CHOOSABLE if survivor.get(k) != other.get(k)},
                    "replaced": replaced, "merged_record": {k: other.get(k) for k in (*CHOOSABLE, *COMBINED)},
                    "moved": moved},
    })
    _close(writes, review, status="merged", staff_id=staff_id, survivor_id=survivor_id)
    _repoint(writes, merged_id=other_id, survivor_id=survivor_id, staff_id=staff_id)
    audit.append(writes.session, clinic_id=writes.clinic_id, actor=writes.actor, action="patient.merge",
                 entity="patient", entity_id=survivor_id,
                 detail={"merged": other_id, "review_id": review.id, "fields": sorted(replaced), "moved": moved},
                 now=writes.now)
    return MergeOutcome(survivor_id, other_id, moved)


def dismiss(writes: ServerWrites, *, review_id: str, staff_id: str) -> MergeReview:
    """Staff say the two records are different people: the review closes, both timelines say so."""
    review = _open_review(writes, review_id)
    _close(writes, review, status="dismissed", staff_id=staff_id, survivor_id=None)
    for subject, other in ((review.patient_id, review.candidate_id), (review.candidate_id, review.patient_id)):
        if writes.get("patient", subject) is None:
            continue
        writes.append("activity", {
            "patient_id": subject, "lead_id": None, "type": "patient.not_duplicate", "actor_id": staff_id,
            "occurred_at": iso(writes.now), "payload": {"review_id": review.id, "other_patient_id": other},
        })
    audit.append(writes.session, clinic_id=writes.clinic_id, actor=writes.actor, action="patient.not_duplicate",
                 entity="patient", entity_id=review.patient_id,
                 detail={"other": review.candidate_id, "review_id": review.id}, now=writes.now)
    return review


def _close(writes: ServerWrites, review: MergeReview, *, status: str, staff_id: str, survivor_id: str | None) -> None:
    review.status, review.resolved_at, review.resolved_by, review.survivor_id = (
        status, writes.now, staff_id, survivor_id)
    writes.session.flush()
    mirror_review(writes, review)


def _repoint(writes: ServerWrites, *, merged_id: str, survivor_id: str, staff_id: str) -> None:
    """Other open reviews of the merged-away record now concern the survivor (one that would
    compare the survivor with itself is closed as merged)."""
    for other in repository.reviews_naming(writes.session, clinic_id=writes.clinic_id, patient_id=merged_id):
        if other.status != "open":
            continue
        if other.patient_id == merged_id:
            other.patient_id = survivor_id
        if other.candidate_id == merged_id:
            other.candidate_id = survivor_id
        if other.patient_id == other.candidate_id:
            _close(writes, other, status="merged", staff_id=staff_id, survivor_id=survivor_id)
        else:
            writes.session.flush()
            mirror_review(writes, other)
