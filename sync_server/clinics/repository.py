"""Queries of the clinics context.

Every function that reads clinic-owned rows takes ``clinic_id`` and filters on it. The two
exceptions look a credential up by its hash before the clinic is known (the transaction has
presented that hash; on PostgreSQL RLS lets it see that one row and nothing else).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from sync_server.clinics.models import Clinic, Device, EnrollmentCode, Staff

# --- clinic ----------------------------------------------------------------------------------


def add(session: Session, row: Clinic | Staff | Device | EnrollmentCode) -> None:
    session.add(row)
    session.flush()


def clinic_by_id(session: Session, clinic_id: str) -> Clinic | None:
    return session.get(Clinic, clinic_id)


def clinic_by_slug(session: Session, slug: str) -> Clinic | None:
    return session.execute(select(Clinic).where(Clinic.slug == slug)).scalar_one_or_none()


# --- staff -----------------------------------------------------------------------------------


def staff_list(session: Session, *, clinic_id: str, active_only: bool = False) -> Sequence[Staff]:
    stmt = select(Staff).where(Staff.clinic_id == clinic_id)
    if active_only:
        stmt = stmt.where(Staff.active.is_(True))
    return session.execute(stmt.order_by(Staff.display_name, Staff.id)).scalars().all()


def staff_by_id(session: Session, *, clinic_id: str, staff_id: str) -> Staff | None:
    return session.execute(
        select(Staff).where(Staff.clinic_id == clinic_id, Staff.id == staff_id)
    ).scalar_one_or_none()


def staff_by_name(session: Session, *, clinic_id: str, display_name: str) -> Staff | None:
    return session.execute(
        select(Staff).where(Staff.clinic_id == clinic_id, Staff.display_name == display_name)
    ).scalar_one_or_none()


# --- devices ---------------------------------------------------------------------------------


def device_by_token_hash(session: Session, token_hash: str) -> Device | None:
    """Pre-authentication lookup (not clinic-scoped: the token is what tells the clinic)."""
    return session.execute(select(Device).where(Device.token_hash == token_hash)).scalar_one_or_none()


def device_by_id(session: Session, *, clinic_id: str, device_id: str) -> Device | None:
    return session.execute(
        select(Device).where(Device.clinic_id == clinic_id, Device.id == device_id)
    ).scalar_one_or_none()


def device_list(session: Session, *, clinic_id: str) -> Sequence[Device]:
    return session.execute(
        select(Device).where(Device.clinic_id == clinic_id).order_by(Device.enrolled_at, Device.id)
    ).scalars().all()


# --- enrollment codes ------------------------------------------------------------------------


def code_by_hash(session: Session, code_hash: str) -> EnrollmentCode | None:
    """Pre-authentication lookup (not clinic-scoped: the code is what tells the clinic)."""
    return session.execute(
        select(EnrollmentCode).where(EnrollmentCode.code_hash == code_hash)
    ).scalar_one_or_none()


def claim_code(
    session: Session, *, clinic_id: str, code_id: str, device_id: str, now: datetime
) -> bool:
    """Mark the code used by ``device_id`` unless someone else already did (compare-and-swap)."""
    result = cast(CursorResult[Any], session.execute(
        update(EnrollmentCode)
        .where(
            EnrollmentCode.clinic_id == clinic_id,
            EnrollmentCode.id == code_id,
            EnrollmentCode.used_at.is_(None),
        )
        .values(used_at=now, used_by_device_id=device_id)
        .execution_options(synchronize_session=False)
    ))
    return result.rowcount == 1
