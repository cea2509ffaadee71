"""Leads -> ``Basic`` with code ``lead`` (FHIR R4 has no resource for a sales enquiry).

The lead's source, status, what the person asked about and their message, when it arrived and
was first answered, and its attribution (UTM parameters, click ids, landing page, referrer,
campaign/ad-set/ad/form ids) are extensions; ``subject`` is the client record the lead belongs
to and ``author`` the staff member who owns it.
"""

from __future__ import annotations

from typing import Any

from core.export.base import (
    ExportContext,
    Exporter,
    Resource,
    Row,
    catalogue_csv,
    code_system,
    extension,
    extension_url,
    fhir_code,
    sid,
    start,
    text,
)

ATTRIBUTION = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "fbclid",
    "gclid",
    "gbraid",
    "wbraid",
    "landing_page",
    "referrer",
    "campaign_id",
    "adset_id",
    "ad_id",
    "form_id",
)
LEAD_CODE = {
    "coding": [{"system": code_system("basic-kind"), "code": "lead", "display": "Lead"}],
    "text": "Lead",
}
_TIMES = (
    ("received_at", "lead-received-at"),
    ("first_reply_at", "lead-first-reply-at"),
    ("sla_due_at", "lead-reply-due-at"),
    ("escalated_at", "lead-escalated-at"),
)


def lead(row: Row, ctx: ExportContext) -> list[Resource]:
    res = start("Basic", row)
    if text(row.get("external_id")):
        res["identifier"] = [{"system": sid("lead-external-id"), "value": row["external_id"]}]
    res["code"] = LEAD_CODE
    if row.get("patient_id"):
        res["subject"] = {"reference": f"Patient/{row['patient_id']}"}
    received = row.get("received_at")
    if received:
        res["created"] = received[:10]
    if row.get("owner_id"):
        res["author"] = {"reference": f"Practitioner/{row['owner_id']}"}
    ext: list[dict[str, Any]] = []
    for field, name in (("source", "lead-source"), ("status", "lead-status")):
        code = fhir_code(row.get(field))
        if code:
            ext.append(extension(name, "Code", code))
    if text(row.get("service_interest")):
        ext.append(extension("lead-service-interest", "String", row["service_interest"]))
    if text(row.get("message")):
        ext.append(extension("lead-message", "String", row["message"]))
    for field, name in _TIMES:
        if row.get(field):
            ext.append(extension(name, "DateTime", row[field]))
    if row.get("escalated_to"):
        ext.append(
            extension("lead-escalated-to", "Reference", {"reference": f"Practitioner/{row['escalated_to']}"})
        )
    parts = [{"url": key, "valueString": row[key]} for key in ATTRIBUTION if text(row.get(key))]
    if parts:
        ext.append({"url": extension_url("lead-attribution"), "extension": parts})
    if ext:
        res["extension"] = ext
    return [res]


EXPORTER = Exporter(
    source="lead",
    resource_types=("Basic",),
    to_fhir=lead,
    csv=catalogue_csv("leads", "lead"),
    about="leads: source, status, interest, message, arrival and reply times, owner and claim, attribution",
)
