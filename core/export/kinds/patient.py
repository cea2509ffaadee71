"""Client records -> ``Patient``, plus ``AllergyIntolerance`` (the allergies field) and ``Flag``
(the medical alerts field) when the record holds them.

Communication preferences are the record's consents per channel and purpose (transactional and
marketing texts, email, phone, photo use): one ``communication-consent`` extension each. A record
merged into another is exported inactive with ``link.type = replaced-by`` pointing at the record
it was merged into; other deleted records are not exported.
"""

from __future__ import annotations

import functools
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
#: part dicts shared by every resource that has them (a handful of sources recur: intake_form,
#: STOP...); serialising a shared dict twice costs nothing, building 20,000 of them does
_SOURCE_PARTS: dict[str, dict[str, str]] = {}
_SID_PATIENT = sid("patient")
_SID_EXTERNAL = sid("external-ref")
_SID_INSTAGRAM = sid("instagram-scoped-id")
_PRONOUNS_URL = extension_url("pronouns")
_TAG_URL = extension_url("client-tag")
_NOTE_URL = extension_url("client-note")
_FIRST_TOUCH_URL = extension_url("first-touch")
_VIP = extension("vip", "Boolean", True)


def _source_part(source: str) -> dict[str, str]:
    part = _SOURCE_PARTS.get(source)
    if part is None:
        part = {"url": "source", "valueString": source}
        if len(_SOURCE_PARTS) < 1000:
            _SOURCE_PARTS[source] = part
    return part


def _consent_extension(
    purpose_part: dict[str, Any], entry: Any, times: dict[str, dict[str, str]]
) -> dict[str, Any] | None:
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
    if at:
        recorded = times.get(at)
        if recorded is None and fhir_datetime(at):
            recorded = times[at] = {"url": "recorded", "valueDateTime": at}
        if recorded is not None:
            parts.append(recorded)
    source = entry.get("source")
    if source and type(source) is str and not source.isspace():
        parts.append(_source_part(source))
    return {"url": CONSENT_URL, "extension": parts}


def consent_extensions(consents: Any) -> list[dict[str, Any]]:
    """One ``communication-consent`` extension per purpose (the known purposes first, in their
    order, then any others by name): purpose, granted, when, from where."""
    out: list[dict[str, Any]] = []
    if not consents or type(consents) is not dict:
        return out
    known = 0
    times: dict[str, dict[str, str]] = {}  # a client's consents usually share the time of one form
    for purpose, purpose_part in _PURPOSE_PARTS.items():
        entry = consents.get(purpose)
        if entry is not None:
            known += 1
            ext = _consent_extension(purpose_part, entry, times)
            if ext is not None:
                out.append(ext)
    if len(consents) > known:
        for purpose in sorted(k for k in consents if k not in _PURPOSE_PARTS):
            code = fhir_code(purpose)
            ext = (
                _consent_extension({"url": "purpose", "valueCode": code}, consents[purpose], times)
                if code
                else None
            )
            if ext is not None:
                out.append(ext)
    return out


@functools.lru_cache(maxsize=256)
def _part_name(key: str) -> bool:
    return _URL_PART.fullmatch(key) is not None


def first_touch_extension(first_touch: Any) -> dict[str, Any] | None:
    """How the client first found the clinic (source, campaign, click ids...), as text parts."""
    if not first_touch or type(first_touch) is not dict:
        return None
    parts = [
        {"url": key, "valueString": value}
        for key, value in sorted(first_touch.items())
        if value and type(value) is str and not value.isspace() and _part_name(key)
    ]
    return {"url": _FIRST_TOUCH_URL, "extension": parts} if parts else None


def telecom(row: Row) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    get = row.get
    phone, email, handle = get("phone"), get("email"), get("instagram_handle")
    if phone and not phone.isspace():
        out.append({"system": "phone", "value": phone, "use": "mobile"})
    if email and not email.isspace():
        out.append({"system": "email", "value": email, "use": "home"})
    if handle and handle.split() == [handle]:  # a URL has no spaces
        out.append({"system": "url", "value": f"https://www.instagram.com/{handle}"})
    return out


def patient(row: Row, ctx: ExportContext) -> list[Resource]:
    get = row.get
    pid = row["id"]
    res = start("Patient", row)
    identifiers = [{"system": _SID_PATIENT, "value": pid}]
    value = get("external_ref")
    if value and not value.isspace():
        identifiers.append({"system": _SID_EXTERNAL, "value": value})
    value = get("instagram_id")
    if value and not value.isspace():
        identifiers.append({"system": _SID_INSTAGRAM, "value": value})
    res["identifier"] = identifiers
    res["active"] = not get("deleted")
    names: list[dict[str, Any]] = []
    official: dict[str, Any] = {"use": "official"}
    value = get("last_name")
    if value and not value.isspace():
        official["family"] = value
    value = get("first_name")
    if value and not value.isspace():
        official["given"] = [value]
    if len(official) > 1:
        names.append(official)
    value = get("preferred_name")
    if value and not value.isspace():
        names.append({"use": "usual", "given": [value]})
    if names:
        res["name"] = names
    contact = telecom(row)
    if contact:
        res["telecom"] = contact
    g = gender(get("sex"))
    if g:
        res["gender"] = g
    if get("date_of_birth"):
        res["birthDate"] = row["date_of_birth"]
    addr = address(get("address"), use="home")
    if addr:
        res["address"] = [addr]
    if get("merged_into"):
        res["link"] = [{"other": {"reference": f"Patient/{row['merged_into']}"}, "type": "replaced-by"}]

    ext = consent_extensions(get("consents"))
    value = get("pronouns")
    if value and not value.isspace():
        ext.append({"url": _PRONOUNS_URL, "valueString": value})
    tz = fhir_code(get("timezone"))
    if tz:
        ext.append({"url": TIMEZONE_EXTENSION, "valueCode": tz})
    tags = get("tags")
    if tags:
        for tag in tags:
            if text(tag):
                ext.append({"url": _TAG_URL, "valueString": tag})
    if get("vip"):
        ext.append(_VIP)
    value = get("notes")
    if value and not value.isspace():
        ext.append({"url": _NOTE_URL, "valueString": value})
    touch = first_touch_extension(get("first_touch"))
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
