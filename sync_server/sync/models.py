"""Tables of the sync context.

How they fit together (DESIGN.md, Sync):

- A push is one transaction. It first locks its clinic's :class:`ClinicSyncState` row
  (:func:`sync_server.sync.repository.lock_sequence`), then, for each outbox entry, checks
  :class:`SyncMutation` (a mutation id already seen is acknowledged with its stored result and
  not applied again), merges the change into :class:`SyncRow`, records any lost concurrent
  edit as a :class:`SyncConflict`, and stamps every changed row with the next ``server_seq``.
- A pull reads ``sync_row`` where ``clinic_id = :c and server_seq > :cursor order by
  server_seq`` in pages. Because sequence numbers are assigned while the clinic's state row
  is locked and that lock is held until commit, pushes for one clinic commit in sequence
  order: a reader can never see seq N+1 committed while N is still in flight, so a cursor
  never skips a late-committing row (the PostgreSQL pitfall of plain sequences).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.orm import Base, ClinicOwned, clinic_id_column


class ClinicSyncState(Base):
    """One row per clinic: the last server sequence number handed out.

    This row is the per-clinic serialisation point of pushes: a pushing transaction takes it
    with ``SELECT ... FOR UPDATE`` (PostgreSQL) before it reads or writes any sync row, and
    keeps it until commit. On SQLite the write transaction (``BEGIN IMMEDIATE``) already holds
    the database's single write lock.
    """

    __tablename__ = "clinic_sync_state"

    clinic_id: Mapped[str] = clinic_id_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncRow(ClinicOwned, Base):
    """The server's copy of every syncable record, whatever its entity kind.

    ``(entity, id)`` names the record (``id`` is the UUIDv7 made where it was created);
    ``version`` counts accepted changes; ``hlc`` is the hybrid-logical-clock stamp of the last
    change; ``deleted`` is a tombstone (rows are never removed, so a pull can deliver deletes);
    ``data`` holds the record's fields as JSON; ``server_seq`` is the clinic sequence number of
    the last accepted change and is what pulls page on.
    """

    __tablename__ = "sync_row"
    __table_args__ = (Index(None, "clinic_id", "server_seq"),)

    clinic_id: Mapped[str] = clinic_id_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(60), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    hlc: Mapped[str] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]]
    #: the merge bookkeeping (:meth:`core.merge.RowState.to_meta`): field stamps, losing writes,
    #: deletes; None for a row written outside the merge (every field then carries ``hlc``)
    meta: Mapped[dict[str, Any] | None]
    server_seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class SyncMutation(Base):
    """Every outbox entry the server has accepted, by its client-made mutation id.

    A push that repeats a mutation id (the desktop was killed between push and acknowledgement)
    gets the stored ``result`` back and changes nothing. The primary key (clinic_id,
    mutation_id) makes a concurrent duplicate fail instead of applying twice.
    """

    __tablename__ = "sync_mutation"
    __table_args__ = (
        ForeignKeyConstraint(["clinic_id", "device_id"], ["device.clinic_id", "device.id"]),
        ForeignKeyConstraint(["clinic_id", "staff_id"], ["staff.clinic_id", "staff.id"]),
    )

    clinic_id: Mapped[str] = clinic_id_column(primary_key=True)
    mutation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36))
    staff_id: Mapped[str | None] = mapped_column(String(36))
    received_at: Mapped[datetime]
    result: Mapped[dict[str, Any]]


class SyncConflict(ClinicOwned, Base):
    """A concurrent edit of one field that lost the merge, kept so that staff can review it.

    Nothing is lost silently: the winning and the losing value are both here, with who made
    the losing edit, until someone marks it ``resolved``.
    """

    __tablename__ = "sync_conflict"
    __table_args__ = (
        ForeignKeyConstraint(
            ["clinic_id", "losing_device_id"], ["device.clinic_id", "device.id"]
        ),
        ForeignKeyConstraint(["clinic_id", "losing_staff_id"], ["staff.clinic_id", "staff.id"]),
        Index(None, "clinic_id", "resolved"),
        # one losing write of one field of one row is recorded once (core.sync.Conflict.key)
        UniqueConstraint("clinic_id", "entity", "entity_id", "field", "kind", "loser_hlc", name="uq_sync_conflict_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(80))
    #: ``concurrent_edit`` or ``edit_of_deleted`` (core.sync.ConflictKind)
    kind: Mapped[str] = mapped_column(String(20))
    winning_value: Mapped[Any] = mapped_column(nullable=True)
    losing_value: Mapped[Any] = mapped_column(nullable=True)
    winner_hlc: Mapped[str] = mapped_column(String(100))
    winner_staff_id: Mapped[str | None] = mapped_column(String(36))
    loser_hlc: Mapped[str] = mapped_column(String(100))
    losing_device_id: Mapped[str | None] = mapped_column(String(36))
    losing_staff_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_at: Mapped[datetime | None]
    resolved_by_staff_id: Mapped[str | None] = mapped_column(String(36))


class AppointmentSlot(Base):
    """The time an active appointment holds its provider, room and equipment (server-owned).

    Kept by the push service (and the demo seeder) next to the appointment's ``sync_row``:
    ``held_from``/``held_until`` include the service's set-up and clean-up buffers. Only active
    appointments (:data:`core.states.ACTIVE_APPOINTMENT_STATES`, not deleted) have a slot, so
    finding a double booking is an indexed range query instead of a scan of JSON documents.
    Pushes of one clinic are serialised by the sequence lock, so check-then-write is safe.
    """

    __tablename__ = "appointment_slot"
    __table_args__ = (
        Index(None, "clinic_id", "provider_id", "held_from"),
        Index(None, "clinic_id", "room_id", "held_from"),
        Index(None, "clinic_id", "device_id", "held_from"),
    )

    clinic_id: Mapped[str] = clinic_id_column(primary_key=True)
    appointment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(36))
    room_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(36))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    held_from: Mapped[datetime]
    held_until: Mapped[datetime]
