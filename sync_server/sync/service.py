"""The sync context's service: per-clinic sequence numbering, push, pull. Services never commit.

A push is one transaction, in this order (lock order: ``clinic_sync_state``, then ``audit_head``)::

    lease = SequenceLease.lock(session, clinic_id=device.clinic_id)   # first statement of the push
    for mutation in request.mutations:
        a mutation id already in sync_mutation    -> "duplicate" (or its stored rejection), nothing applied
        validate; acting staff; role; clinic_id   -> "rejected" with a sentence, nothing applied
        merge_update(stored RowState, mutation)   -> core.merge decides
        appointments: the slot must be free       -> "rejected" with a sentence, nothing applied
        store data + meta, row.server_seq = lease.next(), conflicts, audit entry, sync_mutation
    # the request boundary commits; the clinic_sync_state row lock is released at commit

A rejected mutation never stops the others; an exception (a database error) rolls back the
whole push, so a push is applied entirely or not at all, apart from per-mutation rejections.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.orm import Session

from core.clock import HybridLogicalClock
from core.errors import PermissionDenied
from core.export.jsonio import loads as load_json
from core.ids import new_id
from core.merge import MergeOutcome, RowState, merge_update
from core.permissions import Role, has_permission
from core.sync import (
    Change,
    Mutation,
    MutationResult,
    Op,
    PullResponse,
    PushRequest,
    PushResponse,
    SyncProtocolError,
    is_uuid,
    validate_mutation,
)
from sync_server.audit import service as audit
from sync_server.clinics import service as clinics  # module import: clinics.service imports this one
from sync_server.sync import booking, decisions, repository
from sync_server.sync.models import ClinicSyncState, SyncMutation, SyncRow

if TYPE_CHECKING:
    from sync_server.clinics.service import DeviceIdentity, StaffIdentity

log = logging.getLogger(__name__)


def start_clinic(session: Session, *, clinic_id: str) -> None:
    """Give a new clinic its (empty) sequence; called in the transaction that creates it."""
    repository.create_state(session, clinic_id=clinic_id)


class SequenceLease:
    """The clinic's sequence, locked for the current transaction; hands out the next numbers.

    The incremented ``last_seq`` is written back by the session's flush at commit (or by any
    earlier flush); the row lock is held until then, so numbers become visible in order.
    """

    def __init__(self, state: ClinicSyncState) -> None:
        self._state = state

    @classmethod
    def lock(cls, session: Session, *, clinic_id: str) -> SequenceLease:
        return cls(repository.lock_sequence(session, clinic_id=clinic_id))

    @property
    def last(self) -> int:
        return self._state.last_seq

    def next(self) -> int:
        self._state.last_seq += 1
        return self._state.last_seq


def current_seq(session: Session, *, clinic_id: str) -> int:
    return repository.last_seq(session, clinic_id=clinic_id)


# --- rows as the protocol sees them ----------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def state_of(row: SyncRow) -> RowState:
    return RowState.from_stored(
        row.entity, row.id, version=row.version, hlc=row.hlc, deleted=row.deleted, data=row.data, meta=row.meta
    )


def change_of(row: SyncRow | None) -> Change | None:
    if row is None:
        return None
    return state_of(row).to_change(row.server_seq, created_at=iso(row.created_at), updated_at=iso(row.updated_at))


# --- push ------------------------------------------------------------------------------------


@dataclass
class _Push:
    """What one push knows while it works through its mutations."""

    session: Session
    device: DeviceIdentity
    header_staff: StaffIdentity | None
    lease: SequenceLease
    now: datetime
    hlc: HybridLogicalClock
    staff_cache: dict[str, StaffIdentity | None] = field(default_factory=dict)
    timezone: str | None = None
    #: patient id -> the record it was merged into (None: not merged), per push
    survivors: dict[str, str | None] = field(default_factory=dict)

    @property
    def clinic_id(self) -> str:
        return self.device.clinic_id

    def staff(self, staff_id: str | None) -> StaffIdentity | None:
        if staff_id is None:
            return self.header_staff
        if staff_id not in self.staff_cache:
            try:
                self.staff_cache[staff_id] = clinics.acting_staff(self.session, device=self.device, staff_id=staff_id)
            except PermissionDenied:
                self.staff_cache[staff_id] = None
        return self.staff_cache[staff_id]

    def clinic_timezone(self) -> str:
        if self.timezone is None:
            self.timezone = clinics.get_clinic(self.session, clinic_id=self.clinic_id).timezone
        return self.timezone


def push(
    session: Session,
    *,
    device: DeviceIdentity,
    header_staff: StaffIdentity | None,
    request: PushRequest,
    now: datetime,
    hlc: HybridLogicalClock,
) -> PushResponse:
    """Apply one push (already parsed and version-checked) in the caller's transaction."""
    lease = SequenceLease.lock(session, clinic_id=device.clinic_id)  # first: serialises the clinic
    ctx = _Push(session, device, header_staff, lease, now, hlc)
    results = [_one(ctx, m) for m in request.mutations]
    session.flush()
    return PushResponse(results=results, high_water_seq=lease.last, server_time=now)


