"""Finding the one record of a person who arrives through a lead, a DM or a text.

The rule is :func:`core.dedup.decide`, the same for the desktop's CSV import and duplicate
warning: phone in E.164, then the normalised email, then the Instagram account, then name plus
date of birth. A sure match joins the existing record (and fills only its empty contact fields;
a consent or an opt-out already recorded is never changed here). No sure match makes a new
record; an uncertain one (the same name, not enough else in common to be sure) opens a
:class:`MergeReview` and adds a ``patient.merge_review`` timeline entry, never a silent merge.
Services never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core import dedup
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
    date_of_birth: str | None = None  # YYYY-MM-DD, when the form asked


@dataclass(frozen=True)
class Match:
    patient_id: str
    created: bool
    matched_by: str | None  # phone | email | instagram | name_and_birthday | None (new)
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
    handle = (person.instagram_handle or None)
    first, last = clean_name(person.first_name), clean_name(person.last_name)
    new = dedup.identity(first_name=first, last_name=last, date_of_birth=person.date_of_birth, phone=phone,
                         email_key=email_key, instagram_id=person.instagram_id, instagram_handle=handle,
                         region=region)
    records = _candidates(writes, new, last=last)
    found = dedup.decide(new, [(pid, dedup.identity_of(data, region=region)) for pid in records
                               for data in (records[pid],)])
    if found is not None and found.verdict.sure:
        patient_id, data = found.candidate, records[found.candidate]
        fill = {k: v for k, v in (("phone", phone), ("email", email), ("email_key", email_key),
                                  ("instagram_id", person.instagram_id), ("instagram_handle", handle),
                                  ("date_of_birth", new.date_of_birth)) if v and not data.get(k)}
        if fill:
            writes.update("patient", patient_id, fill)
        if consents:
            missing = {k: v for k, v in consents.items() if k not in (data.get("consents") or {})}
            if missing:
                writes.update("patient", patient_id, {"consents": {**(data.get("consents") or {}), **missing}})
        return Match(patient_id, False, found.verdict.key, data={**data, **fill})

    fields: dict[str, Any] = {
        "first_name": first, "last_name": last, "phone": phone, "email": email, "email_key": email_key,
        "instagram_id": person.instagram_id, "instagram_handle": handle,
        "consents": dict(consents or {}), "first_touch": dict(first_touch or {}),
    }
    if new.date_of_birth:
        fields["date_of_birth"] = new.date_of_birth
    patient_id = writes.insert("patient", fields)
    review_id = None
    if found is not None:  # uncertain: staff decide
        review_id = open_review(writes, patient_id=patient_id, candidate_id=found.candidate,
                                reason=found.verdict.review_reason or dedup.SAME_NAME)
    return Match(patient_id, True, None, review_id, fields)


def _candidates(writes: ServerWrites, new: dedup.Identity, *, last: str) -> dict[str, dict[str, Any]]:
    """The live records sharing any key with ``new`` (oldest first within each key)."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for key, value in (("phone", new.phone), ("email_key", new.email_key), ("instagram_id", new.instagram_id),
                       ("instagram_handle", new.instagram_handle)):
        if value:
            rows += writes.find("patient", **{key: value})
    if new.named:
        rows += repository.same_last_name(writes.session, clinic_id=writes.clinic_id, last_name=last)
    return dict(rows)


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
