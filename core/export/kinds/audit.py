"""The audit trail -> ``AuditEvent``.

Rows: ``seq``, ``at``, ``staff_id``, ``device_id``, ``action``, ``entity``, ``entity_id``,
``detail``, ``prev_hash``, ``hash``, and ``chain`` (the workstation's device id) for entries of a
workstation's chain read on the server.

AuditEvent, not Provenance: the trail records reads (who opened which client record) as well as
changes, and FHIR's Provenance describes only where a version of a resource came from. Each
entry keeps its place in the hash chain (``seq``, ``prev_hash``, ``hash``) in the
``audit-chain`` extension, so an auditor can check the chain from the export itself.
"""

from __future__ import annotations

from typing import Any

from core.export.base import (
    CsvSpec,
    ExportContext,
    Exporter,
    Resource,
    Row,
    code_system,
    csv_text,
    extension_url,
    fhir_code,
    json_text,
    sid,
)

DCM = "http://dicom.nema.org/resources/ontology/DCM"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
#: entities whose entries are about a client's record
_PATIENT_DATA = frozenset(
    {
        "patient",
        "appointment",
        "lead",
        "message",
        "activity",
        "message_read",
        "merge_review",
        "message_attachment",
    }
)
_READ = frozenset({"read", "review", "view", "open", "export"})
_CREATE = frozenset({"create", "insert", "append", "import", "issue", "enroll", "seed", "send"})
_DELETE = frozenset({"delete", "revoke"})
_TYPE_EXPORT = {"system": DCM, "code": "110106", "display": "Export"}
_TYPE_RECORD = {"system": DCM, "code": "110110", "display": "Patient Record"}
_TYPE_ROLES = {"system": DCM, "code": "110136", "display": "Security Roles Changed"}
_TYPE_APP = {"system": DCM, "code": "110100", "display": "Application Activity"}
_DESKTOP_SOURCE = [
    {"system": SOURCE_TYPE, "code": "1", "display": "End-user display device, diagnostic display"}
]
_SERVER_SOURCE = [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}]
COLUMNS = (
    "seq",
    "at",
    "staff_id",
    "device_id",
    "action",
    "entity",
    "entity_id",
    "detail",
    "prev_hash",
    "hash",
)


def action_code(action: str) -> str:
    """FHIR's C/R/U/D/E from our action's verb (``patient.read`` -> R)."""
    verb = action.rsplit(".", 1)[-1]
    if verb in _READ:
        return "R"
    if verb in _CREATE:
        return "C"
    if verb in _DELETE:
        return "D"
    return "U" if verb else "E"


def event_type(action: str, entity: str) -> dict[str, str]:
    if action.endswith(".export"):
        return _TYPE_EXPORT
    if entity in _PATIENT_DATA:
        return _TYPE_RECORD
    if entity == "staff":
        return _TYPE_ROLES
    return _TYPE_APP


def audit_event(row: Row, ctx: ExportContext) -> list[Resource]:
    action = str(row.get("action") or "")
    entity = str(row.get("entity") or "")
    # a workstation's own chain (its audit log, or its copy uploaded to the server) is numbered
    # by that workstation: ``chain`` names it; otherwise the chain is the export's own
    chain_of = row.get("chain")
    res: Resource = {"resourceType": "AuditEvent", "id": f"{chain_of or ctx.audit_prefix}.{row['seq']}"}
    res["type"] = event_type(action, entity)
    code = fhir_code(action)
    if code:
        res["subtype"] = [{"system": code_system("audit-action"), "code": code}]
    res["action"] = action_code(action)
    res["recorded"] = row["at"]
    res["outcome"] = "0"
    detail = row.get("detail") or {}
    staff_id, device_id = row.get("staff_id"), row.get("device_id")
    workstation = {"identifier": {"system": sid("workstation"), "value": device_id}} if device_id else None
    if staff_id:
        agent: dict[str, Any] = {"who": {"reference": f"Practitioner/{staff_id}"}, "requestor": True}
    else:
        via = detail.get("via") if isinstance(detail, dict) else None
        who = {"server": "Glowdesk clinic server", "cli": "Server operator (command line)"}.get(
            via if isinstance(via, str) else "", "Glowdesk"
        )
        agent = {"who": {"display": who}, "requestor": False}
    agents = [agent]
    if workstation:
        agents.append({"who": {**workstation, "display": "Glowdesk workstation"}, "requestor": False})
    res["agent"] = agents
    if ctx.origin == "desktop" or chain_of:
        observer = (
            {**workstation, "display": "Glowdesk workstation"}
            if workstation
            else {"display": "Glowdesk workstation"}
        )
        res["source"] = {"site": ctx.clinic.slug, "observer": observer, "type": _DESKTOP_SOURCE}
    else:
        res["source"] = {
            "site": ctx.clinic.slug,
            "observer": {"display": "Glowdesk clinic server"},
            "type": _SERVER_SOURCE,
        }
    what: dict[str, Any] = {}
    if row.get("entity_id"):
        what["what"] = ctx.reference(entity, str(row["entity_id"]))
    kind = fhir_code(entity)
    if kind:
        what["type"] = {"system": code_system("record-kind"), "code": kind}
    if detail:
        what["detail"] = [{"type": "detail", "valueString": json_text(detail)}]
    if what:
        res["entity"] = [what]
    chain = [
        {"url": "seq", "valueInteger": row["seq"]}
        if row["seq"] < 2**31
        else {"url": "seq", "valueString": str(row["seq"])}
    ]
    for key in ("prev_hash", "hash"):
        if row.get(key):
            chain.append({"url": key, "valueString": row[key]})
    res["extension"] = [{"url": extension_url("audit-chain"), "extension": chain}]
    return [res]


def _csv_values(row: Row) -> list[Any]:
    detail = row.get("detail")
    return [
        row["seq"],
        row["at"],
        row.get("staff_id"),
        row.get("device_id"),
        csv_text(row.get("action")),
        csv_text(row.get("entity")),
        row.get("entity_id"),
        json_text(detail) if detail else None,
        row.get("prev_hash"),
        row.get("hash"),
    ]


EXPORTER = Exporter(
    source="audit",
    resource_types=("AuditEvent",),
    to_fhir=audit_event,
    include=lambda row: True,
    csv=CsvSpec("audit", COLUMNS, _csv_values),
    about="the audit trail: who read or changed what, when, from which workstation, with its hash chain",
)
