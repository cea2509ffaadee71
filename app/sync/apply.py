"""Writing what the server says into the local store: pulled rows, push results, the directory.

Everything here runs inside one caller's transaction (a :class:`Ctx`), writes no outbox entries
(these are the server's changes, not this workstation's) and never commits.

Pulled rows (:func:`apply_rows`)
    Each :class:`core.sync.Change` is a whole row as the server holds it. It is upserted by
    entity (:data:`app.db.models.SYNCABLE_MODELS`) with one executemany per entity, and the local
    ``version`` becomes the server's (the base of the next local edit). A row that still has
    *pending* local changes (outbox entries not yet acknowledged) is rebased: the pulled row with
    those changes merged on top by :func:`core.merge.rebase`, i.e. what the server will most
    likely hold once they are pushed, so a pull never erases an unpushed edit. A change older than
    the local row's confirmed version (a push result already gave us a newer one) is skipped.
    Tombstones are rows with ``deleted`` set. The patient search index is refreshed through
    :func:`app.repositories.patients.reindex`; the server's open conflict records for each row
    replace the stored ones (:mod:`app.repositories.sync_state`).

Audit
    Patient data arriving from the server is audited as **one ``sync.apply`` entry per applied
    page** (per transaction) that touched patients, listing the patient ids and the count, with
    this workstation as device and no staff member (the sync itself acts). Per-patient entries
    would multiply the audit log by the size of every initial sync for no extra information: the
    staff member and workstation behind each change are in the *server's* audit trail.

Push results (:func:`apply_results`)
    An outbox entry is acknowledged only here, after the server answered for it: ``applied`` and
    ``duplicate`` are acknowledged; ``conflict_resolved`` and ``rejected`` too. Whenever a result
    carries ``current`` (the row as the server now holds it), that row is applied like a pulled
    one (rebased over what is still pending), which is how the local row adopts the server's
    version *together with* the data of that version. Refused changes (``rejected``, or fields
    refused inside ``conflict_resolved``) are kept with their reason in the rejection list until
    dismissed; an insert the server refused outright (a double booking) is withdrawn locally (a
    local tombstone, no outbox entry) so that this workstation holds what the server holds, and
    its details stay in the rejection record for staff to rebook.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select

from app.db.models import SYNCABLE_MODELS, Clinic, OutboxEntry, Staff
from app.db.types import iso_utc
from app.repositories import audit, settings, sync_state
from app.repositories import patients as patient_repo
from app.repositories.context import Ctx
from app.sync.rowwriter import datetime_text, writer
from core.clock import HLCTimestamp
from core.merge import RowState, rebase
from core.sync import SERVER_NODE, Change, Conflict, Mutation, MutationResult

log = logging.getLogger(__name__)

#: HLC of rows written from the enrolment answer, before the server's own copy is pulled
DIRECTORY_HLC = str(HLCTimestamp(0, 0, SERVER_NODE))


@dataclass
class ApplyReport:
    rows: int = 0
    skipped: int = 0
    conflicts: int = 0
    entities: set[str] = field(default_factory=set)
    patient_ids: list[str] = field(default_factory=list)
    #: patients that were not in the store before (no search index entry to remove)
    new_patient_ids: list[str] = field(default_factory=list)
    #: entities with a row whose content really changed (new, or different from the local row;
    #: a row this workstation already held as it is, such as its own change coming back, is not)
    fresh_entities: set[str] = field(default_factory=set)
    #: the clients whose record shows such a row: patients, and the client of each
    #: appointment, lead or timeline entry (so an open record knows to read itself again)
    patient_refs: set[str] = field(default_factory=set)

    def add(self, other: ApplyReport) -> None:
        self.rows += other.rows
        self.skipped += other.skipped
        self.conflicts += other.conflicts
        self.entities |= other.entities
        self.patient_ids.extend(other.patient_ids)
        self.new_patient_ids.extend(other.new_patient_ids)
        self.fresh_entities |= other.fresh_entities
        self.patient_refs |= other.patient_refs


# --- pending local changes -------------------------------------------------------------------


def mutation_of(entry: OutboxEntry) -> Mutation:
    return Mutation(
        mutation_id=entry.mutation_id,
        entity=entry.entity,
        entity_id=entry.entity_id,
        op=entry.op,
        fields=dict(entry.fields or {}),
        base_version=entry.base_version,
        hlc=entry.hlc,
        staff_id=entry.staff_id,
    )


def pending_for(ctx: Ctx, entity: str, ids: Sequence[str]) -> dict[str, list[Mutation]]:
    """Unacknowledged outbox entries of these rows, in outbox order, by row id."""
    out: dict[str, list[Mutation]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        query = (
            select(OutboxEntry)
            .where(OutboxEntry.acked_at.is_(None), OutboxEntry.entity == entity, OutboxEntry.entity_id.in_(chunk))
            .order_by(OutboxEntry.seq)
        )
        for entry in ctx.session.execute(query).scalars():
            out.setdefault(entry.entity_id, []).append(mutation_of(entry))
    return out


def _pending_rows(ctx: Ctx) -> set[tuple[str, str]]:
    """(entity, id) of every row with an unacknowledged outbox entry (usually few or none)."""
    result = ctx.session.connection().exec_driver_sql(
        "SELECT DISTINCT entity, entity_id FROM outbox WHERE acked_at IS NULL"
    )
    return {(str(e), str(i)) for e, i in result}


# --- applying rows ---------------------------------------------------------------------------


def _stamp_text(value: str | None, fallback: str) -> str:
    if value:
        text = datetime_text(value)
        if text is not None:
            return text
    return fallback


def _conflict_json(conflicts: Iterable[Conflict]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in conflicts]


def apply_rows(ctx: Ctx, changes: Sequence[Change], *, audit_reason: str = "pull") -> ApplyReport:
    """Upsert the server's rows (see the module docstring); returns what was applied."""
    report = ApplyReport()
    newest: dict[tuple[str, str], Change] = {}
    for change in changes:
        key = (change.entity, change.entity_id)
        seen = newest.get(key)
        if seen is None or (change.version, change.seq) >= (seen.version, seen.seq):
            newest[key] = change
    by_entity: dict[str, list[Change]] = {}
    for change in newest.values():
        by_entity.setdefault(change.entity, []).append(change)

    now = iso_utc(ctx.now())
    dialect = ctx.session.get_bind().dialect
    pending_rows = _pending_rows(ctx) if newest else set()
    stored_conflicts = sync_state.conflict_keys(ctx) if newest else set()
    top_hlc = ""
    index_rows: list[dict[str, Any]] = []
    index_replace: list[str] = []
    index_from_store: list[str] = []
    for entity, entity_changes in by_entity.items():
        rw = writer(entity, dialect)
        if rw is None:
            log.warning("pulled %d rows of an entity this workstation does not know (%s)", len(entity_changes), entity)
            report.skipped += len(entity_changes)
            continue
        held = rw.held(ctx, [c.entity_id for c in entity_changes])
        mine_ids = [c.entity_id for c in entity_changes if (entity, c.entity_id) in pending_rows]
        pending = pending_for(ctx, entity, mine_ids) if mine_ids else {}
        groups: dict[frozenset[str], list[tuple[Any, ...]]] = {}
        conflicted: list[Change] = []
        clear_keys: list[str] = []
        is_patient = entity == "patient"
        for change in entity_changes:
            before = held.get(change.entity_id)
            if before is not None and change.version < int(before[0]):
                report.skipped += 1
                continue
            if change.hlc > top_hlc:
                top_hlc = change.hlc
            data, deleted, hlc = change.data, change.deleted, change.hlc
            mine = pending.get(change.entity_id)
            if mine:
                state = rebase(RowState.from_change(change), mine)
                data, deleted, hlc = dict(state.data), state.deleted, max(state.hlc, change.hlc)
            values, present = rw.values(data)
            groups.setdefault(present, []).append((
                change.entity_id, change.version, hlc, deleted,
                _stamp_text(change.created_at, now), _stamp_text(change.updated_at, now), *values,
            ))
            if change.conflicts:
                conflicted.append(change)
            else:
                stored_key = sync_state.conflicts_key(entity, change.entity_id)
                if stored_key in stored_conflicts:
                    clear_keys.append(stored_key)
            report.rows += 1
            if before is None or rw.differs(before, values, data, deleted, present):
                report.fresh_entities.add(entity)
                ref = change.entity_id if is_patient else data.get("patient_id")
                if isinstance(ref, str) and ref:
                    report.patient_refs.add(ref)
                if before is not None and "patient_id" in rw.fields:
                    old_ref = before[2 + rw.index("patient_id")]
                    if isinstance(old_ref, str) and old_ref:
                        report.patient_refs.add(old_ref)
            if is_patient:
                report.patient_ids.append(change.entity_id)
                if before is None:
                    report.new_patient_ids.append(change.entity_id)
                else:
                    index_replace.append(change.entity_id)
                if all(f in present for f in patient_repo.SEARCH_FIELDS):
                    if not deleted:
                        index_rows.append({"patient_id": change.entity_id,
                                           **{f: data[f] for f in patient_repo.SEARCH_FIELDS}})
                else:  # an older server's row: index what the store holds after the write
                    index_from_store.append(change.entity_id)
        for present, batch in groups.items():
            rw.write(ctx, present, batch)
        sync_state.drop_conflicts_of(ctx, clear_keys)
        for change in conflicted:
            sync_state.put_row_conflicts(ctx, entity, change.entity_id, _conflict_json(change.conflicts))
            report.conflicts += len(change.conflicts)
        if groups:
            report.entities.add(entity)
            ctx.changed.add(entity)

    if report.patient_ids:
        patient_repo.write_index(ctx, index_rows, replace=index_replace)
        if index_from_store:
            patient_repo.reindex(ctx, index_from_store)
        ids = sorted(set(report.patient_ids))
        audit.append(
            ctx, "sync.apply", "patient", ids[0] if len(ids) == 1 else None,
            {"via": audit_reason, "count": len(ids), "patient_ids": ids},
        )
    if top_hlc:
        observe(ctx, top_hlc)
    return report


