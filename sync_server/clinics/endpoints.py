"""HTTP endpoints of the clinics context (under ``/api/v1``)."""

from __future__ import annotations

from fastapi import APIRouter, status

from core.permissions import Permission, require
from sync_server.audit.service import Actor
from sync_server.clinics import service
from sync_server.clinics.schemas import (
    ClinicOut,
    DeviceOut,
    EnrollRequest,
    EnrollResponse,
    MeResponse,
    StaffOut,
)
from sync_server.deps import CurrentDevice, CurrentStaff, NowDep, SessionDep, SettingsDep

router = APIRouter(tags=["clinics"])


@router.post("/enroll", status_code=status.HTTP_201_CREATED, response_model=EnrollResponse)
def enroll(body: EnrollRequest, session: SessionDep, settings: SettingsDep, now: NowDep) -> EnrollResponse:
    """Redeem a one-time enrollment code: returns this workstation's credential (shown once),
    its clinic and the clinic's active staff (with PIN hashes, for signing in offline)."""
    result = service.enroll_device(
        session, code=body.code, device_name=body.device_name,
        secret_key=settings.ensure_secret_key(), now=now,
    )
    return EnrollResponse(
        device=DeviceOut.model_validate(result.device),
        device_token=result.token,
        clinic=ClinicOut.model_validate(result.clinic),
        staff=[StaffOut.model_validate(s) for s in result.staff],
    )


@router.get("/me", response_model=MeResponse)
def me(session: SessionDep, device: CurrentDevice) -> MeResponse:
    """The calling workstation and its clinic."""
    return MeResponse(
        device=DeviceOut.model_validate(service.get_device(session, clinic_id=device.clinic_id, device_id=device.id)),
        clinic=ClinicOut.model_validate(service.get_clinic(session, clinic_id=device.clinic_id)),
    )


@router.get("/staff", response_model=list[StaffOut])
def staff(session: SessionDep, device: CurrentDevice) -> list[StaffOut]:
    """The clinic's active staff, as at enrollment (for offline sign-in)."""
    return [StaffOut.model_validate(s) for s in service.list_staff(session, clinic_id=device.clinic_id)]


@router.get("/devices", response_model=list[DeviceOut])
def devices(session: SessionDep, staff: CurrentStaff) -> list[DeviceOut]:
    require(staff.role, Permission.DEVICE_MANAGE)
    return [DeviceOut.model_validate(d) for d in service.list_devices(session, clinic_id=staff.clinic_id)]


@router.get("/devices/{device_id}", response_model=DeviceOut)
def device(device_id: str, session: SessionDep, staff: CurrentStaff) -> DeviceOut:
    require(staff.role, Permission.DEVICE_MANAGE)
    return DeviceOut.model_validate(service.get_device(session, clinic_id=staff.clinic_id, device_id=device_id))


@router.post("/devices/{device_id}/revoke", response_model=DeviceOut)
def revoke_device(
    device_id: str, session: SessionDep, device: CurrentDevice, staff: CurrentStaff, now: NowDep
) -> DeviceOut:
    """Revoke a workstation of this clinic; its next request gets 401."""
    require(staff.role, Permission.DEVICE_MANAGE)
    revoked = service.revoke_device(
        session, clinic_id=staff.clinic_id, device_id=device_id, now=now,
        actor=Actor(staff_id=staff.id, device_id=device.id),
    )
    return DeviceOut.model_validate(revoked)
