"""Staff members as every workstation shows them (the server keeps their sign-in records in step)."""

from __future__ import annotations

from core.permissions import Permission
from core.specs import CLINIC_ID, Kind, entity, field, string
from core.specs import FieldType as T

#: the weekly rota that decides who is on shift for lead assignment, in the clinic's time zone:
#: {"mon": [["09:00", "17:00"]], ...}; empty: the clinic's opening hours (catalogue v2)
_ROUTING_FIELDS = (field("working_hours", T.OBJECT, default={}),)

STAFF = entity(
    "staff",
    "staff member",
    Kind.EDITABLE,
    Permission.STAFF_MANAGE,
    [
        CLINIC_ID,
        string("display_name", 120),
        string("role", 30),
        string("title", 120, null=True),
        string("email", 254, null=True),
        string("phone", 20, null=True),
        string("pin_hash", 200, null=True),
        string("color", 9, null=True),
        field("active", T.BOOL, default=True),
        *_ROUTING_FIELDS,
    ],
)
