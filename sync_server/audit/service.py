"""The server audit log: append in the caller's transaction, verify a clinic's chain.

Every change of clinic data (and, later, every read of a patient chart) calls :func:`append`
inside the same transaction as the change, so an entry exists exactly when the change does.
Lock order, to stay deadlock-free: a transaction that also pushes sync rows locks
``clinic_sync_state`` first and ``audit_head`` second.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from sync_server.audit import repository
from sync_server.audit.models import AuditEntry

GENESIS = repository.GENESIS


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: a staff member on a device (API), or an operator at the server (CLI)."""

    staff_id: str | None = None
    device_id: str | None = None
    via: str = "api"

    @classmethod
    def cli(cls) -> Actor:
        return cls(via="cli")


def _canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    clinic_id: str,
    seq: int,
    prev_hash: str,
    at: datetime,
    staff_id: str | None,
    device_id: str | None,
    action: str,
    entity: str,
    entity_id: str | None,
    detail: dict[str, Any],
) -> str:
    body = json.dumps(
        [clinic_id, seq, prev_hash, _canonical_time(at), staff_id, device_id, action, entity,
         entity_id, detail],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    clinic_id: str,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime,
) -> AuditEntry:
    """Append one entry to the clinic's chain in the current transaction (never commits)."""
    # Round-trip through JSON so the hash covers exactly what the database will return.
    body = json.loads(json.dumps({**(detail or {}), "via": actor.via}, default=str))
    at = now.astimezone(UTC)
    head = repository.lock_head(session, clinic_id=clinic_id)
    seq = head.seq + 1
    digest = entry_hash(
        clinic_id=clinic_id,
        seq=seq,
        prev_hash=head.hash,
        at=at,
        staff_id=actor.staff_id,
        device_id=actor.device_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=body,
    )
    entry = AuditEntry(
        clinic_id=clinic_id,
        seq=seq,
        at=at,
        staff_id=actor.staff_id,
        device_id=actor.device_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=body,
        prev_hash=head.hash,
        hash=digest,
    )
    repository.add(session, entry)
    head.seq = seq
    head.hash = digest
    return entry


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "broken_seq": self.broken_seq,
                "reason": self.reason}


def verify(session: Session, *, clinic_id: str) -> ChainReport:
    """Walk the clinic's chain oldest first; report the first entry that does not hold."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for row in repository.entries(session, clinic_id=clinic_id):
        if row.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"entry {expected_seq} is missing")
        if row.prev_hash != prev:
            return ChainReport(False, checked, row.seq, f"entry {row.seq} does not link to the entry before it")
        digest = entry_hash(
            clinic_id=row.clinic_id,
            seq=row.seq,
            prev_hash=row.prev_hash,
            at=row.at,
            staff_id=row.staff_id,
            device_id=row.device_id,
            action=row.action,
            entity=row.entity,
            entity_id=row.entity_id,
            detail=row.detail,
        )
        if digest != row.hash:
            return ChainReport(False, checked, row.seq, f"entry {row.seq} was changed after it was written")
        prev = row.hash
        expected_seq += 1
        checked += 1
    head = repository.get_head(session, clinic_id=clinic_id)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != checked or head_hash != prev:
        return ChainReport(
            False, checked, checked + 1,
            f"the chain ends at entry {checked} but its recorded tip is entry {head_seq}"
            " (entries were removed from the end)" if head_seq > checked else
            "the chain's recorded tip does not match its last entry",
        )
    return ChainReport(True, checked)


EXPORT_COLUMNS = ("seq", "at", "staff_id", "device_id", "action", "entity", "entity_id", "detail", "prev_hash", "hash")


def export_entries(session: Session, *, clinic_id: str) -> Iterator[dict[str, Any]]:
    """The clinic's chain for :mod:`core.export`, oldest first (``at`` as UTC text, ``detail``
    decoded)."""
    for record in repository.stream_entries(session, clinic_id=clinic_id):
        row = dict(zip(EXPORT_COLUMNS, record, strict=True))
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
        yield row
