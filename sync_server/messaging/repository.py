"""Queries of the messaging context (every function filters on clinic_id)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.messaging.models import Message, MessageMedia, SmsOptOut


def add(session: Session, row: Message | MessageMedia) -> None:
    session.add(row)
    session.flush()


def get(session: Session, *, clinic_id: str, message_id: str) -> Message | None:
    return session.execute(
        select(Message).where(Message.clinic_id == clinic_id, Message.id == message_id)
    ).scalar_one_or_none()


def by_sid(session: Session, *, clinic_id: str, sid: str) -> Message | None:
    return session.execute(
        select(Message).where(Message.clinic_id == clinic_id, Message.provider_sid == sid)
    ).scalars().first()


def for_lead(session: Session, *, clinic_id: str, lead_id: str, kind: str) -> Message | None:
    return session.execute(
        select(Message).where(Message.clinic_id == clinic_id, Message.lead_id == lead_id, Message.kind == kind)
    ).scalars().first()


def last_inbound(session: Session, *, clinic_id: str, patient_id: str, channel: str) -> datetime | None:
    """When the client's newest inbound message on ``channel`` arrived (None: never)."""
    from sqlalchemy import func

    found: datetime | None = session.execute(
        select(func.max(Message.created_at)).where(
            Message.clinic_id == clinic_id, Message.patient_id == patient_id, Message.channel == channel,
            Message.direction == "inbound")
    ).scalar_one_or_none()
    return found


def thread(session: Session, *, clinic_id: str, patient_id: str, limit: int = 200) -> Sequence[Message]:
    return session.execute(
        select(Message).where(Message.clinic_id == clinic_id, Message.patient_id == patient_id)
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
    ).scalars().all()


def media_of(session: Session, *, clinic_id: str, message_id: str) -> Sequence[MessageMedia]:
    return session.execute(
        select(MessageMedia).where(MessageMedia.clinic_id == clinic_id, MessageMedia.message_id == message_id)
    ).scalars().all()


def opt_out(session: Session, *, clinic_id: str, phone: str) -> SmsOptOut | None:
    return session.get(SmsOptOut, (clinic_id, phone))


def put_opt_out(session: Session, row: SmsOptOut) -> None:
    session.merge(row)
    session.flush()


def move_patient(session: Session, *, clinic_id: str, from_patient: str, to_patient: str, now: datetime) -> int:
    """Give one client's messages to another (a merge of records); the number moved."""
    from typing import Any, cast

    from sqlalchemy import CursorResult, update

    result = cast(CursorResult[Any], session.execute(
        update(Message).where(Message.clinic_id == clinic_id, Message.patient_id == from_patient)
        .values(patient_id=to_patient, updated_at=now).execution_options(synchronize_session=False)
    ))
    return int(result.rowcount or 0)
