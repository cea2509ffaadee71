"""Server-side writes to synced records, in the caller's transaction. Services never commit.

A webhook, job or public page that creates or changes a synced record (a patient, a lead, a
timeline entry, a consent) goes through :class:`ServerWrites`, the same path a workstation's
push takes, with the server's authority:

1. the clinic's sequence is locked first (:class:`sync_server.sync.service.SequenceLease`, the
   lock order every writer follows: ``clinic_sync_state`` before ``audit_head``), so the
   change is numbered and becomes visible in order with the desktops' pushes;
2. :func:`core.merge.merge_update` with ``authority="server"`` merges the change (the server
   may set server-owned fields such as consents or lead claims);
3. the row is stored with the next ``server_seq`` and an audit entry is appended;
4. the transaction's high water is left in ``session.info`` so that the job worker can wake the
   live channel after commit; desktops receive the change through pull / live.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import HybridLogicalClock
from core.errors import GlowdeskError
from core.ids import new_id
from core.merge import RowState, merge_update
from core.sync import Mutation, Op
from sync_server.audit import service as audit
from sync_server.sync import repository as sync_repo
from sync_server.sync.models import SyncRow
from sync_server.sync.service import SequenceLease, state_of

#: session.info key read by the job worker after commit: (clinic_id, last seq written).
HIGH_WATER = "glowdesk.high_water"


class ServerWriteRefused(GlowdeskError):
    """The merge refused a server write (a bug in the caller: wrong fields or op)."""

    code = "server_write_refused"
    status = 500


class ServerWrites:
    def __init__(self, session: Session, *, clinic_id: str, now: datetime, hlc: HybridLogicalClock,
                 actor: audit.Actor | None = None, lease: SequenceLease | None = None) -> None:
        self.session = session
        self.clinic_id = clinic_id
        self.now = now
        self.hlc = hlc
        self.actor = actor or audit.Actor(via="server")
        # first, before anything in this transaction appends to the audit chain (a push passes
        # the lease it already holds)
        self.lease = lease or SequenceLease.lock(session, clinic_id=clinic_id)

    # --- reads -----------------------------------------------------------------------------

    def get(self, entity: str, entity_id: str) -> dict[str, Any] | None:
        """A live record's data (None when absent or deleted)."""
        row = sync_repo.get_row(self.session, clinic_id=self.clinic_id, entity=entity, entity_id=entity_id)
        if row is None or row.deleted:
            return None
        return dict(row.data)

    def find(self, entity: str, **equals: str) -> list[tuple[str, dict[str, Any]]]:
        """Live records whose top-level fields equal the given text values, oldest first."""
        return find(self.session, clinic_id=self.clinic_id, entity=entity, **equals)

    # --- writes ----------------------------------------------------------------------------

    def insert(self, entity: str, fields: dict[str, Any], *, entity_id: str | None = None) -> str:
        return self._apply(entity, entity_id or new_id(), Op.INSERT, {"clinic_id": self.clinic_id, **fields}, 0)

    def append(self, entity: str, fields: dict[str, Any], *, entity_id: str | None = None) -> str:
        return self._apply(entity, entity_id or new_id(), Op.APPEND, {"clinic_id": self.clinic_id, **fields}, 0)

    def update(self, entity: str, entity_id: str, fields: dict[str, Any]) -> bool:
        """Change some fields of an existing record; False when nothing changed."""
        row = sync_repo.get_row(self.session, clinic_id=self.clinic_id, entity=entity, entity_id=entity_id)
        if row is None:
            raise ServerWriteRefused(f"There is no {entity} {entity_id} to update.")
        before = row.server_seq
        self._apply(entity, entity_id, Op.UPDATE, fields, row.version)
        return row.server_seq != before

    def _apply(self, entity: str, entity_id: str, op: Op, fields: dict[str, Any], base_version: int) -> str:
        row = sync_repo.get_row(self.session, clinic_id=self.clinic_id, entity=entity, entity_id=entity_id)
        current = state_of(row) if row is not None else RowState.absent(entity, entity_id)
        mutation = Mutation(mutation_id=new_id(), entity=entity, entity_id=entity_id, op=op.value, fields=fields,
                            base_version=base_version, hlc=str(self.hlc.now()))
        outcome = merge_update(current, mutation, authority="server")
        if outcome.status == "rejected":
            raise ServerWriteRefused(f"The server could not write a {entity}: {outcome.reason}")
        if not outcome.changed:
            return entity_id
        seq = self.lease.next()
        new = outcome.row
        if row is None:
            row = SyncRow(clinic_id=self.clinic_id, entity=entity, id=entity_id, created_at=self.now)
            sync_repo.add_row(self.session, row)
        row.version = new.version
        row.hlc = new.hlc
        row.deleted = new.deleted
        row.data = dict(new.data)
        row.meta = new.to_meta()
        row.server_seq = seq
        row.updated_at = self.now
        audit.append(self.session, clinic_id=self.clinic_id, actor=self.actor, action=f"server.{op.value}",
                     entity=entity, entity_id=entity_id,
                     detail={"seq": seq, "fields": sorted(outcome.changed_fields)}, now=self.now)
        self.session.info[HIGH_WATER] = (self.clinic_id, seq)
        return entity_id


def find(session: Session, *, clinic_id: str, entity: str, **equals: str) -> list[tuple[str, dict[str, Any]]]:
    """Live rows of ``entity`` whose JSON fields equal the given values (a scan of the clinic's
    rows of that entity; fine at clinic sizes, see docs/integrations.md)."""
    stmt = select(SyncRow.id, SyncRow.data).where(
        SyncRow.clinic_id == clinic_id, SyncRow.entity == entity, SyncRow.deleted.is_(False)
    )
    for name, value in equals.items():
        stmt = stmt.where(SyncRow.data[name].as_string() == value)
    return [(rid, dict(data)) for rid, data in session.execute(stmt.order_by(SyncRow.created_at, SyncRow.id))]
