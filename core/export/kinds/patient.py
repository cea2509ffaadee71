"""Client records -> ``Patient``, plus ``AllergyIntolerance`` (the allergies field) and ``Flag``
(the medical alerts field) when the record holds them.

Communication preferences are the record's consents per channel and purpose (transactional and
marketing texts, email, phone, photo use): one ``communication-consent`` extension each. A record
merged into another is exported inactive with ``link.type = replaced-by`` pointing at the record
it was merged into; other deleted records are not exported.
"""

from __future__ import annotations

import re
from typing import Any

from core.consents import CONSENT_PURPOSES
from core.export.base import (
    ExportContext,
    Exporter,
    Resource,
    Row,
    catalogue_csv,
    csv_text,
    extension,
    extension_url,
    fhir_code,
    fhir_datetime,
    json_text,
    sid,
    start,
    text,
)
from core.export.kinds.clinic import TIMEZONE_EXTENSION
from core.export.kinds.location import address

_GENDER = {
    "female": "female",
    "f": "female",
    "woman": "female",
    "male": "male",
    "m": "male",
    "man": "male",
    "unknown": "unknown",
    "prefer not to say": "unknown",
    "not stated": "unknown",
}
_URL_PART = re.compile(r"[A-Za-z0-9_.-]+")
_NONE_KNOWN = frozenset(
    {
        "none",
        "no",
        "nka",
        "nkda",
        "no known allergies",
        "no known drug allergies",
        "no allergies",
        "n/a",
        "na",
        "-",
    }
)
SNOMED = "http://snomed.info/sct"
CONSENT_URL = extension_url("communication-consent")
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"


def included(row: Row) -> bool:
    """Live records, and records merged into another (their history points at the survivor)."""
    return not row.get("deleted") or bool(row.get("merged_into"))


def gender(sex: Any) -> str | None:
    if not isinstance(sex, str) or not sex.strip():
        return None
    return _GENDER.get(sex.strip().lower(), "other")


_PURPOSE_PARTS = {p: {"url": "purpose", "valueCode": p} for p in CONSENT_PURPOSES}
_GRANTED_TRUE = {"url": "granted", "valueBoolean": True}
_GRANTED_FALSE = {"url": "granted", "valueBoolean": False}


def _consent_extension(purpose_part: dict[str, Any], entry: Any) -> dict[str, Any] | None:
    if type(entry) is not dict:
        return None
    granted = entry.get("granted")
    if granted is True:
        parts = [purpose_part, _GRANTED_TRUE]
    elif granted is False:
        parts = [purpose_part, _GRANTED_FALSE]
    else:
        return None
    at = entry.get("at")
    if at and fhir_datetime(at):
        parts.append({"url": "recorded", "valueDateTime": at})
    source = entry.get("source")
    if text(source):
        parts.append({"url": "source", "valueString": source})
    return {"url": CONSENT_URL, "extension": parts}


def consent_extensions(consents: Any) -> list[dict[str, Any]]:
    """One ``communication-consent`` extension per purpose (the known purposes first, in their
    order, then any others by name): purpose, granted, when, from where."""
    out: list[dict[str, Any]] = []
    if not consents or type(consents) is not dict:
        return out
    known = 0
    for purpose, purpose_part in _PURPOSE_PARTS.items():
        entry = consents.get(purpose)
        if entry is not None:
            known += 1
            ext = _consent_extension(purpose_part, entry)
            if ext is not None:
                out.append(ext)
    if len(consents) > known:
        for purpose in sorted(k for k in consents if k not in _PURPOSE_PARTS):
            code = fhir_code(purpose)
            ext = (
                _consent_extension({"url": "purpose", "valueCode": code}, consents[purpose]) if code else None
            )
            if ext is not None:
                out.append(ext)
    return out


def first_touch_extension(first_touch: Any) -> dict[str, Any] | None:
    """How the client first found the clinic (source, campaign, click ids...), as text parts."""
    if not isinstance(first_touch, dict):
        return None
    parts = [
        {"url": key, "valueString": value}
        for key, value in sorted(first_touch.items())
        if text(value) and _URL_PART.fullmatch(key)
    ]
    return {"url": extension_url("first-touch"), "extension": parts} if parts else None


def telecom(row: Row) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if text(row.get("phone")):
        out.append({"system": "phone", "value": row["phone"], "use": "mobile"})
    if text(row.get("email")):
        out.append({"system": "email", "value": row["email"], "use": "home"})
    handle = row.get("instagram_handle")
    if handle and type(handle) is str and handle.split() == [handle]:  # a URL has no spaces
        out.append({"system": "url", "value": f"https://www.instagram.com/{row['instagram_handle']}"})
    return out


