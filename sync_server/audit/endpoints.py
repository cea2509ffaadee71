"""HTTP endpoints of the audit context (under ``/api/v1/audit``)."""

from __future__ import annotations

from fastapi import APIRouter

from core.permissions import Permission, require
from sync_server.audit import service
from sync_server.audit.schemas import ChainReportOut
from sync_server.deps import CurrentStaff, SessionDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/verify", response_model=ChainReportOut)
def verify(session: SessionDep, staff: CurrentStaff) -> ChainReportOut:
    """Check the clinic's audit chain end to end."""
    require(staff.role, Permission.AUDIT_VIEW)
    return ChainReportOut(**service.verify(session, clinic_id=staff.clinic_id).as_dict())
