"""Checking exported FHIR resources and export folders (shared by the core, desktop, server and
integration tests).

Every resource is validated against the FHIR R4B models of ``fhir.resources``, plus the rules
those models do not enforce: no empty strings, lists or objects anywhere, absolute extension
URLs, and the codes of FHIR's required bindings for the elements the export fills.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

#: FHIR's required bindings for the coded elements the export writes (R4 / R4B value sets)
REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("Patient", "gender"): frozenset({"male", "female", "other", "unknown"}),
    ("Appointment", "status"): frozenset({"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled",
                                          "noshow", "entered-in-error", "checked-in", "waitlist"}),
    ("Communication", "status"): frozenset({"preparation", "in-progress", "not-done", "on-hold", "stopped",
                                            "completed", "entered-in-error", "unknown"}),
    ("AuditEvent", "action"): frozenset({"C", "R", "U", "D", "E"}),
    ("AuditEvent", "outcome"): frozenset({"0", "4", "8", "12"}),
    ("Location", "status"): frozenset({"active", "suspended", "inactive"}),
    ("Location", "mode"): frozenset({"instance", "kind"}),
    ("Device", "status"): frozenset({"active", "inactive", "entered-in-error", "unknown"}),
    ("Flag", "status"): frozenset({"active", "inactive", "entered-in-error"}),
}
_PARTICIPANT_STATUS = frozenset({"accepted", "declined", "tentative", "needs-action"})
_PARTICIPANT_REQUIRED = frozenset({"required", "optional", "information-only"})
_CONTACT_SYSTEM = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})
_CONTACT_USE = frozenset({"home", "work", "temp", "old", "mobile"})
_LINK_TYPE = frozenset({"replaced-by", "replaces", "refer", "seealso"})
_DAYS = frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"})


def _walk(value: Any, path: str, problems: list[str], *, is_extension: bool = False) -> None:
    """Empty values anywhere; extension URLs absolute except a complex extension's parts."""
    if isinstance(value, dict):
        if not value:
            problems.append(f"{path}: empty object")
        for key, item in value.items():
            if key == "extension" and isinstance(item, list):
                for i, ext in enumerate(item):
                    url = str(ext.get("url", "")) if isinstance(ext, dict) else ""
                    if not is_extension and not url.startswith(("http://", "https://")):
                        problems.append(f"{path}.extension[{i}].url: {url!r} is not absolute")
                    _walk(ext, f"{path}.extension[{i}]", problems, is_extension=True)
                if not item:
                    problems.append(f"{path}.extension: empty list")
            else:
                _walk(item, f"{path}.{key}", problems)
    elif isinstance(value, list):
        if not value:
            problems.append(f"{path}: empty list")
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", problems)
    elif isinstance(value, str):
        if value == "":
            problems.append(f"{path}: empty string")
    elif value is None:
        problems.append(f"{path}: null")


def _bindings(res: dict[str, Any], problems: list[str]) -> None:
    rtype = res["resourceType"]
    for (of, field), codes in REQUIRED_CODES.items():
        if of == rtype and field in res and res[field] not in codes:
            problems.append(f"{rtype}.{field}: {res[field]!r} is not in FHIR's required value set")
    for contact in res.get("telecom", ()):
        if contact.get("system") not in _CONTACT_SYSTEM or contact.get("use", "home") not in _CONTACT_USE:
            problems.append(f"{rtype}.telecom: bad system/use {contact}")
    for participant in res.get("participant", ()):
        if participant.get("status") not in _PARTICIPANT_STATUS:
            problems.append(f"{rtype}.participant.status: {participant.get('status')!r}")
        if participant.get("required", "required") not in _PARTICIPANT_REQUIRED:
            problems.append(f"{rtype}.participant.required: {participant.get('required')!r}")
    for link in res.get("link", ()):
        if link.get("type") not in _LINK_TYPE:
            problems.append(f"{rtype}.link.type: {link.get('type')!r}")
    for slot in res.get("availableTime", ()):
        if not set(slot.get("daysOfWeek", ())) <= _DAYS:
            problems.append(f"{rtype}.availableTime.daysOfWeek: {slot.get('daysOfWeek')!r}")


def check_resource(res: dict[str, Any]) -> None:
    """Raise AssertionError naming every problem of one exported resource."""
    problems: list[str] = []
    _walk(res, res.get("resourceType", "?"), problems)
    _bindings(res, problems)
    try:
        get_fhir_model_class(res["resourceType"]).model_validate(res)
    except Exception as exc:  # noqa: BLE001 - any refusal is the finding
        problems.append(f"R4B model: {exc}")
    assert not problems, f"{res.get('resourceType')}/{res.get('id')}: " + "; ".join(problems[:8])


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"", f"{path.name} does not end with a newline"
    return [json.loads(line) for line in lines[:-1]]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def check_export(out: Path, *, validate: bool = True) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Check an export folder as a recipient would: every file the manifest lists exists with its
    checksum, size and count, nothing else is there, every NDJSON line is a resource of the
    file's type with a unique id that validates (``validate``). Returns (manifest, resources by
    type)."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = {"manifest.json"}
    resources: dict[str, list[dict[str, Any]]] = {}
    for entry in manifest["output"]:
        path = out / entry["url"]
        listed.add(entry["url"])
        assert sha256_of(path) == entry["sha256"], entry["url"]
        assert path.stat().st_size == entry["bytes"], entry["url"]
        items = read_ndjson(path)
        assert len(items) == entry["count"] > 0, entry["url"]
        assert {r["resourceType"] for r in items} == {entry["type"]}, entry["url"]
        ids = Counter(r["id"] for r in items)
        assert ids.most_common(1)[0][1] == 1, f"{entry['type']} ids repeat: {ids.most_common(1)}"
        if validate:
            for res in items:
                check_resource(res)
        resources[entry["type"]] = items
    for entry in manifest["csv"]:
        path = out / entry["url"]
        listed.add(entry["url"])
        assert sha256_of(path) == entry["sha256"], entry["url"]
        assert path.stat().st_size == entry["bytes"], entry["url"]
        assert len(read_csv(path)) == entry["rows"], entry["url"]
    present = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert present == listed, f"files not in the manifest: {sorted(present - listed)}; missing: {sorted(listed - present)}"
    assert manifest["counts"] == {e["type"]: e["count"] for e in manifest["output"]}
    assert manifest["resources"] == sum(e["count"] for e in manifest["output"])
    return manifest, resources
