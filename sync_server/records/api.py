"""Helpers for endpoints that write synced records for the signed-in staff member (a claim, a
merge): server writes acting for them, announced on the live channel at commit, and the answer
carrying the records as the server now holds them."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from sync_server.audit.service import Actor
from sync_server.clinics.service import DeviceIdentity, StaffIdentity
from sync_server.records.schemas import ServerChanges
from sync_server.records.service import ServerWrites
from sync_server.sync.service import change_of


def writes_for(request: Request, session: Session, device: DeviceIdentity, staff: StaffIdentity) -> ServerWrites:
    request.app.state.live.notify_after_commit(session)
    return ServerWrites(session, clinic_id=staff.clinic_id, now=request.app.state.clock.now(),
                        hlc=request.app.state.hlc, actor=Actor(staff_id=staff.id, device_id=device.id))


def answer(writes: ServerWrites, *rows: tuple[str, str], message: str | None = None) -> ServerChanges:
    changes = [c for c in (change_of(writes.row(entity, entity_id)) for entity, entity_id in rows) if c is not None]
    return ServerChanges(changes=changes, message=message)
