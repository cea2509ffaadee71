"""Seed the demo clinic into the server database (``python -m sync_server demo``).

One transaction: the clinic and its staff are created through the clinics service (so staff can
sign in and enrol workstations), then every record of :func:`sync_server.demo.generator.generate`
becomes a ``sync_row`` with a server-assigned sequence number, in dependency order (clinic,
locations, rooms, equipment, staff, services, patients, leads, appointments, timeline, message
templates, messages, read receipts), written with bulk inserts; each demo message is also in the
messaging context's own ``message`` table. The staff's sync rows carry the same ids and PIN hashes as the staff table.
Active appointments get their ``appointment_slot`` so later pushes are checked against them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from core.clock import HybridLogicalClock
from core.demo import catalogue
from core.merge import META_VERSION
from core.sync import SERVER_NODE
from sync_server.audit import service as audit
from sync_server.clinics import service as clinics
from sync_server.demo import generator
from sync_server.sync import booking, repository
from sync_server.sync.service import SequenceLease

log = logging.getLogger(__name__)

#: Rows per INSERT batch.
BATCH = 5000


@dataclass(frozen=True)
class SeedSummary:
    clinic_id: str
    slug: str
    patients: int
    rows: int
    high_water_seq: int
    counts: dict[str, int] = field(default_factory=dict)
    staff_pins: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"clinic_id": self.clinic_id, "slug": self.slug, "patients": self.patients, "rows": self.rows,
                "high_water_seq": self.high_water_seq, "counts": self.counts, "staff_pins": self.staff_pins}


def seed_demo(
    session: Session,
    *,
    patients: int,
    slug: str = catalogue.CLINIC_SLUG,
    seed: int = 42,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> SeedSummary:
    """Create the demo clinic ``slug`` with ``patients`` clients in the caller's transaction."""
    actor = audit.Actor.cli()
    clinic = clinics.create_clinic(session, name=catalogue.CLINIC_NAME, slug=slug, timezone=catalogue.TIMEZONE,
                                   region="US", currency="USD", now=now, actor=actor)
    demo = generator.generate(patients=patients, seed=seed, now=now, clinic_id=clinic.id, slug=slug)

    # The staff table (sign-in, enrollment, the server's role checks), same ids as the sync rows.
    pin_hash: dict[str, str] = {}
    for member in demo.staff:
        staff = clinics.create_staff(session, clinic_id=clinic.id, display_name=member.name, role=member.role,
                                     pin=member.pin, now=now, actor=actor, staff_id=member.id)
        pin_hash[member.id] = staff.pin_hash
    for row in demo.rows["staff"]:
        row["pin_hash"] = pin_hash[row["id"]]

    lease = SequenceLease.lock(session, clinic_id=clinic.id)  # clinic_sync_state before audit_head
    hlc = HybridLogicalClock(SERVER_NODE)
    total = demo.count()
    written = 0
    buffer: list[dict[str, Any]] = []
    services = {r["id"]: r for r in demo.rows["service"]}
    slots: list[dict[str, Any]] = []
    for entity in generator.ENTITY_ORDER:
        for row in demo.rows[entity]:
            data = {k: v for k, v in row.items() if k != "id"}
            stamp = str(hlc.now())
            buffer.append({
                "clinic_id": clinic.id, "entity": entity, "id": row["id"], "version": 1, "hlc": stamp,
                "deleted": False, "data": data,
                "meta": {"v": META_VERSION, "created": [stamp, 1, 0, None], "stamps": {}, "losers": {}, "deletes": {}},
                "server_seq": lease.next(), "created_at": now, "updated_at": now,
            })
            if entity == "appointment":
                hold = booking.hold_of(data, deleted=False, service=services.get(data["service_id"]))
                if hold is not None:
                    slots.append(hold.row(clinic_id=clinic.id, appointment_id=row["id"]))
            if len(buffer) >= BATCH:
                repository.bulk_insert_rows(session, buffer)
                written += len(buffer)
                buffer = []
                if progress is not None:
                    progress(written, total)
    repository.bulk_insert_rows(session, buffer)
    for i in range(0, len(slots), BATCH):
        repository.bulk_insert_slots(session, slots[i:i + BATCH])
    _seed_outbox_records(session, demo, now=now)
    counts = {entity: demo.count(entity) for entity in generator.ENTITY_ORDER}
    audit.append(session, clinic_id=clinic.id, actor=actor, action="demo.seed", entity="clinic",
                 entity_id=clinic.id, detail={"rows": total, "counts": counts, "seed": seed}, now=now)
    from sync_server.leads import routing

    routing.start_sweep(session, clinic_id=clinic.id, now=now)  # the demo's lead timers run like a real clinic's
    session.flush()
    if progress is not None:
        progress(total, total)
    log.info("demo clinic %s seeded: %d rows", slug, total)
    return SeedSummary(clinic_id=clinic.id, slug=slug, patients=patients, rows=total,
                       high_water_seq=lease.last, counts=counts, staff_pins=demo.staff_pins)


def _seed_outbox_records(session: Session, demo: generator.DemoClinic, *, now: datetime) -> None:
    """The messaging context's own record of each demo message (the thread the desk API reads)."""
    from sync_server.messaging.models import Message

    phones = {r["id"]: r.get("phone") for r in demo.rows["patient"]}
    clinic_number = demo.rows["clinic"][0].get("phone")
    records = []
    for m in demo.rows["message"]:
        client = phones.get(m["patient_id"]) if m["channel"] == "sms" else None
        inbound = m["direction"] == "inbound"
        records.append({
            "id": m["id"], "clinic_id": demo.clinic_id, "patient_id": m["patient_id"], "lead_id": m["lead_id"],
            "channel": m["channel"], "direction": m["direction"], "purpose": m["purpose"], "kind": m["kind"],
            "body": m["body"], "media": [], "from_addr": client if inbound else clinic_number,
            "to_addr": clinic_number if inbound else client, "status": m["status"],
            "status_reason": m["status_reason"], "error_code": m["error_code"],
            "provider_sid": m["provider_message_id"], "author_staff_id": m["author_id"],
            "template_id": m["template_id"], "send_after": None, "attempt_started_at": None,
            "created_at": _time(m["occurred_at"]), "updated_at": now, "sent_at": _time(m["sent_at"]),
            "delivered_at": _time(m["delivered_at"]),
        })
    for i in range(0, len(records), BATCH):
        session.execute(insert(Message), records[i:i + BATCH])


def _time(text_value: str | None) -> datetime | None:
    return datetime.fromisoformat(text_value) if text_value else None


def refresh_statistics(session: Session) -> None:
    """PostgreSQL: ANALYZE the bulk-filled tables (run after the seed committed). Without fresh
    statistics the planner sorts a whole clinic for the first pull pages instead of walking the
    (clinic_id, server_seq) index."""
    if session.get_bind().dialect.name == "postgresql":
        for table in ("sync_row", "appointment_slot"):
            session.execute(text(f"ANALYZE {table}"))
