"""The clinic -> ``Organization`` (the owner of every other resource)."""

from __future__ import annotations

from core.export.base import ExportContext, Exporter, Resource, Row, catalogue_csv, fhir_code, sid, start

TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"


def phone_contact(phone: str | None) -> list[dict[str, str]]:
    return [{"system": "phone", "value": phone, "use": "work"}] if phone else []


def organization(row: Row, ctx: ExportContext) -> list[Resource]:
    res = start("Organization", row)
    if row.get("slug"):
        res["identifier"] = [{"system": sid("clinic-slug"), "value": row["slug"]}]
    res["active"] = True
    if row.get("name"):
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
