"""Tables of the audit context: audit_entry (the chain) and audit_head (its tip, per clinic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.orm import Base, ClinicOwned, clinic_id_column


class AuditEntry(ClinicOwned, Base):
    """One audited action. Append-only: the RLS role may INSERT and SELECT, never UPDATE/DELETE.

    ``hash`` = SHA-256 over the canonical JSON of (clinic_id, seq, prev_hash, at, staff_id,
    device_id, action, entity, entity_id, detail); ``prev_hash`` is the previous entry's hash
    (64 zeros for the first), so changing, removing or reordering any entry breaks the chain.
    ``detail`` holds ids and field names, never patient data.
    """

    __tablename__ = "audit_entry"

    clinic_id: Mapped[str] = clinic_id_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    staff_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(ClinicOwned, Base):
    """The tip of a clinic's chain: the last ``seq`` and ``hash``.

    Appending locks this row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite write
    transactions are already serialised), so concurrent appends never fork the chain; and
    ``verify`` compares it with the last entry, so deleting entries from the end is detected.
    """

    __tablename__ = "audit_head"

    clinic_id: Mapped[str] = clinic_id_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))
