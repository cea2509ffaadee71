"""Appointments. The slot check and the deposit status are the server's (a client asks, the server decides)."""

from __future__ import annotations

from core.permissions import Permission
from core.specs import CLINIC_ID, Kind, Ownership, entity, field, string
from core.specs import FieldType as T

APPOINTMENT = entity(
    "appointment",
    "appointment",
    Kind.EDITABLE,
    Permission.APPOINTMENT_WRITE,
    [
        CLINIC_ID,
        field("patient_id", T.ID),
        field("service_id", T.ID),
        field("provider_id", T.ID),
        field("location_id", T.ID, null=True),
        field("room_id", T.ID, null=True),
        field("device_id", T.ID, null=True),
        field("start_at", T.DATETIME),
        field("end_at", T.DATETIME),
        string("status", 20, default="booked"),
        string(
            "deposit_status",
            20,
            default="not_required",
            owner=Ownership.SERVER,
            reason=(
                "A deposit's status is set by the clinic server from the payment itself; "
                "take, waive or refund the deposit from the payment screen instead."
            ),
        ),
        field("deposit_minor", T.INT, default=0),
        field("price_minor", T.INT, default=0),
        string("currency", 3, default="USD"),
        field("source_lead_id", T.ID, null=True),
        field(
            "booked_by",
            T.ID,
            null=True,
            owner=Ownership.INSERT_ONLY,
            reason="Who booked an appointment is recorded when it is booked.",
        ),
        field("notes", T.TEXT, null=True),
        field(
            "tentative",
            T.BOOL,
            default=False,
            owner=Ownership.SERVER,
            reason=(
                "Whether a booking is confirmed is decided by the clinic server when it checks the calendar."
            ),
        ),
    ],
)
