"""The clinic's service menu: durations, buffers, price, deposit and what a booking needs."""

from __future__ import annotations

from core.permissions import Permission
from core.specs import CLINIC_ID, Kind, entity, field, string
from core.specs import FieldType as T

SERVICE = entity(
    "service",
    "service",
    Kind.EDITABLE,
    Permission.SETTINGS_MANAGE,
    [
        CLINIC_ID,
        string("name", 160),
        string("category", 40),
        field("duration_min", T.INT),
        field("buffer_before_min", T.INT, default=0),
        field("buffer_after_min", T.INT, default=0),
        field("price_minor", T.INT),
        string("price_unit", 20, default="session"),
        string("currency", 3, default="USD"),
        field("deposit_minor", T.INT, default=0),
        field("requires_room", T.BOOL, default=True),
        string("device_kind", 60, null=True),
        field("qualified_roles", T.LIST, default=[]),
        field("description", T.TEXT, null=True),
        field("active", T.BOOL, default=True),
    ],
)
