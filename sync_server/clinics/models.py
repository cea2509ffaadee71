"""Tables of the clinics context: clinic, staff, device, enrollment_code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.orm import Base, ClinicOwned


class Clinic(Base):
    """A tenant. One server hosts many clinics; every other row belongs to exactly one."""

    __tablename__ = "clinic"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime]


class Staff(ClinicOwned, Base):
    """A person who signs in on the clinic's workstations with a PIN.

    ``pin_hash`` is an argon2id hash; the server hands it to enrolled desktops so that staff can
    sign in offline. The server never sees a PIN again after ``create-staff``.
    """

    __tablename__ = "staff"
    __table_args__ = (
        # (clinic_id, id) is what other tables reference, so a row can never point at
        # another clinic's staff member.
        UniqueConstraint("clinic_id", "id"),
        UniqueConstraint("clinic_id", "display_name"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(30))
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Device(ClinicOwned, Base):
    """An enrolled workstation. Its bearer token is stored only as a SHA-256 hash.

    A revoked device keeps its row (audit entries name it) but authenticates no more.
    """

    __tablename__ = "device"
    __table_args__ = (UniqueConstraint("clinic_id", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class EnrollmentCode(ClinicOwned, Base):
    """A one-time, expiring code an administrator hands to whoever sets up a workstation.

    Stored as an HMAC keyed by the server's secret key; redeemed at most once (``used_at``).
    """

    __tablename__ = "enrollment_code"
    __table_args__ = (
        ForeignKeyConstraint(
            ["clinic_id", "used_by_device_id"], ["device.clinic_id", "device.id"]
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_device_id: Mapped[str | None] = mapped_column(String(36))
