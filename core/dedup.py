"""Merging two client records: which details staff choose between, which are kept from both,
and the surviving record's values (pure functions; the server merges, the desktop previews).

- **Chosen** (:data:`CHOOSABLE`): demographics; where the two differ staff keep the surviving
  record's value or the other's (left out: the survivor's, or the other's when the survivor
  has none).
- **Kept from both** (:data:`COMBINED`): allergies and medical alerts are never chosen away
  (both texts are kept); tags are joined; VIP if either was; per consent purpose the most recent
  decision wins (an opt-out recorded later is never lost); the earlier first touch stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.email import email_match_key
from core.errors import ValidationError

#: demographics staff choose between when the two records differ
CHOOSABLE = (
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "pronouns",
    "phone",
    "email",
    "instagram_handle",
    "instagram_id",
    "address",
    "timezone",
    "notes",
    "external_ref",
)
#: kept from both records, never chosen away
COMBINED = ("allergies", "medical_alerts", "tags", "vip", "consents", "first_touch")
SURVIVOR, OTHER = "survivor", "other"
#: how people read the chosen details
LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "preferred_name": "Preferred name",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "pronouns": "Pronouns",
    "phone": "Mobile",
    "email": "Email",
    "instagram_handle": "Instagram",
    "instagram_id": "Instagram account",
    "address": "Address",
    "timezone": "Time zone",
    "notes": "Notes",
    "external_ref": "Reference",
    "allergies": "Allergies",
    "medical_alerts": "Medical alerts",
    "tags": "Tags",
    "vip": "VIP",
    "consents": "Consents",
    "first_touch": "First touch",
}


def _empty(value: Any) -> bool:
    return value in (None, "", {}, [])


def differing(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """The chosen details on which two records differ (both set, not equal)."""
    return [n for n in CHOOSABLE if not _empty(a.get(n)) and not _empty(b.get(n)) and a.get(n) != b.get(n)]


def _texts(a: Any, b: Any) -> str | None:
    parts = [str(v).strip() for v in (a, b) if v and str(v).strip()]
    unique = list(dict.fromkeys(parts))
    return "\n".join(unique) if unique else None


def _consents(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for purpose, entry in b.items():
        mine = out.get(purpose)
        if not isinstance(mine, dict) or (
            isinstance(entry, dict) and str(entry.get("at") or "") > str(mine.get("at") or "")
        ):
            out[purpose] = entry
    return out


def _first_touch(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    if not a:
        return dict(b)
    if b and str(b.get("at") or "9999") < str(a.get("at") or "9999"):
        return dict(b)
    return dict(a)


def merged_values(
    survivor: Mapping[str, Any], other: Mapping[str, Any], keep: Mapping[str, str]
) -> dict[str, Any]:
    """The survivor's data after the merge (see the module docstring)."""
    unknown = sorted(set(keep) - set(CHOOSABLE))
    if unknown:
        raise ValidationError(
            f"These details cannot be chosen in a merge: {', '.join(unknown)}.", field=unknown[0]
        )
    bad = sorted(k for k, v in keep.items() if v not in (SURVIVOR, OTHER))
    if bad:
        raise ValidationError(
            "Each detail keeps the value of the surviving record or of the other one.", field=bad[0]
        )
    out: dict[str, Any] = {}
    for name in CHOOSABLE:
        mine, theirs = survivor.get(name), other.get(name)
        choice = keep.get(name)
        if choice == OTHER or (choice is None and _empty(mine) and not _empty(theirs)):
            out[name] = theirs
        else:
            out[name] = mine
    out["email_key"] = email_match_key(out["email"]) if out.get("email") else None
    out["allergies"] = _texts(survivor.get("allergies"), other.get("allergies"))
    out["medical_alerts"] = _texts(survivor.get("medical_alerts"), other.get("medical_alerts"))
    out["tags"] = list(dict.fromkeys([*(survivor.get("tags") or []), *(other.get("tags") or [])]))
    out["vip"] = bool(survivor.get("vip") or other.get("vip"))
    out["consents"] = _consents(dict(survivor.get("consents") or {}), dict(other.get("consents") or {}))
    out["first_touch"] = _first_touch(
        dict(survivor.get("first_touch") or {}), dict(other.get("first_touch") or {})
    )
    return out
