"""Request and response bodies of the clinics endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from core.permissions import Role


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ClinicOut(_Out):
    id: str
    slug: str
    name: str
    timezone: str
    region: str
    currency: str


class StaffOut(_Out):
    """What a desktop needs to sign staff in offline (``pin_hash`` is argon2id)."""

    id: str
    display_name: str
    role: Role
    pin_hash: str
    active: bool


class DeviceOut(_Out):
    id: str
    name: str
    enrolled_at: datetime
    revoked_at: datetime | None = None


class EnrollRequest(BaseModel):
    code: str = Field(min_length=1, max_length=64, examples=["7KQ2-M9XD-4RTA-WC8F"])
    device_name: str = Field(min_length=1, max_length=120, examples=["Front desk PC"])


class EnrollResponse(BaseModel):
    """The device credential is shown exactly once; the desktop keeps it in its encrypted store."""

    device: DeviceOut
    device_token: str
    clinic: ClinicOut
    staff: list[StaffOut]


class MeResponse(BaseModel):
    device: DeviceOut
    clinic: ClinicOut
