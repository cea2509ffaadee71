"""Patients: create, edit, read (audited), find duplicates, and search through the FTS5 index."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select

from app.db.models import Patient
from app.db.search_index import fts_query, index_row
from app.repositories import audit, rows
from app.repositories.context import Ctx

SEARCH_FIELDS = ("first_name", "last_name", "preferred_name", "phone", "email", "instagram_handle")
#: Fields whose values are not copied into the audit trail, only their names.
_AUDIT_VALUE_FREE = frozenset({"notes", "allergies", "medical_alerts"})


@dataclass(frozen=True)
class SearchHit:
    id: str
    first_name: str
    last_name: str
    preferred_name: str | None
    phone: str | None
    email: str | None
    instagram_handle: str | None
    vip: bool


def _index(ctx: Ctx, patient: Patient) -> None:
    s = ctx.session
    s.execute(sa.text("DELETE FROM patient_search WHERE patient_id = :id"), {"id": patient.id})
    if patient.deleted:
        return
    s.execute(
        sa.text(
            "INSERT INTO patient_search(patient_id, names, phones, emails, handles) "
            "VALUES (:patient_id, :names, :phones, :emails, :handles)"
        ),
        {"patient_id": patient.id, **index_row(**{f: getattr(patient, f) for f in SEARCH_FIELDS})},
    )


def _audit_detail(diff: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    return {
        "fields": sorted(diff),
        "changes": {
            k: ({"old": rows.wire_value(o), "new": rows.wire_value(n)} if k not in _AUDIT_VALUE_FREE else {})
            for k, (o, n) in diff.items()
        },
    }


def create(ctx: Ctx, patient: Patient, *, reason: str = "created") -> Patient:
    rows.insert(ctx, patient)
    ctx.session.flush()
    _index(ctx, patient)
    audit.append(ctx, "patient.create", "patient", patient.id, {"via": reason})
    return patient


def create_many(ctx: Ctx, patients: Iterable[Patient], *, reason: str) -> int:
    """Bulk create (imports, demo data): same bookkeeping, outbox and audit as :func:`create`."""
    count = 0
    index_batch: list[dict[str, Any]] = []
    for patient in patients:
        rows.insert(ctx, patient)
        audit.append(ctx, "patient.create", "patient", patient.id, {"via": reason})
        index_batch.append(
            {"patient_id": patient.id, **index_row(**{f: getattr(patient, f) for f in SEARCH_FIELDS})}
        )
        count += 1
        if len(index_batch) >= 2000:
            _flush_index(ctx, index_batch)
    _flush_index(ctx, index_batch)
    return count


def _flush_index(ctx: Ctx, batch: list[dict[str, Any]]) -> None:
    if not batch:
        return
    ctx.session.flush()
    ctx.session.execute(
        sa.text(
            "INSERT INTO patient_search(patient_id, names, phones, emails, handles) "
            "VALUES (:patient_id, :names, :phones, :emails, :handles)"
        ),
        batch,
    )
    batch.clear()


def reindex(ctx: Ctx, patient_ids: Iterable[str], *, new: Iterable[str] = ()) -> None:
    """Bring the search index in line with the stored rows of these patients, for rows written
    outside :func:`create` / :func:`update` (changes pulled from the clinic server).

    ``new`` names those of them that were not in the store before, so have no index entry yet
    (removing entries scans the index: an initial sync skips that)."""
    ids = list(dict.fromkeys(patient_ids))
    fresh = set(new)
    delete = sa.text("DELETE FROM patient_search WHERE patient_id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True)
    )
    columns = [getattr(Patient, f) for f in SEARCH_FIELDS]
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        known = [pid for pid in chunk if pid not in fresh]
        if known:
            ctx.session.execute(delete, {"ids": known})
        live = ctx.session.execute(
            select(Patient.id, *columns).where(Patient.id.in_(chunk), Patient.deleted.is_(False))
        )
        batch = [
            {"patient_id": r.id, **index_row(**{f: getattr(r, f) for f in SEARCH_FIELDS})} for r in live
        ]
        _flush_index(ctx, batch)


_INDEX_INSERT = (
    "INSERT INTO patient_search(patient_id, names, phones, emails, handles) VALUES (?, ?, ?, ?, ?)"
)


def write_index(ctx: Ctx, entries: Sequence[dict[str, Any]], *, replace: Sequence[str] = ()) -> None:
    """Index patients written outside :func:`create` / :func:`update` (pulled rows) from the
    values in hand: ``entries`` hold ``patient_id`` and the :data:`SEARCH_FIELDS` of the live
    ones; ``replace`` names patients that may have an entry already (removed first). Plain
    ``executemany`` statements: a first download indexes a page in one go."""
    conn = ctx.session.connection()
    for i in range(0, len(replace), 500):
        chunk = tuple(replace[i : i + 500])
        marks = ", ".join("?" for _ in chunk)
        conn.exec_driver_sql(f"DELETE FROM patient_search WHERE patient_id IN ({marks})", chunk)
    params = []
    for e in entries:
        row = index_row(
            first_name=e.get("first_name") or "", last_name=e.get("last_name") or "",
            preferred_name=e.get("preferred_name"), phone=e.get("phone"), email=e.get("email"),
            instagram_handle=e.get("instagram_handle"),
        )
        params.append((e["patient_id"], row["names"], row["phones"], row["emails"], row["handles"]))
    if params:
        conn.exec_driver_sql(_INDEX_INSERT, params)


def update(ctx: Ctx, patient: Patient, changes: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    diff = rows.update(ctx, patient, changes)
    if diff:
        if any(f in diff for f in SEARCH_FIELDS):
            _index(ctx, patient)
        audit.append(ctx, "patient.update", "patient", patient.id, _audit_detail(diff))
    return diff


def delete(ctx: Ctx, patient: Patient) -> None:
    if patient.deleted:  # already gone: nothing changes, so nothing to sync or audit
        return
    rows.tombstone(ctx, patient)
    _index(ctx, patient)
    audit.append(ctx, "patient.delete", "patient", patient.id, {})


def get(ctx: Ctx, patient_id: str, *, purpose: str = "record") -> Patient | None:
    """Read one patient's record; every read is audited in the same transaction."""
    patient = ctx.session.get(Patient, patient_id)
    if patient is None or patient.deleted:
        return None
    audit.append(ctx, "patient.read", "patient", patient_id, {"purpose": purpose})
    return patient


