"""The desk's messaging API under ``/api/v1``: send a text (through the outbox), read a thread.

- ``POST /api/v1/messages``: needs ``message.send`` (``message.marketing`` for marketing).
  Idempotent by the message ``id`` the desktop made. A text the client has not agreed to is not
  sent: it comes back ``status: refused`` with the reason in ``status_reason`` (201 either way:
  the refusal is recorded on the thread).
- ``GET /api/v1/patients/{patient_id}/messages``: the client's thread, newest first (SMS and
  Instagram), each with its author, time and delivery state.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from core.permissions import Permission, require
from sync_server.deps import CurrentStaff, NowDep, SessionDep
from sync_server.messaging import rules, service
from sync_server.messaging.schemas import MessageOut, SendMessage
from sync_server.records.service import ServerWrites

router = APIRouter(tags=["messaging"])


@router.post("/messages", response_model=MessageOut, status_code=201)
def send_message(request: Request, body: SendMessage, session: SessionDep, staff: CurrentStaff,
                 now: NowDep) -> MessageOut:
    require(staff.role, Permission.MESSAGE_MARKETING if body.purpose == rules.MARKETING else Permission.MESSAGE_SEND)
    writes = ServerWrites(session, clinic_id=staff.clinic_id, now=now, hlc=request.app.state.hlc)
    message = service.queue_outbound(writes, patient_id=body.patient_id, body=body.body, purpose=body.purpose,
                                     author_staff_id=staff.id, message_id=body.id)
    return MessageOut.model_validate(message)


@router.get("/patients/{patient_id}/messages", response_model=list[MessageOut])
def patient_thread(patient_id: str, session: SessionDep, staff: CurrentStaff) -> list[MessageOut]:
    require(staff.role, Permission.PATIENT_READ)
    return [MessageOut.model_validate(m) for m in service.thread(session, clinic_id=staff.clinic_id,
                                                                  patient_id=patient_id)]
