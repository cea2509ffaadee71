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

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import HybridLogicalClock
from core.errors import GlowdeskError
from core.ids import new_id
from core.merge import RowState, Stamp, merge_update
from core.sync import Mutation, Op, canonical_json, check_field_value, entity_spec, normalise_value
from sync_server.audit import service as audit
from sync_server.sync import repository as sync_repo
from sync_server.sync.models import SyncRow
from sync_server.sync.service import SequenceLease, state_of

log = logging.getLogger(__name__)

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

    def _owned(self, entity: str, fields: dict[str, Any]) -> dict[str, Any]:
        return {"clinic_id": self.clinic_id, **fields} if "clinic_id" in entity_spec(entity).fields else fields

    def insert(self, entity: str, fields: dict[str, Any], *, entity_id: str | None = None) -> str:
        return self._apply(entity, entity_id or new_id(), Op.INSERT, self._owned(entity, fields), 0)

    def append(self, entity: str, fields: dict[str, Any], *, entity_id: str | None = None) -> str:
        return self._apply(entity, entity_id or new_id(), Op.APPEND, self._owned(entity, fields), 0)

    def update(self, entity: str, entity_id: str, fields: dict[str, Any]) -> bool:
        """Change some fields of an existing record; False when nothing changed."""
        row = sync_repo.get_row(self.session, clinic_id=self.clinic_id, entity=entity, entity_id=entity_id)
        if row is None:
            raise ServerWriteRefused(f"There is no {entity} {entity_id} to update.")
        before = row.server_seq
        self._apply(entity, entity_id, Op.UPDATE, fields, row.version)
        return row.server_seq != before

    def delete(self, entity: str, entity_id: str) -> bool:
        """Tombstone a record (it stays, deleted, so that pulls deliver the delete)."""
        row = sync_repo.get_row(self.session, clinic_id=self.clinic_id, entity=entity, entity_id=entity_id)
        if row is None:
            raise ServerWriteRefused(f"There is no {entity} {entity_id} to delete.")
        if row.deleted:
            return False
        self._apply(entity, entity_id, Op.DELETE, {}, row.version)
        return True

    def correct(self, entity: str, entity_id: str, fields: dict[str, Any]) -> bool:
        """Set fields of a record outright, an append-only one included: a correction only the
        server makes (a merge moving timeline entries to the surviving record). Numbered,
        audited and pulled like any change; False when nothing changed."""
        row = sync_repo.get_row(self.session, clinic_id=self.clinic_id, entity=entity, entity_id=entity_id)
        if row is None:
            raise ServerWriteRefused(f"There is no {entity} {entity_id} to correct.")
        spec = entity_spec(entity)
        values: dict[str, Any] = {}
        for name, value in fields.items():
            check_field_value(spec, name, value)
            values[name] = normalise_value(spec.fields[name], value)
        state = state_of(row)
        changed = {k: v for k, v in values.items() if canonical_json(v) != canonical_json(state.data.get(k))}
        if not changed:
            return False
        version = state.version + 1
        stamp = Stamp(self._stamp_after(state), version, state.version, None)
        new = replace(state, version=version, data={**state.data, **changed},
                      stamps={**state.stamps, **{k: stamp for k in changed}})
        self._store(row, new, action="server.correct", changed=frozenset(changed))
        return True

    def _apply(self, entity: str, entity_id: str, op: Op, fields: dict[str, Any], base_version: int) -> str:
        row = sync_repo.get_row(self.session, clinic_id=self.clinic_id, entity=entity, entity_id=entity_id)
        current = state_of(row) if row is not None else RowState.absent(entity, entity_id)
        mutation = Mutation(mutation_id=new_id(), entity=entity, entity_id=entity_id, op=op.value, fields=fields,
                            base_version=base_version, hlc=self._stamp_after(current))
        outcome = merge_update(current, mutation, authority="server")
        if outcome.status == "rejected":
            raise ServerWriteRefused(f"The server could not write a {entity}: {outcome.reason}")
        if not outcome.changed:
            return entity_id
        if row is None:
            row = SyncRow(clinic_id=self.clinic_id, entity=entity, id=entity_id, created_at=self.now)
            sync_repo.add_row(self.session, row)
        self._store(row, outcome.row, action=f"server.{op.value}", changed=outcome.changed_fields)
        return entity_id

    def _stamp_after(self, current: RowState) -> str:
        """A stamp after every stamp on the row: the server decided on what it read, so its write
        is newer than that (a workstation whose clock runs ahead does not outvote it)."""
        if current.hlc:
            try:
                self.hlc.observe(current.hlc)
            except ValueError:
                log.warning("a stored stamp is more than a day ahead of the server's clock; not followed")
        return str(self.hlc.now())

    def _store(self, row: SyncRow, new: RowState, *, action: str, changed: frozenset[str]) -> None:
        seq = self.lease.next()
        row.version = new.version
        row.hlc = new.hlc
        row.deleted = new.deleted
        row.data = dict(new.data)
        row.meta = new.to_meta()
        row.server_seq = seq
        row.updated_at = self.now
        audit.append(self.session, clinic_id=self.clinic_id, actor=self.actor, action=action,
                     entity=row.entity, entity_id=row.id, detail={"seq": seq, "fields": sorted(changed)},
                     now=self.now)
        self.session.info[HIGH_WATER] = (self.clinic_id, seq)

    def row(self, entity: str, entity_id: str) -> SyncRow | None:
        """The stored row (deleted or not), for callers that answer with it (``change_of``)."""
        return sync_repo.get_row(self.session, clinic_id=self.clinic_id, entity=entity, entity_id=entity_id)

def find(session: Session, *, clinic_id: str, entity: str, **equals: str) -> list[tuple[str, dict[str, Any]]]:
    """Live rows of ``entity`` whose JSON fields equal the given values (a scan of the clinic's
    rows of that entity; fine at clinic sizes, see docs/integrations.md)."""
    stmt = select(SyncRow.id, SyncRow.data).where(
        SyncRow.clinic_id == clinic_id, SyncRow.entity == entity, SyncRow.deleted.is_(False)
    )
    for name, value in equals.items():
        stmt = stmt.where(SyncRow.data[name].as_string() == value)
    return [(rid, dict(data)) for rid, data in session.execute(stmt.order_by(SyncRow.created_at, SyncRow.id))]