def _rejected(mutation_id: str, reason: str, code: str, current: Change | None = None) -> MutationResult:
    return MutationResult(mutation_id=mutation_id, status="rejected", reason=reason, code=code, current=current)


def _one(ctx: _Push, m: Mutation) -> MutationResult:
    trackable = is_uuid(m.mutation_id)
    if trackable:
        seen = repository.get_mutation(ctx.session, clinic_id=ctx.clinic_id, mutation_id=m.mutation_id)
        if seen is not None:
            return _repeat(ctx, m, seen)
    result, staff = _decide(ctx, m)
    if trackable:
        stored = result.model_dump(mode="json", exclude={"current"})
        repository.add_mutation(ctx.session, SyncMutation(
            clinic_id=ctx.clinic_id, mutation_id=m.mutation_id, device_id=ctx.device.id,
            staff_id=staff.id if staff is not None else None, received_at=ctx.now, result=stored,
        ))
    return result


def _repeat(ctx: _Push, m: Mutation, seen: SyncMutation) -> MutationResult:
    """A mutation id seen before (a lost acknowledgement): nothing is applied again.

    A rejection is answered again as the same rejection (it is final); anything else is a
    ``duplicate`` carrying the row as it is now.
    """
    stored = MutationResult.model_validate(seen.result)
    current = None
    if is_uuid(m.entity_id):
        current = change_of(repository.get_row(ctx.session, clinic_id=ctx.clinic_id, entity=m.entity, entity_id=m.entity_id))
    if stored.status == "rejected":
        return stored.model_copy(update={"current": current})
    return stored.model_copy(update={"status": "duplicate", "current": current})


def _decide(ctx: _Push, m: Mutation) -> tuple[MutationResult, StaffIdentity | None]:
    mid = m.mutation_id
    try:
        spec = validate_mutation(m)
    except SyncProtocolError as exc:
        return _rejected(mid, exc.user_message, exc.code), None

    staff = ctx.staff(m.staff_id)
    if staff is None:
        if m.staff_id is None:
            return _rejected(
                mid, "This change does not say who made it (no staff member); sign in and make it again.",
                "staff_required",
            ), None
        return _rejected(
            mid, f"The staff member who made this change to a {spec.label} is not an active member of this "
            "clinic, so it was not saved.", "unknown_staff",
        ), None
    if not has_permission(staff.role, spec.write_permission):
        return _rejected(
            mid, f"{staff.display_name} ({Role(staff.role).label.lower()}) is not allowed to change a "
            f"{spec.label}, so this change was not saved.", "forbidden",
        ), staff

    op = Op(m.op)
    if op in (Op.INSERT, Op.APPEND) and "clinic_id" in spec.fields and m.fields.get("clinic_id") != ctx.clinic_id:
        return _rejected(
            mid, f"This {spec.label} names another clinic than this workstation's, so it was not saved.",
            "wrong_clinic",
        ), staff

    row = repository.get_row(ctx.session, clinic_id=ctx.clinic_id, entity=spec.name, entity_id=m.entity_id)
    if row is not None and "clinic_id" in spec.fields and row.data.get("clinic_id") not in (None, ctx.clinic_id):
        return _rejected(mid, f"This {spec.label} belongs to another clinic.", "wrong_clinic"), staff
    current = state_of(row) if row is not None else RowState.absent(spec.name, m.entity_id)
    if m.staff_id is None:
        m = m.model_copy(update={"staff_id": staff.id})  # stamps name the acting staff member
    m = _follow_merges(ctx, m)

    outcome = merge_update(current, m, authority="client")
    if not outcome.changed:
        return outcome.to_result(mid, server_seq=None, current=change_of(row)), staff

    new = outcome.row
    hold: booking.Hold | None = None
    if spec.name == "appointment":
        try:
            hold, new = _book(ctx, new)
        except booking.BookingRefused as exc:
            return _rejected(mid, exc.reason, exc.code, change_of(row)), staff
    decide = decisions.decider_for(spec.name)
    if decide is not None:
        try:
            new = decide(decisions.PushContext(ctx.session, ctx.clinic_id, ctx.device.id, staff, ctx.now, ctx.hlc,
                                               ctx.lease), m, outcome)
        except decisions.Refused as exc:
            return _rejected(mid, exc.reason, exc.code, change_of(row)), staff

    seq = ctx.lease.next()
    row = _store(ctx, row, new, seq)
    if spec.name == "appointment":
        booking.store(ctx.session, clinic_id=ctx.clinic_id, appointment_id=new.entity_id, hold=hold)
    _record_conflicts(ctx, outcome, m)
    audit.append(
        ctx.session, clinic_id=ctx.clinic_id, actor=audit.Actor(staff_id=staff.id, device_id=ctx.device.id),
        action=f"sync.{op.value}", entity=spec.name, entity_id=new.entity_id,
        detail={"seq": seq, "mutation_id": mid, "fields": sorted(outcome.changed_fields),
                "status": outcome.status},
        now=ctx.now,
    )
    return outcome.to_result(mid, server_seq=seq, current=change_of(row)), staff