def observe(ctx: Ctx, hlc: str) -> None:
    """Keep this workstation's clock after a remote stamp (later local edits sort after it)."""
    try:
        ctx.hlc.observe(hlc)
    except ValueError:
        log.warning("a stamp from the clinic server is more than a day ahead of this clock; not followed")


# --- push results ----------------------------------------------------------------------------


@dataclass
class AckReport:
    acked: int = 0
    applied: int = 0
    duplicates: int = 0
    resolved: int = 0
    rejected: int = 0
    conflicts: int = 0
    rows: ApplyReport = field(default_factory=ApplyReport)
    #: entities and clients whose rows changed because of these answers (applied or withdrawn)
    entities: set[str] = field(default_factory=set)
    patient_refs: set[str] = field(default_factory=set)


def _withdraw(ctx: Ctx, entity: str, entity_id: str) -> None:
    """Take back a row this workstation made and the server refused (no outbox entry)."""
    model = SYNCABLE_MODELS.get(entity)
    if model is None:
        return
    table = model.__table__  # type: ignore[attr-defined]
    ctx.session.execute(
        sa.update(table).where(table.c.id == entity_id).values(deleted=True, updated_at=ctx.now())
    )
    ctx.changed.add(entity)
    if entity == "patient":
        patient_repo.reindex(ctx, [entity_id])


