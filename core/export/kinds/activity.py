"""The client timeline -> ``Provenance``: who did what to which record, and when.

A timeline entry (an appointment booked, confirmed, completed or cancelled; a lead received or
answered by phone; a note) says which activity happened to which records: its targets are the
appointment or message the entry is about (from its payload), the lead and the client; the
agent is the staff member (or the clinic, for automatic entries). The entry's own details (a
note's text, a call's outcome, the service booked) stay as JSON in the ``timeline-payload``
extension, exactly as recorded.
"""

from __future__ import annotations

from typing import Any

from core.export.base import (
    ExportContext,
    Exporter,
    Resource,
    Row,
    catalogue_csv,
    code_system,
    extension_url,
    fhir_code,
    json_text,
    start,
)

#: payload keys that name another record the entry is about, and that record's source
_PAYLOAD_TARGETS = (("appointment_id", "Appointment"), ("message_id", "Communication"))
TIMELINE_SYSTEM = code_system("timeline-entry")
PAYLOAD_URL = extension_url("timeline-payload")


def provenance(row: Row, ctx: ExportContext) -> list[Resource]:
    res = start("Provenance", row)
    payload = row.get("payload")
    targets: list[dict[str, Any]] = []
    if isinstance(payload, dict) and payload:
        for key, resource_type in _PAYLOAD_TARGETS:
            target = payload.get(key)
            if target and type(target) is str:
                targets.append({"reference": f"{resource_type}/{target}"})
    if row.get("lead_id"):
        targets.append({"reference": f"Basic/{row['lead_id']}"})
    if row.get("patient_id"):
        targets.append({"reference": f"Patient/{row['patient_id']}"})
    res["target"] = targets or [ctx.organization()]
    res["recorded"] = row.get("occurred_at") or row.get("created_at")
    kind = fhir_code(row.get("type"))
    if kind:
        res["activity"] = {"coding": [{"system": TIMELINE_SYSTEM, "code": kind}]}
    who = {"reference": f"Practitioner/{row['actor_id']}"} if row.get("actor_id") else ctx.organization()
    res["agent"] = [{"who": who}]
    if payload:
        res["extension"] = [{"url": PAYLOAD_URL, "valueString": json_text(payload)}]
    return [res]


EXPORTER = Exporter(
    source="activity",
    resource_types=("Provenance",),
    to_fhir=provenance,
    csv=catalogue_csv("timeline", "activity"),
    about="the client timeline: bookings and status changes, lead events, logged calls, notes",
)