def _follow_merges(ctx: _Push, m: Mutation) -> Mutation:
    """A change made (offline) for a client record that has since been merged into another one
    lands on the surviving record: its ``patient_id`` is rewritten to the survivor."""
    target = m.fields.get("patient_id") if m.entity != "merge_review" else None
    if not isinstance(target, str):
        return m
    if target not in ctx.survivors:
        survivor: str | None = None
        seen: set[str] = set()
        current = target
        while current not in seen:
            seen.add(current)
            row = repository.get_row(ctx.session, clinic_id=ctx.clinic_id, entity="patient", entity_id=current)
            following = row.data.get("merged_into") if row is not None and row.deleted else None
            if not isinstance(following, str):
                break
            survivor = current = following
        ctx.survivors[target] = survivor
    survivor = ctx.survivors[target]
    if survivor is None:
        return m
    return m.model_copy(update={"fields": {**m.fields, "patient_id": survivor}})


def _book(ctx: _Push, new: RowState) -> tuple[booking.Hold | None, RowState]:
    """The slot an appointment's new state holds (refused when taken); an accepted active
    appointment is confirmed (``tentative`` set to False by the server itself)."""
    service_id = new.data.get("service_id")
    services = repository.rows_data(
        ctx.session, clinic_id=ctx.clinic_id, entity="service", ids=[service_id] if isinstance(service_id, str) else []
    )
    hold = booking.hold_of(new.data, deleted=new.deleted, service=services.get(str(service_id)))
    if hold is not None and booking.changed(ctx.session, clinic_id=ctx.clinic_id, appointment_id=new.entity_id, hold=hold):
        booking.check(ctx.session, clinic_id=ctx.clinic_id, appointment_id=new.entity_id, hold=hold,
                      timezone=ctx.clinic_timezone())
    if hold is not None and new.data.get("tentative") is not False:
        confirm = Mutation(
            mutation_id=new_id(), entity="appointment", entity_id=new.entity_id, op=Op.UPDATE.value,
            fields={"tentative": False}, base_version=new.version, hlc=str(ctx.hlc.now()),
        )
        outcome: MergeOutcome = merge_update(new, confirm, authority="server")
        new = outcome.row
    return hold, new


def _store(ctx: _Push, row: SyncRow | None, new: RowState, seq: int) -> SyncRow:
    if row is None:
        row = SyncRow(clinic_id=ctx.clinic_id, entity=new.entity, id=new.entity_id, created_at=ctx.now)
        repository.add_row(ctx.session, row)
    row.version = new.version
    row.hlc = new.hlc
    row.deleted = new.deleted
    row.data = dict(new.data)
    row.meta = new.to_meta()
    row.server_seq = seq
    row.updated_at = ctx.now
    return row


