"""Equipment (a laser, a CoolSculpting unit) -> ``Device``."""

from __future__ import annotations

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


def device(row: Row, ctx: ExportContext) -> list[Resource]:
    res = start("Device", row)
    res["status"] = "active" if row.get("active", True) else "inactive"
    if text(row.get("name")):
        res["deviceName"] = [{"name": row["name"], "type": "user-friendly-name"}]
    if text(row.get("model")):
        res["modelNumber"] = row["model"]
    kind = concept(code_system("device-kind"), fhir_code(row.get("kind")), text(row.get("kind")))
    if kind:
        res["type"] = kind
    res["owner"] = ctx.organization()
    if row.get("location_id"):
        res["location"] = ctx.reference("location", row["location_id"])
    return [res]


EXPORTER = Exporter(
    source="device",
    resource_types=("Device",),
    to_fhir=device,
    csv=catalogue_csv("devices", "device"),
    about="equipment some services need (lasers, body-contouring units)",
)