def apply_results(ctx: Ctx, sent: Sequence[Mutation], results: Sequence[MutationResult]) -> AckReport:
    """Acknowledge the sent mutations the server answered for and apply what it said."""
    report = AckReport()
    by_id = {r.mutation_id: r for r in results}
    answered = [m for m in sent if m.mutation_id in by_id]
    if len(answered) < len(sent):
        log.warning("the clinic server answered %d of %d changes; the rest are sent again", len(answered), len(sent))
    now = ctx.now()
    ids = [m.mutation_id for m in answered]
    for i in range(0, len(ids), 500):
        ctx.session.execute(
            sa.update(OutboxEntry).where(OutboxEntry.mutation_id.in_(ids[i : i + 500])).values(acked_at=now)
        )
    report.acked = len(answered)

    currents: list[Change] = []
    for m in answered:
        result = by_id[m.mutation_id]
        if result.status == "applied":
            report.applied += 1
        elif result.status == "duplicate":
            report.duplicates += 1
        elif result.status == "conflict_resolved":
            report.resolved += 1
        else:
            report.rejected += 1
        if result.status == "rejected" or result.rejected_fields:
            sync_state.add_rejection(ctx, _rejection(m, result, now))
            if result.status == "rejected" and result.current is None and m.op in ("insert", "append"):
                _withdraw(ctx, m.entity, m.entity_id)
                report.entities.add(m.entity)
                ref = m.entity_id if m.entity == "patient" else m.fields.get("patient_id")
                if isinstance(ref, str) and ref:
                    report.patient_refs.add(ref)
        if result.current is not None:
            currents.append(result.current)
        elif result.conflicts:
            _merge_conflicts(ctx, m.entity, m.entity_id, result.conflicts)
    if currents:
        report.rows = apply_rows(ctx, currents, audit_reason="push")
        report.conflicts = report.rows.conflicts
        report.entities |= report.rows.fresh_entities
        report.patient_refs |= report.rows.patient_refs
    return report


