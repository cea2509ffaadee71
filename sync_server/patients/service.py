"""Finding the one record of a person who arrives through a lead, a DM or a text.

Order (DOMAIN.md): phone in E.164, then the normalised email (:func:`core.email.email_match_key`),
then the Instagram account. A sure match joins the existing record (and fills only its empty
contact fields; a consent or an opt-out already recorded is never changed here). No sure match
makes a new record; when an existing record has the same name but a different phone, that is
uncertain: a :class:`MergeReview` is opened and a ``patient.merge_review`` timeline entry added,
never a silent merge. Services never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.email import email_match_key, try_normalize_email
from core.ids import new_id
from core.phone import try_normalize_phone
from sync_server.patients import repository
from sync_server.patients.models import MergeReview
from sync_server.records.service import ServerWrites


@dataclass(frozen=True)
class Person:
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None  # as typed; normalised in the clinic's region
    email: str | None = None
    instagram_id: str | None = None
    instagram_handle: str | None = None


@dataclass(frozen=True)
class Match:
    patient_id: str
    created: bool
    matched_by: str | None  # phone | email | instagram | None (new)
    review_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def clean_name(value: str | None, limit: int = 120) -> str:
    return " ".join((value or "").split())[:limit]


def split_name(full: str | None) -> tuple[str, str]:
    parts = clean_name(full).split(" ")
    if len(parts) <= 1:
        return parts[0] if parts else "", ""
    return " ".join(parts[:-1]), parts[-1]


def match_or_create(
    writes: ServerWrites,
    *,
    person: Person,
    region: str,
    consents: dict[str, Any] | None = None,
    first_touch: dict[str, Any] | None = None,
) -> Match:
    phone = try_normalize_phone(person.phone, region)
    email = try_normalize_email(person.email)
    email_key = email_match_key(email) if email else None
    found: tuple[str, dict[str, Any], str] | None = None
    if phone:
        found = _first(writes.find("patient", phone=phone), "phone")
    if found is None and email_key:
        found = _first(writes.find("patient", email_key=email_key), "email")
    if found is None and person.instagram_id:
        found = _first(writes.find("patient", instagram_id=person.instagram_id), "instagram")
    if found is not None:
        patient_id, data, how = found
        fill = {k: v for k, v in (("phone", phone), ("email", email), ("email_key", email_key),
                                  ("instagram_id", person.instagram_id),
                                  ("instagram_handle", person.instagram_handle)) if v and not data.get(k)}
        if fill:
            writes.update("patient", patient_id, fill)
        if consents:
            missing = {k: v for k, v in consents.items() if k not in (data.get("consents") or {})}
            if missing:
                writes.update("patient", patient_id, {"consents": {**(data.get("consents") or {}), **missing}})
        return Match(patient_id, False, how, data={**data, **fill})

    first, last = clean_name(person.first_name), clean_name(person.last_name)
    fields: dict[str, Any] = {
        "first_name": first, "last_name": last, "phone": phone, "email": email, "email_key": email_key,
        "instagram_id": person.instagram_id, "instagram_handle": (person.instagram_handle or None),
        "consents": dict(consents or {}), "first_touch": dict(first_touch or {}),
    }
    patient_id = writes.insert("patient", fields)
    review_id = None
    if first and last:
        review_id = _review_same_name(writes, patient_id=patient_id, first=first, last=last, phone=phone)
    return Match(patient_id, True, None, review_id, fields)


def _first(rows: list[tuple[str, dict[str, Any]]], how: str) -> tuple[str, dict[str, Any], str] | None:
    return (rows[0][0], rows[0][1], how) if rows else None


def _review_same_name(writes: ServerWrites, *, patient_id: str, first: str, last: str, phone: str | None) -> str | None:
    """Open a review against an existing record of the same name (and another phone)."""
    candidates = [
        (pid, data) for pid, data in writes.find("patient", last_name=last)
        if pid != patient_id and clean_name(data.get("first_name")).lower() == first.lower()
        and data.get("phone") != phone
    ]
    if not candidates:
        return None
    return open_review(writes, patient_id=patient_id, candidate_id=candidates[0][0], reason="same_name_other_phone")


def open_review(writes: ServerWrites, *, patient_id: str, candidate_id: str, reason: str) -> str:
    """A possible duplicate for staff: the review row, its sync row (the desktops' copy) and a
    ``patient.merge_review`` entry on both records' timelines."""
    review = MergeReview(id=new_id(), clinic_id=writes.clinic_id, patient_id=patient_id, candidate_id=candidate_id,
                         reason=reason, status="open", created_at=writes.now)
    repository.add_review(writes.session, review)
    mirror_review(writes, review)
    for subject, other in ((patient_id, candidate_id), (candidate_id, patient_id)):
        writes.append("activity", {
            "patient_id": subject, "lead_id": None, "type": "patient.merge_review", "actor_id": None,
            "occurred_at": _iso(writes), "payload": {"review_id": review.id, "other_patient_id": other,
                                                     "reason": review.reason},
        })
    return review.id


def review_fields(review: MergeReview) -> dict[str, Any]:
    from sync_server.sync.service import iso

    return {"patient_id": review.patient_id, "candidate_id": review.candidate_id, "reason": review.reason,
            "status": review.status, "opened_at": iso(review.created_at), "resolved_at": iso(review.resolved_at),
            "resolved_by": review.resolved_by, "survivor_id": review.survivor_id}


def mirror_review(writes: ServerWrites, review: MergeReview) -> None:
    """Write the review's sync row (the desktops' read-only copy) as the review now is."""
    fields = review_fields(review)
    if writes.row("merge_review", review.id) is None:
        writes.insert("merge_review", fields, entity_id=review.id)
    else:
        writes.update("merge_review", review.id, fields)


def publish_reviews(writes: ServerWrites) -> int:
    """Give open reviews made before they were synced (server revision 0006) their sync row."""
    missing = [r for r in repository.open_reviews(writes.session, clinic_id=writes.clinic_id)
               if writes.row("merge_review", r.id) is None]
    for review in missing:
        mirror_review(writes, review)
    return len(missing)


def open_reviews(writes: ServerWrites) -> list[MergeReview]:
    return list(repository.open_reviews(writes.session, clinic_id=writes.clinic_id))


def _iso(writes: ServerWrites) -> str:
    from sync_server.sync.service import iso

    return iso(writes.now) or ""
