"""Queries of the sync context: the per-clinic sequence lock, the row store, mutations, conflicts
and appointment slots. Every function takes ``clinic_id`` and filters on it (RLS filters again on
PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Text, cast, delete, func, insert, select
from sqlalchemy.orm import Session

from sync_server.db import insert_ignore, utc_text
from sync_server.sync.models import AppointmentSlot, ClinicSyncState, SyncConflict, SyncMutation, SyncRow


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


# --- rows ------------------------------------------------------------------------------------


def get_row(session: Session, *, clinic_id: str, entity: str, entity_id: str) -> SyncRow | None:
    return session.get(SyncRow, (clinic_id, entity, entity_id))


def add_row(session: Session, row: SyncRow) -> None:
    session.add(row)


def rows_data(session: Session, *, clinic_id: str, entity: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{id: data}`` of some rows of one entity (names for messages, service buffers)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    result = session.execute(
        select(SyncRow.id, SyncRow.data).where(
            SyncRow.clinic_id == clinic_id, SyncRow.entity == entity, SyncRow.id.in_(wanted)
        )
    )
    return {rid: data for rid, data in result}


PAGE_COLUMNS = (
    SyncRow.server_seq, SyncRow.entity, SyncRow.id, SyncRow.version, SyncRow.hlc, SyncRow.deleted,
    SyncRow.data, SyncRow.meta, SyncRow.created_at, SyncRow.updated_at,
)


def page(session: Session, *, clinic_id: str, cursor: int, limit: int) -> Sequence[Row[Any]]:
    """Rows changed after ``cursor``, oldest change first, at most ``limit`` (plain tuples)."""
    return session.execute(
        select(*PAGE_COLUMNS)
        .where(SyncRow.clinic_id == clinic_id, SyncRow.server_seq > cursor)
        .order_by(SyncRow.server_seq)
        .limit(limit)
    ).all()


def _time_text(column: Any, dialect: str) -> Any:
    """A timestamp column as text: the wire's ``...%fZ`` on PostgreSQL (``to_char``), the stored
    ``YYYY-MM-DD HH:MM:SS.ffffff`` on SQLite (:func:`sync_server.sync.service.iso_text` ends it)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    return cast(column, Text)


def page_raw(session: Session, *, clinic_id: str, cursor: int, limit: int) -> Sequence[Row[Any]]:
    """Like :func:`page`, with ``data`` and ``meta`` as their stored JSON text (not decoded) and
    the two timestamps as text, so that nothing of a page is decoded only to be encoded again."""
    dialect = session.get_bind().dialect.name
    rows: Sequence[Row[Any]] = session.execute(
        select(
            SyncRow.server_seq, SyncRow.entity, SyncRow.id, SyncRow.version, SyncRow.hlc, SyncRow.deleted,
            cast(SyncRow.data, Text), cast(SyncRow.meta, Text),
            _time_text(SyncRow.created_at, dialect), _time_text(SyncRow.updated_at, dialect),
        )
        .where(SyncRow.clinic_id == clinic_id, SyncRow.server_seq > cursor)
        .order_by(SyncRow.server_seq)
        .limit(limit)
    ).all()
    return rows


def bulk_insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert many sync rows in one executemany (the demo seeder)."""
    if rows:
        session.execute(insert(SyncRow), rows)


# --- mutations -------------------------------------------------------------------------------


def get_mutation(session: Session, *, clinic_id: str, mutation_id: str) -> SyncMutation | None:
    return session.get(SyncMutation, (clinic_id, mutation_id))


def add_mutation(session: Session, mutation: SyncMutation) -> None:
    session.add(mutation)
    session.flush()  # a repeat of the same id later in the same push must see it


# --- conflicts -------------------------------------------------------------------------------


def record_conflict(session: Session, values: dict[str, Any]) -> None:
    """Insert a conflict record unless the same losing write is already recorded."""
    insert_ignore(session, SyncConflict, values)


def open_conflicts(session: Session, *, clinic_id: str) -> Sequence[SyncConflict]:
    return session.execute(
        select(SyncConflict)
        .where(SyncConflict.clinic_id == clinic_id, SyncConflict.resolved.is_(False))
        .order_by(SyncConflict.created_at, SyncConflict.id)
    ).scalars().all()


# --- appointment slots -----------------------------------------------------------------------

#: The longest time one appointment may hold a resource, set-up and clean-up included. Bounds
#: the overlap queries below to an index range.
MAX_HELD = timedelta(hours=24)


def get_slot(session: Session, *, clinic_id: str, appointment_id: str) -> AppointmentSlot | None:
    return session.get(AppointmentSlot, (clinic_id, appointment_id))


def put_slot(session: Session, slot: AppointmentSlot) -> None:
    session.merge(slot)


def delete_slot(session: Session, *, clinic_id: str, appointment_id: str) -> None:
    session.execute(
        delete(AppointmentSlot)
        .where(AppointmentSlot.clinic_id == clinic_id, AppointmentSlot.appointment_id == appointment_id)
        .execution_options(synchronize_session="fetch")
    )


def bulk_insert_slots(session: Session, slots: list[dict[str, Any]]) -> None:
    if slots:
        session.execute(insert(AppointmentSlot), slots)


def overlapping_slots(
    session: Session,
    *,
    clinic_id: str,
    column: str,
    value: str,
    held_from: datetime,
    held_until: datetime,
    exclude_id: str,
) -> Sequence[AppointmentSlot]:
    """Slots holding ``column`` (provider_id, room_id or device_id) = ``value`` at any moment of
    [held_from, held_until), other than appointment ``exclude_id``."""
    col = getattr(AppointmentSlot, column)
    return session.execute(
        select(AppointmentSlot)
        .where(
            AppointmentSlot.clinic_id == clinic_id,
            col == value,
            AppointmentSlot.held_from < held_until,
            AppointmentSlot.held_from > held_from - MAX_HELD,
            AppointmentSlot.held_until > held_from,
            AppointmentSlot.appointment_id != exclude_id,
        )
        .order_by(AppointmentSlot.held_from)
        .limit(5)
    ).scalars().all()


# --- export ----------------------------------------------------------------------------------


def stream_rows(session: Session, *, clinic_id: str, entity: str) -> Iterator[Any]:
    """Every row of one entity of the clinic, deleted ones included, in id order, streamed:
    ``(id, version, deleted, data as JSON text, created_at, updated_at as UTC text)`` (the data
    export)."""
    result = session.execute(
        select(SyncRow.id, SyncRow.version, SyncRow.deleted, cast(SyncRow.data, Text),
               utc_text(session, SyncRow.created_at), utc_text(session, SyncRow.updated_at))
        .where(SyncRow.clinic_id == clinic_id, SyncRow.entity == entity)
        .order_by(SyncRow.id)
        .execution_options(yield_per=2000)
    )
    yield from result
