"""Staff -> ``Practitioner`` (the person) and ``PractitionerRole`` (their role in the clinic and
their weekly rota). PIN hashes are never exported."""

from __future__ import annotations

import re
from typing import Any

from core.export.base import (
    ExportContext,
    Exporter,
    Resource,
    Row,
    catalogue_csv,
    code_system,
    fhir_code,
    sid,
    start,
    text,
)
from core.permissions import Role

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def telecom(phone: Any, email: Any, *, use: str) -> list[dict[str, str]]:
    out = []
    if text(phone):
        out.append({"system": "phone", "value": phone, "use": use})
    if text(email):
        out.append({"system": "email", "value": email, "use": use})
    return out


def available_times(hours: Any) -> list[dict[str, Any]]:
    """A rota ``{"mon": [["09:00", "17:00"]], ...}`` as PractitionerRole.availableTime."""
    out: list[dict[str, Any]] = []
    if not isinstance(hours, dict):
        return out
    for day in _DAYS:
        for shift in hours.get(day) or ():
            if (
                isinstance(shift, list | tuple)
                and len(shift) == 2
                and all(isinstance(t, str) and _HHMM.fullmatch(t) for t in shift)
            ):
                out.append(
                    {
                        "daysOfWeek": [day],
                        "availableStartTime": f"{shift[0]}:00",
                        "availableEndTime": f"{shift[1]}:00",
                    }
                )
    return out


def practitioner(row: Row, ctx: ExportContext) -> list[Resource]:
    active = bool(row.get("active", True))
    person = start("Practitioner", row)
    person["identifier"] = [{"system": sid("staff"), "value": row["id"]}]
    person["active"] = active
    if text(row.get("display_name")):
        person["name"] = [{"text": row["display_name"]}]
    contact = telecom(row.get("phone"), row.get("email"), use="work")
    if contact:
        person["telecom"] = contact
    if text(row.get("title")):
        person["qualification"] = [{"code": {"text": row["title"]}}]
    role = start("PractitionerRole", row)
    role["active"] = active
    role["practitioner"] = {"reference": f"Practitioner/{row['id']}"}
    role["organization"] = ctx.organization()
    code = fhir_code(row.get("role"))
    if code:
        label = Role(code).label if code in Role._value2member_map_ else None
        role["code"] = [
            {
                "coding": [
                    {
                        "system": code_system("staff-role"),
                        "code": code,
                        **({"display": label} if label else {}),
                    }
                ]
            }
        ]
    times = available_times(row.get("working_hours"))
    if times:
        role["availableTime"] = times
    return [person, role]


EXPORTER = Exporter(
    source="staff",
    resource_types=("Practitioner", "PractitionerRole"),
    to_fhir=practitioner,
    csv=catalogue_csv("staff", "staff", exclude=("pin_hash",)),
    about="staff members: name, role, title, contact, colour, weekly rota (never their PIN)",
)
