"""The desk's messaging API under ``/api/v1``: send a text (through the outbox), read a thread,
fetch an attachment.

Desktops normally send by pushing a ``message`` sync row (see ``decisions.py``); this API does
the same for scripts and other clients.

- ``POST /api/v1/messages``: needs ``message.send`` (``message.marketing`` for marketing);
  ``channel`` ``sms`` (default) or ``instagram`` (a DM reply, within Meta's 24-hour window).
  Idempotent by the message ``id`` the desktop made. A text the client has not agreed to is not
  sent: it comes back ``status: refused`` with the reason in ``status_reason`` (201 either way:
  the refusal is recorded on the thread).
- ``GET /api/v1/patients/{patient_id}/messages``: the client's thread, newest first (SMS and
  Instagram), each with its author, time and delivery state.
- ``GET /api/v1/messages/{message_id}/media/{media_id}``: an MMS or DM attachment, unsealed from
  the server home, for a staff member who may read client records (the desktop keeps it inside
  its encrypted store). ``Cache-Control: no-store``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.errors import NotFoundError
from core.permissions import Permission, require
from sync_server.deps import CurrentStaff, NowDep, SessionDep, SettingsDep
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
                                     author_staff_id=staff.id, message_id=body.id, template_id=body.template_id,
                                     channel=body.channel)
    return MessageOut.of(message)


@router.get("/patients/{patient_id}/messages", response_model=list[MessageOut])
def patient_thread(patient_id: str, session: SessionDep, staff: CurrentStaff) -> list[MessageOut]:
    require(staff.role, Permission.PATIENT_READ)
    return [MessageOut.of(m) for m in service.thread(session, clinic_id=staff.clinic_id, patient_id=patient_id)]


@router.get("/messages/{message_id}/media/{media_id}", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the attachment"}})
def message_media(message_id: str, media_id: str, session: SessionDep, staff: CurrentStaff,
                  settings: SettingsDep) -> Response:
    require(staff.role, Permission.PATIENT_READ)
    media = service.get_media(session, clinic_id=staff.clinic_id, message_id=message_id, media_id=media_id)
    try:
        data = service.read_media(settings.server_home, settings.ensure_secret_key(), media.path)
    except FileNotFoundError:
        raise NotFoundError("This attachment is no longer stored on the clinic server.") from None
    return Response(data, media_type=media.content_type or "application/octet-stream",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
