"""Timeline entries (activities): append-only facts on a client's or a lead's timeline."""

from __future__ import annotations

from core.permissions import Permission
from core.specs import CLINIC_ID, Kind, entity, field, string
from core.specs import FieldType as T

ACTIVITY = entity(
    "activity",
    "timeline entry",
    Kind.APPEND_ONLY,
    Permission.PATIENT_WRITE,
    [
        CLINIC_ID,
        field("patient_id", T.ID, null=True),
        field("lead_id", T.ID, null=True),
        string("type", 40),
        field("actor_id", T.ID, null=True),
        field("occurred_at", T.DATETIME),
        field("payload", T.OBJECT, default={}),
    ],
)
