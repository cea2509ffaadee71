"""Queries of the audit context. Every function is scoped by ``clinic_id``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from sync_server.audit.models import AuditEntry, AuditHead
from sync_server.db import insert_ignore, utc_text

GENESIS = "0" * 64


def lock_head(session: Session, *, clinic_id: str) -> AuditHead:
    """The clinic's chain tip, locked for this transaction (created on first use)."""
    insert_ignore(session, AuditHead, {"clinic_id": clinic_id, "seq": 0, "hash": GENESIS})
    return session.execute(
        select(AuditHead)
        .where(AuditHead.clinic_id == clinic_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def get_head(session: Session, *, clinic_id: str) -> AuditHead | None:
    return session.execute(
        select(AuditHead).where(AuditHead.clinic_id == clinic_id)
    ).scalar_one_or_none()


def add(session: Session, entry: AuditEntry) -> None:
    session.add(entry)


def entries(session: Session, *, clinic_id: str) -> Iterator[AuditEntry]:
    """The clinic's entries, oldest first, streamed in batches."""
    result = session.execute(
        select(AuditEntry)
        .where(AuditEntry.clinic_id == clinic_id)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=1000)
    ).scalars()
    yield from result


def stream_entries(session: Session, *, clinic_id: str) -> Iterator[Any]:
    """The clinic's entries as plain tuples, oldest first, ``at`` as UTC text and ``detail`` as
    JSON text (the export)."""
    result = session.execute(
        select(AuditEntry.seq, utc_text(session, AuditEntry.at), AuditEntry.staff_id, AuditEntry.device_id, AuditEntry.action,
               AuditEntry.entity, AuditEntry.entity_id, cast(AuditEntry.detail, Text), AuditEntry.prev_hash,
               AuditEntry.hash)
        .where(AuditEntry.clinic_id == clinic_id)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=2000)
    )
    yield from result