def _record_conflicts(ctx: _Push, outcome: MergeOutcome, m: Mutation) -> None:
    for c in outcome.conflicts:
        losing_device = ctx.device.id if c.loser_hlc == m.hlc else None
        repository.record_conflict(ctx.session, {
            "clinic_id": ctx.clinic_id, "id": new_id(), "entity": c.entity, "entity_id": c.entity_id,
            "field": c.field, "kind": c.kind, "winning_value": c.winning_value, "losing_value": c.losing_value,
            "winner_hlc": c.winner_hlc, "winner_staff_id": c.winner_staff_id, "loser_hlc": c.loser_hlc,
            "losing_device_id": losing_device, "losing_staff_id": c.loser_staff_id, "created_at": ctx.now,
            "resolved": False,
        })


# --- pull ------------------------------------------------------------------------------------


def pull(session: Session, *, clinic_id: str, cursor: int, limit: int, now: datetime) -> PullResponse:
    """One page of the clinic's changes after ``cursor``, in sequence order (never writes).

    Pushes of a clinic commit in sequence order (the sequence row lock), so every change at or
    below the last one returned is already visible: the next page can start after it.
    """
    return PullResponse.model_validate_json(pull_json(session, clinic_id=clinic_id, cursor=cursor, limit=limit, now=now))


def pull_json(session: Session, *, clinic_id: str, cursor: int, limit: int, now: datetime) -> bytes:
    """:func:`pull` as the JSON of a :class:`~core.sync.PullResponse`, built without decoding
    the stored records: most rows (no open conflict, not deleted) embed their stored ``data``
    text as it is (``orjson.Fragment``); the others go through :meth:`RowState.to_change`."""
    rows = repository.page_raw(session, clinic_id=clinic_id, cursor=cursor, limit=limit + 1)
    page = rows[:limit]
    next_cursor = page[-1][0] if page else cursor
    return orjson.dumps({
        "changes": [_raw_change(r) for r in page],
        "next_cursor": int(next_cursor),
        "has_more": len(rows) > limit,
        "server_time": iso(now),
    })


def iso_text(value: Any) -> str | None:
    """A page's timestamp text (:func:`repository.page_raw`) in the wire's ``...%fZ`` form."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return iso(value)
    text = str(value)
    if len(text) == 26 and text[10] == " ":  # SQLite's stored form, microseconds included
        return text[:10] + "T" + text[11:] + "Z"
    if text.endswith("Z"):
        return text
    parsed = datetime.fromisoformat(text)
    return iso(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC))


def _raw_change(r: Any) -> dict[str, Any] | orjson.Fragment:
    seq, entity, entity_id, version, hlc, deleted, data_text, meta_text, created_at, updated_at = r
    meta = orjson.loads(meta_text) if meta_text else None
    if deleted or not meta or not meta.get("created") or meta.get("losers"):
        return orjson.Fragment(slow_change(r, meta).model_dump_json())
    created_hlc = meta["created"][0]
    stamps = meta.get("stamps")
    field_hlc = {name: raw[0] for name, raw in stamps.items() if raw[0] != created_hlc} if stamps else {}
    return {
        "seq": seq, "entity": entity, "entity_id": entity_id, "version": version, "hlc": hlc,
        "deleted": False, "data": orjson.Fragment(data_text), "created_hlc": created_hlc,
        "field_hlc": field_hlc, "conflicts": [],
        "created_at": iso_text(created_at), "updated_at": iso_text(updated_at),
    }


def slow_change(r: Any, meta: dict[str, Any] | None) -> Change:
    """A page row through :class:`core.merge.RowState` (the reference the fast path must match)."""
    seq, entity, entity_id, version, hlc, deleted, data_text, _meta_text, created_at, updated_at = r
    data = orjson.loads(data_text) if isinstance(data_text, str) else data_text
    state = RowState.from_stored(entity, entity_id, version=version, hlc=hlc, deleted=deleted, data=data, meta=meta)
    return state.to_change(seq, created_at=iso_text(created_at), updated_at=iso_text(updated_at))


# --- export ----------------------------------------------------------------------------------


def export_rows(session: Session, *, clinic_id: str, entity: str) -> Iterator[dict[str, Any]]:
    """Every row of one entity in wire form (its data fields plus ``id``, ``version``,
    ``deleted``, ``created_at`` and ``updated_at``) for :mod:`core.export`, in id order."""
    for row_id, version, deleted, data, created_at, updated_at in repository.stream_rows(
        session, clinic_id=clinic_id, entity=entity
    ):
        row: dict[str, Any] = load_json(data) if data else {}
        row["id"] = row_id
        row["version"] = version
        row["deleted"] = bool(deleted)
        row["created_at"] = created_at
        row["updated_at"] = updated_at
        yield row
