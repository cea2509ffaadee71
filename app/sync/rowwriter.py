"""Prepared upserts of pulled rows: one ``executemany`` of plain tuples per entity and field set.

Pulled rows are written by :func:`app.sync.apply.apply_rows` without building ORM objects or
going through SQLAlchemy's per-row bind processing: a :class:`RowWriter` per entity turns wire
values into column values once (datetimes and dates already travel in the store's own text
form, ``2026-11-22T13:53:35.123456Z`` and ``YYYY-MM-DD``, and pass straight through when they
have it; JSON columns are serialised with orjson) and sends them with the DBAPI cursor's
``executemany`` on the session's own connection, so each page stays one transaction with its
cursor.

The statement is ``INSERT ... ON CONFLICT(id) DO UPDATE SET`` the fields the wire row carried
(plus the bookkeeping): a field an older server does not send keeps its local value.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, inspect
from sqlalchemy.engine import Dialect

from app.db.models import SYNCABLE_MODELS, Syncable
from app.db.types import ISODate, UTCDateTime
from app.repositories import rows
from app.repositories.context import Ctx

Convert = Callable[[Any], Any]

#: the store's (and the wire's) datetime text; anything else is parsed and rewritten
_CANONICAL_DT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\Z")
_CANONICAL_DATE = re.compile(r"\d{4}-\d\d-\d\d\Z")
BOOKKEEPING = ("id", "version", "hlc", "deleted", "created_at", "updated_at")
_UPDATED_BOOKKEEPING = ("version", "hlc", "deleted", "updated_at")


def datetime_text(value: Any) -> str | None:
    """A wire datetime as the store keeps it, or None when it is not a tz-aware datetime."""
    if isinstance(value, str):
        if _CANONICAL_DT.match(value):
            return value
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return None


def _db_datetime(value: Any) -> Any:
    text = datetime_text(value)
    if text is None:
        raise ValueError("a datetime field holds a value that is not a tz-aware date and time")
    return text


def _db_date(value: Any) -> Any:
    if isinstance(value, str) and _CANONICAL_DATE.match(value):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10]).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise ValueError("a date field holds a value that is not a date")


def _db_json(value: Any) -> Any:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # a number beyond 64 bits, a non-string key: the standard library copes
        return json.dumps(value)


def _converter(column: Any, dialect: Dialect) -> Convert | None:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _db_datetime
    if isinstance(kind, ISODate):
        return _db_date
    if isinstance(kind, JSON):
        return _db_json
    processor: Convert | None = kind.bind_processor(dialect)
    return processor


def _same_json(held: Any, wire: Any) -> bool:
    if held is None or wire is None:
        return held is None and wire is None
    return bool(json.loads(held) == wire)


class RowWriter:
    """Upserts of one entity's rows, as plain DBAPI parameters."""

    def __init__(self, model: type[Syncable], dialect: Dialect) -> None:
        table = model.__table__  # type: ignore[attr-defined]
        self.name: str = table.name
        self.fields: tuple[str, ...] = tuple(rows.data_fields(model))
        mapper = inspect(model)
        self.convert: dict[str, Convert] = {}
        self.json_fields: frozenset[str] = frozenset(
            f for f in self.fields if isinstance(mapper.columns[f].type, JSON)
        )
        defaults: list[Any] = []
        for name in self.fields:
            column = mapper.columns[name]
            convert = _converter(column, dialect)
            if convert is not None:
                self.convert[name] = convert
            defaults.append(self._db(name, self._default(column)))
        self.defaults = tuple(defaults)
        self._all = frozenset(self.fields)
        self._pick = operator.itemgetter(*self.fields) if len(self.fields) > 1 else None
        self._converted = tuple((self.fields.index(n), fn) for n, fn in self.convert.items())
        self._quote = dialect.identifier_preparer.quote
        self._sql: dict[frozenset[str], str] = {}

    @staticmethod
    def _default(column: Any) -> Any:
        default = column.default
        if default is None:
            return None
        if default.is_scalar:
            return default.arg
        if default.is_callable:
            return default.arg(None)
        return None

    def _db(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        convert = self.convert.get(name)
        return convert(value) if convert is not None else value

    def values(self, data: dict[str, Any]) -> tuple[list[Any], frozenset[str]]:
        """Column values of the data fields (missing ones at their defaults) and the fields the
        data really carried (only those overwrite an existing row)."""
        if self._pick is not None:
            try:
                picked = list(self._pick(data))
            except KeyError:
                pass  # some fields missing (an older server): field by field below
            else:
                for i, fn in self._converted:
                    value = picked[i]
                    if value is not None:
                        picked[i] = fn(value)
                return picked, self._all
        out = list(self.defaults)
        present: list[str] = []
        convert = self.convert
        for i, name in enumerate(self.fields):
            if name in data:
                value = data[name]
                if value is not None:
                    convert_one = convert.get(name)
                    if convert_one is not None:
                        value = convert_one(value)
                out[i] = value
                present.append(name)
        return out, frozenset(present)

    def sql(self, present: frozenset[str]) -> str:
        found = self._sql.get(present)
        if found is None:
            q = self._quote
            names = (*BOOKKEEPING, *self.fields)
            updated = [*_UPDATED_BOOKKEEPING, *(f for f in self.fields if f in present)]
            found = (
                f"INSERT INTO {q(self.name)} ({', '.join(q(n) for n in names)}) "
                f"VALUES ({', '.join('?' for _ in names)}) ON CONFLICT ({q('id')}) DO UPDATE SET "
                + ", ".join(f"{q(n)} = excluded.{q(n)}" for n in updated)
            )
            self._sql[present] = found
        return found

    def write(self, ctx: Ctx, present: frozenset[str], params: list[tuple[Any, ...]]) -> None:
        if params:
            ctx.session.connection().exec_driver_sql(self.sql(present), params)

    def held(self, ctx: Ctx, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
        """``id -> (version, deleted, *data fields)`` as stored, for the rows of ``ids`` held."""
        q = self._quote
        columns = ", ".join(q(n) for n in ("id", "version", "deleted", *self.fields))
        found: dict[str, tuple[Any, ...]] = {}
        conn = ctx.session.connection()
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            marks = ", ".join("?" for _ in chunk)
            for row in conn.exec_driver_sql(
                f"SELECT {columns} FROM {q(self.name)} WHERE {q('id')} IN ({marks})", tuple(chunk)
            ):
                found[row[0]] = tuple(row[1:])
        return found

    def differs(self, held: tuple[Any, ...], values: Sequence[Any], data: dict[str, Any], deleted: bool,
                present: frozenset[str]) -> bool:
        """Whether writing ``values`` changes what ``held`` (from :meth:`held`) shows."""
        if bool(held[1]) != bool(deleted):
            return True
        for i, name in enumerate(self.fields):
            if name not in present:
                continue
            before = held[2 + i]
            if name in self.json_fields:
                if not _same_json(before, data[name]):
                    return True
            elif isinstance(values[i], bool) or isinstance(before, bool):
                if (None if before is None else bool(before)) != (None if values[i] is None else bool(values[i])):
                    return True
            elif before != values[i]:
                return True
        return False

    def index(self, name: str) -> int:
        return self.fields.index(name)


_WRITERS: dict[tuple[str, str], RowWriter] = {}


def writer(entity: str, dialect: Dialect) -> RowWriter | None:
    """The writer of a syncable entity (None for an entity this workstation does not know)."""
    key = (entity, dialect.name)
    found = _WRITERS.get(key)
    if found is None:
        model = SYNCABLE_MODELS.get(entity)
        if model is None:
            return None
        found = _WRITERS[key] = RowWriter(model, dialect)
    return found


__all__ = ["RowWriter", "datetime_text", "writer"]
