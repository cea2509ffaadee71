"""The service menu -> ``HealthcareService`` (durations, price and deposit as extensions)."""

from __future__ import annotations

from core.export.base import (
    ExportContext,
    Exporter,
    Resource,
    Row,
    catalogue_csv,
    code_system,
    concept,
    extension,
    fhir_code,
    money,
    start,
    text,
)

UCUM = "http://unitsofmeasure.org"


def minutes(value: int) -> dict[str, object]:
    return {"value": value, "unit": "min", "system": UCUM, "code": "min"}


def healthcare_service(row: Row, ctx: ExportContext) -> list[Resource]:
    res = start("HealthcareService", row)
    res["active"] = bool(row.get("active", True))
    res["providedBy"] = ctx.organization()
    category = concept(code_system("service-category"), fhir_code(row.get("category")))
    if category:
        res["category"] = [category]
    if text(row.get("name")):
        res["name"] = row["name"]
    if text(row.get("description")):
        res["comment"] = row["description"]
    res["appointmentRequired"] = True
    currency = fhir_code(row.get("currency")) or ctx.clinic.currency
    ext = []
    if isinstance(row.get("duration_min"), int):
        ext.append(extension("service-duration", "Duration", minutes(row["duration_min"])))
    for field, name in (
        ("buffer_before_min", "service-buffer-before"),
        ("buffer_after_min", "service-buffer-after"),
    ):
        if row.get(field):
            ext.append(extension(name, "Duration", minutes(row[field])))
    if isinstance(row.get("price_minor"), int):
        ext.append(extension("service-price", "Money", money(row["price_minor"], currency)))
        unit = fhir_code(row.get("price_unit"))
        if unit:
            ext.append(extension("service-price-unit", "Code", unit))
    if row.get("deposit_minor"):
        ext.append(extension("service-deposit", "Money", money(row["deposit_minor"], currency)))
    res["extension"] = ext
    if not ext:
        del res["extension"]
    return [res]


EXPORTER = Exporter(
    source="service",
    resource_types=("HealthcareService",),
    to_fhir=healthcare_service,
    csv=catalogue_csv("services", "service"),
    about="the service menu: name, category, duration and buffers, price, deposit, who may perform it",
)
