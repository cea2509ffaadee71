"""What the screen catalog opens on a demo clinic (``app.ui.screen_catalog``: screenshots and the
text-fit check): a client whose record shows every part, a client with an unread text and an
upcoming visit, and the lead routing as this workstation's copy of the clinic holds it.

Plain reads that return ids and settings (no client data leaves here); opening the record is
what reads (and audits) the client.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app.db.models import Appointment, Clinic, Lead, Message, Patient, Staff
from app.db.store import Store
from app.repositories import messages as message_repo
from app.repositories.uow import system_actor, unit_of_work
from core.routing import DEFAULT_SLA, DEFAULT_SLA_MINUTES


def rich_client(store: Store, *, now: datetime) -> str | None:
    """A client with alerts, tags, a birthday, a phone, a lead, three or more visits done and
    one to come (the first such by name, so the same demo gives the same client)."""
    with unit_of_work(store, system_actor(store)) as ctx:
        s = ctx.session
        done = (sa.select(Appointment.patient_id).where(Appointment.status == "completed", Appointment.deleted.is_(False))
                .group_by(Appointment.patient_id).having(sa.func.count() >= 3))
        upcoming = sa.select(Appointment.patient_id).where(Appointment.start_at > now, Appointment.deleted.is_(False),
                                                           Appointment.status.in_(("booked", "confirmed")))
        leads = sa.select(Lead.patient_id).where(Lead.deleted.is_(False))
        query = (sa.select(Patient.id, Patient.tags).where(
            Patient.deleted.is_(False), Patient.date_of_birth.is_not(None), Patient.phone.is_not(None),
            sa.or_(Patient.allergies.is_not(None), Patient.medical_alerts.is_not(None)),
            Patient.id.in_(done), Patient.id.in_(upcoming), Patient.id.in_(leads))
            .order_by(Patient.last_name, Patient.first_name, Patient.id))
        for patient_id, tags in s.execute(query):
            if tags:
                return str(patient_id)
    return None


def thread_client(store: Store, *, now: datetime) -> str | None:
    """A client with an unread text (not a DM), an upcoming visit and a few messages: the
    newest such thread."""
    with unit_of_work(store, system_actor(store)) as ctx:
        threads = message_repo.unread_threads(ctx, limit=200)
        upcoming = set(ctx.session.execute(
            sa.select(Appointment.patient_id).where(Appointment.start_at > now, Appointment.deleted.is_(False),
                                                    Appointment.status.in_(("booked", "confirmed")))).scalars())
        sizes = dict(ctx.session.execute(
            sa.select(Message.patient_id, sa.func.count()).where(Message.deleted.is_(False))
            .group_by(Message.patient_id)).all())
        texts = [t for t in threads if t[5] == "sms"]
        for patient_id, *_rest in texts:
            if patient_id in upcoming and sizes.get(patient_id, 0) >= 3:
                return patient_id
        return (texts or threads)[0][0] if (texts or threads) else None


def routing_sheet(store: Store) -> dict[str, Any]:
    """The clinic's lead routing as this workstation's copy holds it, in the form the clinic
    server sends for editing (``app.sync.requests.RoutingSheet``)."""
    with unit_of_work(store, system_actor(store)) as ctx:
        clinic = ctx.session.execute(sa.select(Clinic).where(Clinic.deleted.is_(False)).limit(1)).scalar_one()
        staff = ctx.session.execute(
            sa.select(Staff).where(Staff.clinic_id == clinic.id, Staff.active.is_(True), Staff.deleted.is_(False))
            .order_by(Staff.display_name)).scalars()
        return {"version": "local", "lead_routing": dict((clinic.settings or {}).get("lead_routing") or {}),
                "default_sla_minutes": dict(DEFAULT_SLA_MINUTES), "default_sla": DEFAULT_SLA,
                "staff": [{"id": p.id, "name": p.display_name, "role": p.role} for p in staff]}
