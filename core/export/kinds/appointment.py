"""Appointments -> ``Appointment``: the client, the provider, the room, the equipment and the
service as participants; our status mapped onto FHIR's (and kept exactly in an extension); the
price and deposit as extensions; the lead that led to the booking as supporting information."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.export.base import (
    ExportContext,
    Exporter,
    Resource,
    Row,
    catalogue_csv,
    code_system,
    extension,
    extension_url,
    fhir_code,
    money,
    sid,
    start,
    text,
)

#: ours -> FHIR's Appointment.status (booked and confirmed are both "booked"; the extension
#: ``appointment-status`` keeps which)
STATUS = {
    "booked": "booked",
    "confirmed": "booked",
    "checked_in": "checked-in",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "late_cancelled": "cancelled",
    "no_show": "noshow",
}
#: where an appointment happens, and the resource type of each (rooms are Locations)
_PLACES = (("room_id", "Location"), ("location_id", "Location"), ("device_id", "Device"))
_LATE_CANCEL = {
    "coding": [
        {
            "system": code_system("cancel-reason"),
            "code": "late-cancellation",
            "display": "Cancelled late (inside the clinic's cancellation window)",
        }
    ]
}


def _minutes(start_at: str, end_at: str) -> int | None:
    try:
        seconds = (datetime.fromisoformat(end_at) - datetime.fromisoformat(start_at)).total_seconds()
    except ValueError:
        return None
    return int(seconds // 60) if seconds >= 60 else None


def appointment(row: Row, ctx: ExportContext) -> list[Resource]:
    res = start("Appointment", row)
    ours = row.get("status") or "booked"
    tentative = bool(row.get("tentative"))
    status = STATUS.get(ours, "booked")
    res["status"] = "pending" if tentative and status == "booked" else status
    if ours == "late_cancelled":
        res["cancelationReason"] = _LATE_CANCEL
    service_id = row.get("service_id")
    service = ctx.table("service").get(service_id) if service_id else None
    name = text(service.get("name")) if service else None
    if service_id:
        coding: dict[str, Any] = {"system": sid("service"), "code": service_id}
        if name:
            coding["display"] = name
        res["serviceType"] = [{"coding": [coding], **({"text": name} if name else {})}]
    start_at, end_at = row.get("start_at"), row.get("end_at")
    if start_at and end_at:
        res["start"], res["end"] = start_at, end_at
        minutes = _minutes(start_at, end_at)
        if minutes:
            res["minutesDuration"] = minutes
    if row.get("created_at"):
        res["created"] = row["created_at"]
    if text(row.get("notes")):
        res["comment"] = row["notes"]
    if row.get("source_lead_id"):
        res["supportingInformation"] = [{"reference": f"Basic/{row['source_lead_id']}"}]
    said = "tentative" if tentative else "accepted"
    participants: list[dict[str, Any]] = []
    if row.get("patient_id"):
        participants.append(
            {"actor": {"reference": f"Patient/{row['patient_id']}"}, "required": "required", "status": said}
        )
    if row.get("provider_id"):
        participants.append(
            {
                "actor": {"reference": f"Practitioner/{row['provider_id']}"},
                "required": "required",
                "status": said,
            }
        )
    for field, resource_type in _PLACES:
        if row.get(field):
            participants.append(
                {
                    "actor": {"reference": f"{resource_type}/{row[field]}"},
                    "required": "required",
                    "status": said,
                }
            )
    if not participants:  # FHIR needs one; a row without any is not a real appointment, but export it
        participants.append({"actor": ctx.organization(), "status": said})
    res["participant"] = participants

    currency = fhir_code(row.get("currency")) or ctx.clinic.currency
    ext: list[dict[str, Any]] = []
    code = fhir_code(ours)
    if code:
        ext.append(extension("appointment-status", "Code", code))
    if isinstance(row.get("price_minor"), int) and row["price_minor"]:
        ext.append(extension("appointment-price", "Money", money(row["price_minor"], currency)))
    deposit_status = fhir_code(row.get("deposit_status"))
    if deposit_status and deposit_status != "not_required" or row.get("deposit_minor"):
        parts: list[dict[str, Any]] = []
        if deposit_status:
            parts.append({"url": "status", "valueCode": deposit_status})
        if isinstance(row.get("deposit_minor"), int):
            parts.append({"url": "amount", "valueMoney": money(row["deposit_minor"], currency)})
        ext.append({"url": extension_url("appointment-deposit"), "extension": parts})
    if row.get("booked_by"):
        ext.append(
            extension("appointment-booked-by", "Reference", {"reference": f"Practitioner/{row['booked_by']}"})
        )
    if ext:
        res["extension"] = ext
    return [res]


EXPORTER = Exporter(
    source="appointment",
    resource_types=("Appointment",),
    to_fhir=appointment,
    csv=catalogue_csv("appointments", "appointment"),
    about="appointments: client, service, provider, room, equipment, times, status, price, deposit, notes",
)
