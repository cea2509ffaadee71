"""Locations (the clinic's premises) and their rooms -> ``Location`` (a room is ``partOf`` its
location)."""

from __future__ import annotations

from typing import Any

from core.export.base import (
    ExportContext,
    Exporter,
    Resource,
    Row,
    catalogue_csv,
    code_system,
    concept,
    fhir_code,
    start,
    text,
)
from core.export.kinds.clinic import TIMEZONE_EXTENSION, phone_contact

PHYSICAL_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"


def address(value: Any, *, use: str | None = None) -> dict[str, Any] | None:
    """A FHIR Address from our address object (``line1``, ``line2``, ``city``, ``state``,
    ``postal_code``, ``country``); None when it holds nothing."""
    if not isinstance(value, dict) or not value:
        return None
    out: dict[str, Any] = {}
    lines = [v for v in (value.get("line1"), value.get("line2")) if text(v)]
    if lines:
        out["line"] = lines
    for ours, theirs in (
        ("city", "city"),
        ("state", "state"),
        ("postal_code", "postalCode"),
        ("country", "country"),
    ):
        v = value.get(ours)
        if text(v):
            out[theirs] = v
    if out and use:
        out["use"] = use
    return out or None


def location(row: Row, ctx: ExportContext) -> list[Resource]:
    res = start("Location", row)
    res["status"] = "active"
    res["name"] = text(row.get("name")) or "Location"
    res["mode"] = "instance"
    res["physicalType"] = {"coding": [{"system": PHYSICAL_TYPE, "code": "bu", "display": "Building"}]}
    telecom = phone_contact(row.get("phone"))
    if telecom:
        res["telecom"] = telecom
    addr = address(row.get("address"), use="work")
    if addr:
        res["address"] = addr
    res["managingOrganization"] = ctx.organization()
    tz = fhir_code(row.get("timezone"))
    if tz:
        res["extension"] = [{"url": TIMEZONE_EXTENSION, "valueCode": tz}]
    return [res]


def room(row: Row, ctx: ExportContext) -> list[Resource]:
    res = start("Location", row)
    res["status"] = "active" if row.get("active", True) else "inactive"
    res["name"] = text(row.get("name")) or "Room"
    res["mode"] = "instance"
    kind = concept(code_system("room-kind"), fhir_code(row.get("kind")))
    if kind:
        res["type"] = [kind]
    res["physicalType"] = {"coding": [{"system": PHYSICAL_TYPE, "code": "ro", "display": "Room"}]}
    res["managingOrganization"] = ctx.organization()
    if row.get("location_id"):
        res["partOf"] = ctx.reference("location", row["location_id"])
    return [res]


EXPORTER = Exporter(
    source="location",
    resource_types=("Location",),
    to_fhir=location,
    csv=catalogue_csv("locations", "location"),
    about="the clinic's premises: name, address, time zone, phone",
)

ROOMS = Exporter(
    source="room",
    resource_types=("Location",),
    to_fhir=room,
    csv=catalogue_csv("rooms", "room"),
    about="treatment rooms, each in one location",
)
