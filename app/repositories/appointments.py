"""Appointments: create, read, list a time range, and find what a new booking would collide with.

A booking holds its provider, room and device from ``start_at - buffer_before`` to
``end_at + buffer_after`` (the service's set-up and clean-up time). Only appointments in
:data:`core.states.ACTIVE_APPOINTMENT_STATES` hold their slot; cancelled, late-cancelled and
no-show ones do not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import or_, select

from app.db.models import Appointment, Service
from app.repositories import rows
from app.repositories.clinic import bulk_insert
from app.repositories.context import Ctx
from core.states import ACTIVE_APPOINTMENT_STATES

#: No appointment runs longer than this; it bounds the index range scanned for overlaps.
MAX_LENGTH = timedelta(hours=24)
ACTIVE = tuple(sorted(s.value for s in ACTIVE_APPOINTMENT_STATES))


@dataclass(frozen=True)
class Conflict:
    """One existing appointment that a proposed booking would collide with, and on what."""

    appointment_id: str
    resource: str  # "provider" | "room" | "device"
    resource_id: str
    start_at: datetime
    end_at: datetime
    status: str


def create(ctx: Ctx, appointment: Appointment) -> Appointment:
    return rows.insert(ctx, appointment)


def create_many(ctx: Ctx, appointments: Iterable[Appointment]) -> int:
    """Insert many appointments, with the bookkeeping and outbox entry of :func:`create`, in
    batches (see :func:`app.repositories.clinic.bulk_insert`). No conflict check: callers check."""
    return bulk_insert(ctx, Appointment, appointments)


def get(ctx: Ctx, appointment_id: str) -> Appointment | None:
    row = ctx.session.get(Appointment, appointment_id)
    return None if row is None or row.deleted else row


def list_between(
    ctx: Ctx,
    clinic_id: str,
    start: datetime,
    end: datetime,
    *,
    provider_id: str | None = None,
    location_id: str | None = None,
    statuses: Iterable[str] | None = None,
) -> list[Appointment]:
    """Appointments starting in [start, end), earliest first, optionally for one provider,
    one location and some statuses."""
    query = select(Appointment).where(
        Appointment.clinic_id == clinic_id,
        Appointment.deleted.is_(False),
        Appointment.start_at >= start,
        Appointment.start_at < end,
    )
    if provider_id is not None:
        query = query.where(Appointment.provider_id == provider_id)
    if location_id is not None:
        query = query.where(Appointment.location_id == location_id)
    if statuses is not None:
        query = query.where(Appointment.status.in_(list(statuses)))
    return list(ctx.session.execute(query.order_by(Appointment.start_at, Appointment.id)).scalars())


def for_patient(ctx: Ctx, patient_id: str, *, limit: int | None = None) -> list[Appointment]:
    """A client's appointments, latest first."""
    query = (
        select(Appointment)
        .where(Appointment.patient_id == patient_id, Appointment.deleted.is_(False))
        .order_by(Appointment.start_at.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(ctx.session.execute(query).scalars())


def _max_buffers(ctx: Ctx) -> tuple[timedelta, timedelta]:
    before, after = ctx.session.execute(
        select(sa.func.max(Service.buffer_before_min), sa.func.max(Service.buffer_after_min))
    ).one()
    return timedelta(minutes=before or 0), timedelta(minutes=after or 0)


def find_conflicts(
    ctx: Ctx,
    *,
    start_at: datetime,
    end_at: datetime,
    provider_id: str | None = None,
    room_id: str | None = None,
    device_id: str | None = None,
    buffer_before_min: int = 0,
    buffer_after_min: int = 0,
    exclude_id: str | None = None,
) -> list[Conflict]:
    """Active appointments whose held time (their own buffers included) overlaps the proposed
    booking's held time on its provider, room or device. Empty means the slot is free.

    Touching intervals do not collide: a booking may start exactly when the previous one's
    clean-up ends.
    """
    if end_at <= start_at:
        raise ValueError("an appointment must end after it starts")
    resources = [("provider", provider_id), ("room", room_id), ("device", device_id)]
    wanted = [(name, rid) for name, rid in resources if rid is not None]
    if not wanted:
        return []
    held_from = start_at - timedelta(minutes=buffer_before_min)
    held_until = end_at + timedelta(minutes=buffer_after_min)
    max_before, max_after = _max_buffers(ctx)
    column = {"provider": Appointment.provider_id, "room": Appointment.room_id, "device": Appointment.device_id}
    query = (
        select(Appointment, Service.buffer_before_min, Service.buffer_after_min)
        .outerjoin(Service, Service.id == Appointment.service_id)
        .where(
            Appointment.deleted.is_(False),
            Appointment.status.in_(ACTIVE),
            or_(*(column[name] == rid for name, rid in wanted)),
            # index-friendly bounds: nothing runs longer than MAX_LENGTH
            Appointment.start_at < held_until + max_before,
            Appointment.start_at > held_from - max_after - MAX_LENGTH,
            Appointment.end_at > held_from - max_after,
        )
        .order_by(Appointment.start_at, Appointment.id)
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    conflicts: list[Conflict] = []
    for appt, before, after in ctx.session.execute(query):
        their_from = appt.start_at - timedelta(minutes=before or 0)
        their_until = appt.end_at + timedelta(minutes=after or 0)
        if not (their_from < held_until and held_from < their_until):
            continue
        for name, rid in wanted:
            if getattr(appt, f"{name}_id") == rid:
                conflicts.append(
                    Conflict(appt.id, name, rid, appt.start_at, appt.end_at, appt.status)
                )
    return conflicts