def get_for_write(ctx: Ctx, patient_id: str) -> Patient | None:
    patient = ctx.session.get(Patient, patient_id)
    return None if patient is None or patient.deleted else patient


def search(ctx: Ctx, text: str, *, limit: int = 50) -> list[SearchHit]:
    query = fts_query(text)
    if query is None:
        return []
    result = ctx.session.execute(
        sa.text(
            "SELECT p.id, p.first_name, p.last_name, p.preferred_name, p.phone, p.email, "
            "p.instagram_handle, p.vip "
            "FROM (SELECT patient_id, rank FROM patient_search WHERE patient_search MATCH :q "
            "      ORDER BY rank LIMIT :limit) AS hits "
            "JOIN patient p ON p.id = hits.patient_id "
            "ORDER BY hits.rank, p.last_name, p.first_name"
        ),
        {"q": query, "limit": limit},
    )
    return [
        SearchHit(r.id, r.first_name, r.last_name, r.preferred_name, r.phone, r.email,
                  r.instagram_handle, bool(r.vip))
        for r in result
    ]


_IDENTITY_COLUMNS = ("first_name", "last_name", "date_of_birth", "phone", "email_key", "instagram_id",
                     "instagram_handle")


def identity_candidates(
    ctx: Ctx,
    *,
    phones: Iterable[str] = (),
    email_keys: Iterable[str] = (),
    instagram_ids: Iterable[str] = (),
    handles: Iterable[str] = (),
    last_names: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """Live patients sharing any of these keys (last names ignoring case), for
    :func:`core.dedup.decide`: ``{id: {first_name, last_name, date_of_birth, phone, ...}}``, the
    matches of each key oldest first, keys in the rule's order."""
    cols = [getattr(Patient, c) for c in _IDENTITY_COLUMNS]
    found: dict[str, dict[str, Any]] = {}
    for column, values in ((Patient.phone, phones), (Patient.email_key, email_keys),
                           (Patient.instagram_id, instagram_ids), (Patient.instagram_handle, handles),
                           (sa.func.lower(Patient.last_name), [v.lower() for v in last_names])):
        wanted = sorted(set(values))
        for i in range(0, len(wanted), 500):
            stmt = select(Patient.id, *cols).where(column.in_(wanted[i : i + 500]), Patient.deleted.is_(False))
            for row in ctx.session.execute(stmt.order_by(Patient.created_at, Patient.id)):
                found.setdefault(row[0], dict(zip(_IDENTITY_COLUMNS, row[1:], strict=True)))
    return found


def count(ctx: Ctx) -> int:
    return int(
        ctx.session.execute(
            select(sa.func.count()).select_from(Patient).where(Patient.deleted.is_(False))
        ).scalar_one()
    )
