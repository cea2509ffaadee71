"""Queries of the sync context: the per-clinic sequence lock and the row store.

The sync step adds its push/pull queries here; every one of them takes ``clinic_id``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.db import insert_ignore
from sync_server.sync.models import ClinicSyncState


def create_state(session: Session, *, clinic_id: str) -> None:
    """Make the clinic's sequence row (idempotent)."""
    insert_ignore(session, ClinicSyncState, {"clinic_id": clinic_id, "last_seq": 0})


def lock_sequence(session: Session, *, clinic_id: str) -> ClinicSyncState:
    """Lock the clinic's sequence row until this transaction ends, and return it.

    PostgreSQL: ``SELECT ... FOR UPDATE``; a second pushing transaction for the same clinic
    waits here until the first commits or rolls back, then reads the committed ``last_seq``.
    SQLite: ``FOR UPDATE`` is not rendered; the request's ``BEGIN IMMEDIATE`` already holds
    the single write lock. Call this *first* in a push, before reading any sync row, so the
    merge decisions are serialised per clinic as well as the numbering.
    """
    create_state(session, clinic_id=clinic_id)
    return session.execute(
        select(ClinicSyncState)
        .where(ClinicSyncState.clinic_id == clinic_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def last_seq(session: Session, *, clinic_id: str) -> int:
    """The highest committed sequence number (no lock; what a pull may read up to)."""
    value = session.execute(
        select(ClinicSyncState.last_seq).where(ClinicSyncState.clinic_id == clinic_id)
    ).scalar_one_or_none()
    return value or 0
