"""The sync context's service.

Now: per-clinic sequence numbering. The sync step adds ``push`` / ``pull`` here (keyword-only
arguments, session passed in, never committing); a push is::

    seq = SequenceLease.lock(session, clinic_id=device.clinic_id)   # first statement of the push
    for entry in outbox_entries:
        ...check sync_mutation, merge into sync_row...
        row.server_seq = seq.next()
    # the request boundary commits; the clinic_sync_state row lock is released at commit
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sync_server.sync import repository
from sync_server.sync.models import ClinicSyncState


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