def patient(row: Row, ctx: ExportContext) -> list[Resource]:
    pid = row["id"]
    res = start("Patient", row)
    identifiers = [{"system": sid("patient"), "value": pid}]
    if text(row.get("external_ref")):
        identifiers.append({"system": sid("external-ref"), "value": row["external_ref"]})
    if text(row.get("instagram_id")):
        identifiers.append({"system": sid("instagram-scoped-id"), "value": row["instagram_id"]})
    res["identifier"] = identifiers
    res["active"] = not row.get("deleted")
    names: list[dict[str, Any]] = []
    official: dict[str, Any] = {"use": "official"}
    if text(row.get("last_name")):
        official["family"] = row["last_name"]
    if text(row.get("first_name")):
        official["given"] = [row["first_name"]]
    if len(official) > 1:
        names.append(official)
    if text(row.get("preferred_name")):
        names.append({"use": "usual", "given": [row["preferred_name"]]})
    if names:
        res["name"] = names
    contact = telecom(row)
    if contact:
        res["telecom"] = contact
    g = gender(row.get("sex"))
    if g:
        res["gender"] = g
    if row.get("date_of_birth"):
        res["birthDate"] = row["date_of_birth"]
    addr = address(row.get("address"), use="home")
    if addr:
        res["address"] = [addr]
    if row.get("merged_into"):
        res["link"] = [{"other": {"reference": f"Patient/{row['merged_into']}"}, "type": "replaced-by"}]

    ext = consent_extensions(row.get("consents"))
    if text(row.get("pronouns")):
        ext.append(extension("pronouns", "String", row["pronouns"]))
    tz = fhir_code(row.get("timezone"))
    if tz:
        ext.append({"url": TIMEZONE_EXTENSION, "valueCode": tz})
    for tag in row.get("tags") or ():
        if text(tag):
            ext.append(extension("client-tag", "String", tag))
    if row.get("vip"):
        ext.append(extension("vip", "Boolean", True))
    if text(row.get("notes")):
        ext.append(extension("client-note", "String", row["notes"]))
    touch = first_touch_extension(row.get("first_touch"))
    if touch:
        ext.append(touch)
    if ext:
        res["extension"] = ext

    out = [res]
    if row.get("deleted"):
        return out  # merged away: its allergies and alerts live on in the surviving record
    subject = {"reference": f"Patient/{pid}"}
    allergies = text(row.get("allergies"))
    if allergies:
        allergy: Resource = {"resourceType": "AllergyIntolerance", "id": pid}
        if "meta" in res:
            allergy["meta"] = res["meta"]
        allergy["clinicalStatus"] = {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]}
        if allergies.strip().lower().rstrip(".") in _NONE_KNOWN:
            allergy["code"] = {
                "coding": [{"system": SNOMED, "code": "716186003", "display": "No known allergy"}],
                "text": allergies,
            }
        else:
            allergy["code"] = {"text": allergies}
        allergy["patient"] = subject
        out.append(allergy)
    alerts = text(row.get("medical_alerts"))
    if alerts:
        flag: Resource = {"resourceType": "Flag", "id": pid}
        if "meta" in res:
            flag["meta"] = res["meta"]
        flag["status"] = "active"
        flag["category"] = [
            {"coding": [{"system": FLAG_CATEGORY, "code": "clinical", "display": "Clinical"}]}
        ]
        flag["code"] = {"text": alerts}
        flag["subject"] = subject
        out.append(flag)
    return out


CONSENT_COLUMNS = (
    *(f"consent_{purpose}{suffix}" for purpose in CONSENT_PURPOSES for suffix in ("", "_at", "_source")),
    "consents_other",
)


_NO_CONSENT = (None, None, None)


def consent_cells(row: Row) -> list[Any]:
    """Three cells per known purpose (granted or refused, when, from where), then any other
    purposes as JSON."""
    consents = row.get("consents")
    if not consents or type(consents) is not dict:
        return [None] * len(CONSENT_COLUMNS)
    out: list[Any] = []
    known = 0
    for purpose in CONSENT_PURPOSES:
        entry = consents.get(purpose)
        if type(entry) is dict:
            known += 1
            granted = entry.get("granted")
            source = entry.get("source")
            out += (
                "granted" if granted is True else "refused" if granted is False else None,
                entry.get("at"),
                csv_text(source) if type(source) is str else None,
            )
        else:
            out += _NO_CONSENT
    if len(consents) > known:
        others = {k: v for k, v in consents.items() if k not in _PURPOSE_PARTS}
        out.append(json_text(others) if others else None)
    else:
        out.append(None)
    return out


EXPORTER = Exporter(
    source="patient",
    resource_types=("Patient", "AllergyIntolerance", "Flag"),
    to_fhir=patient,
    include=included,
    csv=catalogue_csv(
        "patients", "patient", exclude=("consents",), extra_columns=CONSENT_COLUMNS, extra=consent_cells
    ),
    about="client records: names, birth date, contact details, address, consents per channel, allergies, "
    "medical alerts, tags, notes, first touch",
)
