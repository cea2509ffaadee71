"""The hash-chained audit log: append in the change's own transaction; verify the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import AuditEntry
from app.db.types import iso_utc
from app.repositories.context import Ctx

GENESIS = "0" * 64


def entry_hash(
    *,
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
        [prev_hash, iso_utc(at), staff_id, device_id, action, entity, entity_id, detail],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(
    ctx: Ctx, action: str, entity: str, entity_id: str | None, detail: dict[str, Any] | None = None
) -> AuditEntry:
    """Append one audit row, chained to the previous one, in the current transaction."""
    detail = json.loads(json.dumps(detail or {}, default=str))
    if ctx.audit_tail is None:
        ctx.audit_tail = ctx.session.execute(
            select(AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).scalar_one_or_none() or GENESIS
    at = ctx.now()
    digest = entry_hash(
        prev_hash=ctx.audit_tail,
        at=at,
        staff_id=ctx.actor.staff_id,
        device_id=ctx.actor.device_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail,
    )
    row = AuditEntry(
        at=at,
        staff_id=ctx.actor.staff_id,
        device_id=ctx.actor.device_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail,
        prev_hash=ctx.audit_tail,
        hash=digest,
    )
    ctx.session.add(row)
    ctx.audit_tail = digest
    return row


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


def verify(session: Session) -> ChainReport:
    """Walk the chain oldest first; report the first row whose link or content does not hold."""
    prev = GENESIS
    checked = 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    for row in rows.yield_per(2000):
        if row.prev_hash != prev:
            return ChainReport(False, checked, row.seq, "its link to the previous entry is broken")
        expected = entry_hash(
            prev_hash=row.prev_hash,
            at=row.at,
            staff_id=row.staff_id,
            device_id=row.device_id,
            action=row.action,
            entity=row.entity,
            entity_id=row.entity_id,
            detail=row.detail,
        )
        if expected != row.hash:
            return ChainReport(False, checked, row.seq, "its content was changed after it was written")
        prev = row.hash
        checked += 1
    return ChainReport(True, checked)
