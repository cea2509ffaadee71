"""The declarative base shared by every context's ``models.py``, its naming convention and types.

The MetaData naming convention gives every constraint and index a deterministic name, which
Alembic needs to alter them later (SQLite batch mode recreates tables by name).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, MetaData, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A tz-aware UTC datetime: ``timestamptz`` on PostgreSQL, UTC text on SQLite.

    A naive datetime is refused on the way in and never handed out on the way back.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("UTCDateTime needs a tz-aware datetime")
        aware: datetime = value.astimezone(UTC)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        if stored.tzinfo is None:
            return stored.replace(tzinfo=UTC)
        return stored.astimezone(UTC)


#: JSON documents: ``jsonb`` on PostgreSQL, JSON1 text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        Any: JSONType,
    }


def clinic_id_column(*, primary_key: bool = False) -> Mapped[str]:
    """The ``clinic_id`` column of a clinic-owned table (a foreign key to ``clinic``)."""
    return mapped_column(
        String(36), ForeignKey("clinic.id"), primary_key=primary_key, nullable=False
    )


class ClinicOwned:
    """Mixin for every row that belongs to one clinic.

    Repositories always filter on ``clinic_id``; on PostgreSQL a row-level security policy on
    the same column filters again (see :mod:`sync_server.tenancy`). A table whose key starts
    with the clinic overrides the attribute with ``clinic_id_column(primary_key=True)``.
    """

    @declared_attr
    def clinic_id(cls) -> Mapped[str]:  # noqa: N805 - declared_attr receives the class
        return clinic_id_column()

