"""The clinic -> ``Organization`` (the owner of every other resource)."""

from __future__ import annotations

from typing import Any

from core.export.base import (
    ExportContext,
    Exporter,
    Resource,
    Row,
    catalogue_csv,
    fhir_code,
    sid,
    start,
    text,
)

TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"


def phone_contact(phone: Any) -> list[dict[str, str]]:
    value = text(phone)
    return [{"system": "phone", "value": value, "use": "work"}] if value else []


def organization(row: Row, ctx: ExportContext) -> list[Resource]:
    res = start("Organization", row)
    if text(row.get("slug")):
        res["identifier"] = [{"system": sid("clinic-slug"), "value": row["slug"]}]
    res["active"] = True
    if text(row.get("name")):
        res["name"] = row["name"]
    telecom = phone_contact(row.get("phone"))
    if telecom:
        res["telecom"] = telecom
    tz = fhir_code(row.get("timezone"))
    if tz:
        res["extension"] = [{"url": TIMEZONE_EXTENSION, "valueCode": tz}]
    return [res]


EXPORTER = Exporter(
    source="clinic",
    resource_types=("Organization",),
    to_fhir=organization,
    csv=catalogue_csv("clinic", "clinic"),
    about="the clinic: name, web-address slug, time zone, region, currency, phone, settings",
)
