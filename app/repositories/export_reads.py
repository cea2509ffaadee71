"""Reading the whole store in wire form for the data export (``core.export``), from one snapshot.

Rows come straight from the driver's cursor (no ORM objects: an export reads every row of the
store): datetimes and dates are already stored as their wire text, JSON columns are decoded and
SQLite's 0/1 become booleans. Rows come in storage order (a full scan: reading every row through
an index, or sorting them, costs a third more), so two exports of the same store list the same
rows in the same order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.repositories.context import Ctx
from core.export import AUDIT
from core.export.jsonio import loads
from core.sync import ENTITIES, FieldType

_BATCH = 2000
_BOOKKEEPING = ("id", "version", "deleted", "created_at", "updated_at")
AUDIT_COLUMNS = ("seq", "at", "staff_id", "device_id", "action", "entity", "entity_id", "detail", "prev_hash",
                 "hash")


def begin_snapshot(ctx: Ctx) -> None:
    """Make every following read of this unit of work see one snapshot of the store.

    The SQLite driver starts a transaction only before a write, so each SELECT would otherwise
    see the store as it is at that moment (a sync or the app writing between the export's
    reads would make its files disagree with each other). A deferred ``BEGIN`` holds a read
    snapshot (WAL: writers carry on) until the unit of work ends.
    """
    dbapi = ctx.session.connection().connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        cursor = dbapi.cursor()
        try:
            cursor.execute("BEGIN")
        finally:
            cursor.close()


def _stream(ctx: Ctx, sql: str, params: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    dbapi = ctx.session.connection().connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(_BATCH):
            yield from batch
    finally:
        cursor.close()


def wire_rows(ctx: Ctx, entity: str, *, clinic_id: str) -> Iterator[dict[str, Any]]:
    """Every row of a sync entity of this clinic, deleted ones included, in wire form."""
    spec = ENTITIES[entity]
    fields = tuple(spec.fields)
    columns = _BOOKKEEPING + fields
    json_fields = [f.name for f in spec.fields.values() if f.type in (FieldType.OBJECT, FieldType.LIST)]
    bool_fields = ["deleted", *(f.name for f in spec.fields.values() if f.type is FieldType.BOOL)]
    owner = "id" if entity == "clinic" else "clinic_id"
    # "+": filter while scanning the table in storage order, rather than through the clinic index
    sql = f'SELECT {", ".join(columns)} FROM "{entity}" WHERE +{owner} = ?'
    for record in _stream(ctx, sql, (clinic_id,)):
        row = dict(zip(columns, record, strict=True))
        for name in json_fields:
            value = row[name]
            if value is not None:
                row[name] = loads(value)
        for name in bool_fields:
            value = row[name]
            if value is not None:
                row[name] = bool(value)
        yield row


def audit_rows(ctx: Ctx) -> Iterator[dict[str, Any]]:
    """This workstation's audit log, oldest first, with its chain."""
    sql = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log ORDER BY seq"
    for record in _stream(ctx, sql, ()):
        row = dict(zip(AUDIT_COLUMNS, record, strict=True))
        if row["detail"] is not None:
            row["detail"] = loads(row["detail"])
        yield row


def rows(ctx: Ctx, source: str, *, clinic_id: str) -> Iterator[dict[str, Any]]:
    """The rows of an export source (a sync entity, or the audit trail)."""
    if source == AUDIT:
        return audit_rows(ctx)
    return wire_rows(ctx, source, clinic_id=clinic_id)
