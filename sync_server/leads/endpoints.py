"""The desk's lead API under ``/api/v1`` (server-owned facts: a workstation asks, the server
decides):

- ``POST /leads/{lead_id}/claim``: the signed-in person takes the lead (``lead.write``); ``409``
  with a sentence when someone else holds it or the lead is closed.
- ``POST /leads/{lead_id}/release``: the holder gives it back; a manager (``lead.assign``)
  may release anyone's claim.

Both answer :class:`ServerChanges` with the lead as the server now holds it.

- ``GET /lead-routing``: the clinic's routing rules for the Settings page (``settings.manage``),
  with their ``version``, the default reply times and the active staff to choose from.
- ``PUT /lead-routing``: ``{"version": ..., "lead_routing": {...}}`` replaces the rules; ``409``
  (``routing_changed``) when the version is stale, ``422`` naming the ``field`` when the rules
  cannot be used; nothing is stored in either case. The answer is the new state plus the clinic
  record as ``changes`` (the desktop applies it at once). Audited (``lead_routing.set``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from core.permissions import Permission, has_permission, require
from sync_server.deps import CurrentDevice, CurrentStaff, SessionDep
from sync_server.leads import routing
from sync_server.leads import settings as lead_settings
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


class RoutingUpdate(BaseModel):
    version: str
    lead_routing: dict[str, Any]


@router.get("/lead-routing")
def get_lead_routing(request: Request, session: SessionDep, device: CurrentDevice, staff: CurrentStaff) -> dict[str, Any]:
    require(staff.role, Permission.SETTINGS_MANAGE)
    writes = writes_for(request, session, device, staff)
    return lead_settings.for_editing(writes)


@router.put("/lead-routing")
def put_lead_routing(body: RoutingUpdate, request: Request, session: SessionDep, device: CurrentDevice,
                     staff: CurrentStaff) -> dict[str, Any]:
    require(staff.role, Permission.SETTINGS_MANAGE)
    writes = writes_for(request, session, device, staff)
    shown = lead_settings.replace_routing(writes, version=body.version, lead_routing=body.lead_routing)
    changes = answer(writes, ("clinic", staff.clinic_id)).changes
    return {**shown, "changes": [c.model_dump(mode="json") for c in changes]}
