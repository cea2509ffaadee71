"""The desk's lead API under ``/api/v1`` (server-owned facts: a workstation asks, the server
decides):

- ``POST /leads/{lead_id}/claim``: the signed-in person takes the lead (``lead.write``); ``409``
  with a sentence when someone else holds it or the lead is closed.
- ``POST /leads/{lead_id}/release``: the holder gives it back; a manager (``lead.assign``)
  may release anyone's claim.

Both answer :class:`ServerChanges` with the lead as the server now holds it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from core.permissions import Permission, has_permission, require
from sync_server.deps import CurrentDevice, CurrentStaff, SessionDep
from sync_server.leads import routing
from sync_server.records.api import answer, writes_for
from sync_server.records.schemas import ServerChanges

router = APIRouter(tags=["leads"])


@router.post("/leads/{lead_id}/claim", response_model=ServerChanges)
def claim_lead(
    lead_id: str, request: Request, session: SessionDep, device: CurrentDevice, staff: CurrentStaff
) -> ServerChanges:
    require(staff.role, Permission.LEAD_WRITE)
    writes = writes_for(request, session, device, staff)
    routing.claim(writes, lead_id=lead_id, staff_id=staff.id, staff_name=staff.display_name)
    return answer(writes, ("lead", lead_id))


@router.post("/leads/{lead_id}/release", response_model=ServerChanges)
def release_lead(
    lead_id: str, request: Request, session: SessionDep, device: CurrentDevice, staff: CurrentStaff
) -> ServerChanges:
    require(staff.role, Permission.LEAD_WRITE)
    writes = writes_for(request, session, device, staff)
    routing.release(
        writes,
        lead_id=lead_id,
        staff_id=staff.id,
        staff_name=staff.display_name,
        may_release_others=has_permission(staff.role, Permission.LEAD_ASSIGN),
    )
    return answer(writes, ("lead", lead_id))
