"""Writing syncable rows: bookkeeping (version, HLC, tombstone) plus the outbox entry, together.

``version`` is the last version the server confirmed (1 for a row made here and not yet
synced): local edits do not bump it, so the ``base_version`` an outbox entry carries is always a
version the server really gave out, and the server's field-level merge (core.merge) can tell a
concurrent edit from one that had seen the other. Every local change goes through :func:`insert`, :func:`update` or :func:`tombstone`, which append
the outbox entry in the same transaction as the change itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import inspect

from app.db.models import APPEND_ONLY, OutboxEntry, Syncable
from app.db.types import iso_utc
from app.repositories.context import Ctx
from core.ids import new_id

T = TypeVar("T", bound=Syncable)

BOOKKEEPING = frozenset({"id", "version", "hlc", "deleted", "created_at", "updated_at"})


def wire_value(value: Any) -> Any:
    """A column value as it travels in JSON (datetimes as UTC ISO text, dates as ISO dates)."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: wire_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire_value(v) for v in value]
    return value


def data_fields(model: type[Syncable]) -> list[str]:
    return [c.key for c in inspect(model).column_attrs if c.key not in BOOKKEEPING]


def row_fields(row: Syncable) -> dict[str, Any]:
    return {k: wire_value(getattr(row, k)) for k in data_fields(type(row))}


def apply_defaults(row: Syncable) -> None:
    """Fill unset columns with their model defaults now, not at flush.

    The outbox entry of an insert is built before the flush; without this it would carry None
    for every column left to its default (``vip``, ``tags``, ``consents``...), and the server
    would receive nulls where the local row holds values.
    """
    for attr in inspect(type(row)).column_attrs:
        if attr.key in BOOKKEEPING or getattr(row, attr.key) is not None:
            continue
        default = attr.columns[0].default
        if default is None:
            continue
        if default.is_scalar:
            setattr(row, attr.key, default.arg)
        elif default.is_callable:
            setattr(row, attr.key, default.arg(None))


def _outbox(ctx: Ctx, row: Syncable, op: str, fields: dict[str, Any], base_version: int) -> None:
    ctx.session.add(
        OutboxEntry(
            mutation_id=new_id(),
            entity=row.__tablename__,  # type: ignore[attr-defined]
            entity_id=row.id,
            op=op,
            fields=fields,
            base_version=base_version,
            hlc=row.hlc,
            staff_id=ctx.actor.staff_id,
            created_at=ctx.now(),
        )
    )


def insert(ctx: Ctx, row: T) -> T:
    """Add a new row with fresh bookkeeping and its outbox entry."""
    now = ctx.now()
    if not getattr(row, "id", None):
        row.id = new_id()
    row.version = 1
    row.hlc = str(ctx.hlc.now())
    row.deleted = False
    row.created_at = now
    row.updated_at = now
    apply_defaults(row)
    ctx.session.add(row)
    table = row.__tablename__  # type: ignore[attr-defined]
    _outbox(ctx, row, "append" if table in APPEND_ONLY else "insert", row_fields(row), 0)
    ctx.changed.add(table)
    return row


def update(ctx: Ctx, row: Syncable, changes: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Apply ``changes`` field by field; returns {field: (old, new)} for what really changed.

    Nothing changed means no version bump and no outbox entry.
    """
    table = row.__tablename__  # type: ignore[attr-defined]
    if table in APPEND_ONLY:
        raise ValueError(f"{table} rows are append-only")
    allowed = set(data_fields(type(row)))
    diff: dict[str, tuple[Any, Any]] = {}
    for key, new in changes.items():
        if key not in allowed:
            raise KeyError(f"{table} has no editable field {key!r}")
        old = getattr(row, key)
        if old != new:
            diff[key] = (old, new)
    if not diff:
        return diff
    base = row.version
    for key, (_, new) in diff.items():
        setattr(row, key, new)
    row.hlc = str(ctx.hlc.now())
    row.updated_at = ctx.now()
    _outbox(ctx, row, "update", {k: wire_value(v[1]) for k, v in diff.items()}, base)
    ctx.changed.add(table)
    return diff


def tombstone(ctx: Ctx, row: Syncable) -> None:
    """Delete by tombstone: the row stays, marked deleted, so the delete can sync."""
    if row.deleted:
        return
    base = row.version
    row.deleted = True
    row.hlc = str(ctx.hlc.now())
    row.updated_at = ctx.now()
    _outbox(ctx, row, "delete", {}, base)
    ctx.changed.add(row.__tablename__)  # type: ignore[attr-defined]
