"""The clinic and its resources: clinic, locations, rooms, devices, staff and the service menu.

Creation goes through :func:`app.repositories.rows.insert` (bookkeeping and outbox entry in the
same transaction). Lists leave out tombstoned rows and, unless asked, inactive ones.

:func:`bulk_insert` is the many-rows form of ``rows.insert`` for any clinic-owned table (imports,
the demo clinic): the same bookkeeping and outbox entries, written with one executemany per batch
instead of the ORM unit of work, which is several times faster for tens of thousands of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import select

from app.db.models import (
    APPEND_ONLY,
    Clinic,
    ClinicOwned,
    Device,
    Location,
    OutboxEntry,
    Room,
    Service,
    Staff,
    Syncable,
)
from app.repositories import rows
from app.repositories.context import Ctx
from core.ids import new_id

R = TypeVar("R", bound=Syncable)
Owned = TypeVar("Owned", bound=ClinicOwned)


def _create(ctx: Ctx, row: R) -> R:
    return rows.insert(ctx, row)


def _get(ctx: Ctx, model: type[R], row_id: str) -> R | None:
    row = ctx.session.get(model, row_id)
    return None if row is None or row.deleted else row


# --- create ----------------------------------------------------------------------------------


def create_clinic(ctx: Ctx, clinic: Clinic) -> Clinic:
    return _create(ctx, clinic)


def create_location(ctx: Ctx, location: Location) -> Location:
    return _create(ctx, location)


def create_room(ctx: Ctx, room: Room) -> Room:
    return _create(ctx, room)


def create_device(ctx: Ctx, device: Device) -> Device:
    return _create(ctx, device)


def create_staff(ctx: Ctx, staff: Staff) -> Staff:
    return _create(ctx, staff)


def create_service(ctx: Ctx, service: Service) -> Service:
    return _create(ctx, service)


# --- get -------------------------------------------------------------------------------------


def get_clinic(ctx: Ctx, clinic_id: str) -> Clinic | None:
    return _get(ctx, Clinic, clinic_id)


def get_location(ctx: Ctx, location_id: str) -> Location | None:
    return _get(ctx, Location, location_id)


def get_room(ctx: Ctx, room_id: str) -> Room | None:
    return _get(ctx, Room, room_id)


def get_device(ctx: Ctx, device_id: str) -> Device | None:
    return _get(ctx, Device, device_id)


def get_staff(ctx: Ctx, staff_id: str) -> Staff | None:
    return _get(ctx, Staff, staff_id)


def get_service(ctx: Ctx, service_id: str) -> Service | None:
    return _get(ctx, Service, service_id)


def clinic_by_slug(ctx: Ctx, slug: str) -> Clinic | None:
    return ctx.session.execute(
        select(Clinic).where(Clinic.slug == slug, Clinic.deleted.is_(False))
    ).scalar_one_or_none()


def slug_taken(ctx: Ctx, slug: str) -> bool:
    """Whether any clinic row, even a tombstoned one, uses ``slug`` (the column is unique)."""
    return ctx.session.execute(select(Clinic.id).where(Clinic.slug == slug)).first() is not None


def staff_by_name(ctx: Ctx, name: str, *, clinic_id: str | None = None) -> list[Staff]:
    """Live, active staff whose display name matches ``name`` ignoring case and extra spaces."""
    wanted = " ".join(name.split()).casefold()
    query = select(Staff).where(Staff.deleted.is_(False), Staff.active.is_(True))
    if clinic_id is not None:
        query = query.where(Staff.clinic_id == clinic_id)
    # names are few and may hold non-ASCII letters, which SQLite's lower() does not fold
    return [s for s in ctx.session.execute(query).scalars() if " ".join(s.display_name.split()).casefold() == wanted]


# --- list ------------------------------------------------------------------------------------


def _list(
    ctx: Ctx, model: type[Owned], clinic_id: str, *filters: sa.ColumnElement[bool], active_only: bool,
    order: Sequence[Any],
) -> list[Owned]:
    query = select(model).where(model.clinic_id == clinic_id, model.deleted.is_(False), *filters)
    active = getattr(model, "active", None)
    if active_only and active is not None:
        query = query.where(active.is_(True))
    return list(ctx.session.execute(query.order_by(*order)).scalars())


def list_clinics(ctx: Ctx) -> list[Clinic]:
    return list(
        ctx.session.execute(select(Clinic).where(Clinic.deleted.is_(False)).order_by(Clinic.name)).scalars()
    )


def list_locations(ctx: Ctx, clinic_id: str) -> list[Location]:
    return _list(ctx, Location, clinic_id, active_only=False, order=(Location.name,))


def list_rooms(
    ctx: Ctx, clinic_id: str, *, location_id: str | None = None, kind: str | None = None,
    active_only: bool = True,
) -> list[Room]:
    filters: list[sa.ColumnElement[bool]] = []
    if location_id is not None:
        filters.append(Room.location_id == location_id)
    if kind is not None:
        filters.append(Room.kind == kind)
    return _list(ctx, Room, clinic_id, *filters, active_only=active_only, order=(Room.location_id, Room.name))


def list_devices(
    ctx: Ctx, clinic_id: str, *, location_id: str | None = None, kind: str | None = None,
    active_only: bool = True,
) -> list[Device]:
    filters: list[sa.ColumnElement[bool]] = []
    if location_id is not None:
        filters.append(Device.location_id == location_id)
    if kind is not None:
        filters.append(Device.kind == kind)
    return _list(ctx, Device, clinic_id, *filters, active_only=active_only,
                 order=(Device.location_id, Device.name))


def list_staff(ctx: Ctx, clinic_id: str, *, role: str | None = None, active_only: bool = True) -> list[Staff]:
    filters: list[sa.ColumnElement[bool]] = []
    if role is not None:
        filters.append(Staff.role == role)
    return _list(ctx, Staff, clinic_id, *filters, active_only=active_only, order=(Staff.display_name,))


def list_services(
    ctx: Ctx, clinic_id: str, *, category: str | None = None, active_only: bool = True
) -> list[Service]:
    filters: list[sa.ColumnElement[bool]] = []
    if category is not None:
        filters.append(Service.category == category)
    return _list(ctx, Service, clinic_id, *filters, active_only=active_only,
                 order=(Service.category, Service.name))


# --- bulk ------------------------------------------------------------------------------------

BULK_BATCH = 2000


def bulk_insert(ctx: Ctx, model: type[Owned], items: Iterable[Owned | Mapping[str, Any]]) -> int:
    """Insert many new rows of ``model`` with the bookkeeping and outbox entry of
    :func:`app.repositories.rows.insert`, one executemany per :data:`BULK_BATCH` rows.

    ``items`` are unsaved model instances or mappings of column values; a missing id is made
    here, a missing column takes its default. Instances are read, not attached to the session.
    """
    table = model.__table__  # type: ignore[attr-defined]
    name = str(table.name)
    fields = rows.data_fields(model)
    defaults = {c.key: c.default for c in table.columns if c.default is not None}
    op = "append" if name in APPEND_ONLY else "insert"
    insert_rows = sa.insert(table)
    insert_outbox = sa.insert(OutboxEntry.__table__)  # type: ignore[arg-type]
    staff_id = ctx.actor.staff_id
    batch: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    count = 0

    def flush() -> None:
        if batch:
            ctx.session.execute(insert_rows, batch)
            ctx.session.execute(insert_outbox, outbox)
            batch.clear()
            outbox.clear()

    ctx.session.flush()  # rows added through the ORM go first, as they were made first
    for item in items:
        source: Mapping[str, Any] = item if isinstance(item, Mapping) else _column_values(item, fields)
        values = {k: source.get(k) for k in fields}
        for key, value in values.items():
            if value is None and key in defaults:
                values[key] = _default(defaults[key])
        now = ctx.now()
        hlc = str(ctx.hlc.now())
        row_id = source.get("id") or new_id()
        values.update(id=row_id, version=1, hlc=hlc, deleted=False, created_at=now, updated_at=now)
        batch.append(values)
        outbox.append({
            "mutation_id": new_id(), "entity": name, "entity_id": row_id, "op": op,
            "fields": {k: rows.wire_value(values[k]) for k in fields}, "base_version": 0, "hlc": hlc,
            "staff_id": staff_id, "created_at": now, "acked_at": None,
        })
        count += 1
        if len(batch) >= BULK_BATCH:
            flush()
    flush()
    if count:
        ctx.changed.add(name)
    return count


def _column_values(row: Syncable, fields: Sequence[str]) -> dict[str, Any]:
    state = row.__dict__
    return {"id": state.get("id"), **{k: state.get(k) for k in fields}}


def _default(default: Any) -> Any:
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps plain callables (dict, list) to take a context
    return None