def _merge_conflicts(ctx: Ctx, entity: str, entity_id: str, conflicts: Sequence[Conflict]) -> None:
    key = sync_state.conflicts_key(entity, entity_id)
    stored: list[dict[str, Any]] = list(settings.get(ctx, key, []) or [])
    known = {(c.get("field"), c.get("kind"), c.get("loser_hlc")) for c in stored}
    for c in conflicts:
        if (c.field, c.kind, c.loser_hlc) not in known:
            stored.append(c.model_dump(mode="json"))
    sync_state.put_row_conflicts(ctx, entity, entity_id, stored)


def _rejection(m: Mutation, result: MutationResult, now: datetime) -> dict[str, Any]:
    return {
        "mutation_id": m.mutation_id,
        "entity": m.entity,
        "entity_id": m.entity_id,
        "op": m.op,
        "status": result.status,
        "code": result.code,
        "reason": result.reason or "; ".join(result.rejected_fields.values()) or "Refused by the clinic server.",
        "rejected_fields": dict(result.rejected_fields),
        "fields": dict(m.fields),
        "staff_id": m.staff_id,
        "hlc": m.hlc,
        "at": iso_utc(now),
    }


# --- the clinic directory from the enrolment answer ------------------------------------------


def upsert_directory(
    ctx: Ctx, *, clinic: dict[str, Any], staff: Sequence[dict[str, Any]], complete: bool = False
) -> None:
    """Write the clinic and its staff as the enrolment answer (or the staff list) gives them.

    These rows carry version 0 until the server's own copy is pulled; a row the pull has
    delivered (version >= 1) is left to the pull. ``complete``: ``staff`` is every active staff
    member, so version-0 staff missing from it are no longer active.
    """
    now = ctx.now()
    clinic_id = clinic["id"]
    row = ctx.session.get(Clinic, clinic_id)
    if row is None:
        ctx.session.add(
            Clinic(
                id=clinic_id, version=0, hlc=DIRECTORY_HLC, deleted=False, created_at=now, updated_at=now,
                name=clinic["name"], slug=clinic["slug"], timezone=clinic.get("timezone") or "America/Los_Angeles",
                region=clinic.get("region") or "US", currency=clinic.get("currency") or "USD", settings={},
            )
        )
    for s in staff:
        member = ctx.session.get(Staff, s["id"])
        if member is None:
            ctx.session.add(
                Staff(
                    id=s["id"], version=0, hlc=DIRECTORY_HLC, deleted=False, created_at=now, updated_at=now,
                    clinic_id=clinic_id, display_name=s["display_name"], role=s["role"],
                    pin_hash=s.get("pin_hash"), active=bool(s.get("active", True)),
                )
            )
        elif member.version == 0:
            member.display_name = s["display_name"]
            member.role = s["role"]
            member.pin_hash = s.get("pin_hash")
            member.active = bool(s.get("active", True))
            member.updated_at = now
    if complete:
        listed = {s["id"] for s in staff}
        gone = select(Staff).where(
            Staff.clinic_id == clinic_id, Staff.version == 0, Staff.active.is_(True), Staff.id.not_in(listed)
        )
        for member in ctx.session.execute(gone).scalars():
            member.active = False
            member.updated_at = now
    ctx.changed.update({"clinic", "staff"})
