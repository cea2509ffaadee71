"""The clinic and its premises: the clinic itself (server-only), its locations, rooms and equipment."""

from __future__ import annotations

from core.permissions import Permission
from core.specs import CLINIC_ID, Kind, entity, field, string
from core.specs import FieldType as T

CLINIC = entity(
    "clinic",
    "clinic",
    Kind.EDITABLE,
    Permission.SETTINGS_MANAGE,
    [
        string("name", 200),
        string("slug", 80),
        string("timezone", 64, default="America/Los_Angeles"),
        string("region", 2, default="US"),
        string("currency", 3, default="USD"),
        string("phone", 20, null=True),
        field("settings", T.OBJECT, default={}),
    ],
    client_writable=False,
    not_writable_reason=(
        "Clinic details (name, address, time zone, settings) are changed on the clinic "
        "server, not from a workstation."
    ),
)


LOCATION = entity(
    "location",
    "location",
    Kind.EDITABLE,
    Permission.SETTINGS_MANAGE,
    [
        CLINIC_ID,
        string("name", 200),
        field("address", T.OBJECT, default={}),
        string("timezone", 64),
        string("phone", 20, null=True),
    ],
)


ROOM = entity(
    "room",
    "room",
    Kind.EDITABLE,
    Permission.SETTINGS_MANAGE,
    [
        CLINIC_ID,
        field("location_id", T.ID),
        string("name", 120),
        string("kind", 40, default="treatment"),
        field("active", T.BOOL, default=True),
    ],
)


DEVICE = entity(
    "device",
    "piece of equipment",
    Kind.EDITABLE,
    Permission.SETTINGS_MANAGE,
    [
        CLINIC_ID,
        field("location_id", T.ID),
        string("name", 120),
        string("kind", 60),
        string("model", 120, null=True),
        field("active", T.BOOL, default=True),
    ],
)
