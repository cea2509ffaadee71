"""A client's record as the screen shows it: plain values, built on the DB worker thread.

The screen never holds the stored object; it gets this snapshot (formatted, with the age worked out
in the clinic's time zone) and can keep it as long as it likes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.ui.formatting import age_on, display_dob, display_handle, display_name, display_phone, source_label

CONSENT_LABELS = {
    "transactional_sms": "Appointment texts",
    "marketing_sms": "Marketing texts",
    "email": "Email",
    "phone": "Phone calls",
    "photo_clinical": "Photos for the clinical record",
    "photo_portal": "Photos shown to the client",
    "photo_marketing": "Photos for marketing",
}


@dataclass(frozen=True)
class Consent:
    purpose: str
    label: str
    granted: bool | None  # None: never asked
    source: str = ""
    at: str = ""


@dataclass(frozen=True)
class PatientRecord:
    id: str
    name: str
    first_name: str
    last_name: str
    preferred_name: str
    pronouns: str
    date_of_birth: date | None
    age: int | None
    dob_text: str
    phone: str
    email: str
    instagram: str
    allergies: str
    medical_alerts: str
    tags: tuple[str, ...]
    vip: bool
    consents: tuple[Consent, ...]
    source: str
    notes: str = ""

    @property
    def has_alerts(self) -> bool:
        return bool(self.allergies or self.medical_alerts)

    @classmethod
    def from_patient(cls, patient: Any, *, region: str, today: date) -> PatientRecord:
        """Snapshot a stored patient (as ``PatientService.get`` returns it)."""
        dob = patient.date_of_birth
        consents = patient.consents or {}
        first_touch = patient.first_touch or {}
        return cls(
            id=patient.id,
            name=display_name(patient.first_name, patient.last_name, patient.preferred_name),
            first_name=patient.first_name or "",
            last_name=patient.last_name or "",
            preferred_name=patient.preferred_name or "",
            pronouns=patient.pronouns or "",
            date_of_birth=dob,
            age=age_on(dob, today) if dob else None,
            dob_text=display_dob(dob, today),
            phone=display_phone(patient.phone, region),
            email=patient.email or "",
            instagram=display_handle(patient.instagram_handle),
            allergies=(patient.allergies or "").strip(),
            medical_alerts=(patient.medical_alerts or "").strip(),
            tags=tuple(patient.tags or ()),
            vip=bool(patient.vip),
            consents=tuple(_consent(purpose, label, consents.get(purpose))
                           for purpose, label in CONSENT_LABELS.items()),
            source=_source_text(first_touch),
            notes=(getattr(patient, "notes", None) or "").strip(),
        )


def _consent(purpose: str, label: str, value: Any) -> Consent:
    if not isinstance(value, dict) or "granted" not in value:
        return Consent(purpose, label, None)
    return Consent(purpose, label, bool(value["granted"]), str(value.get("source") or ""),
                   _day(value.get("at")))


def _day(value: Any) -> str:
    """``Nov 2, 2024`` from an ISO timestamp (or whatever was stored, if it is not one)."""
    text = str(value or "")
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return text
    return f"{day.strftime('%b')} {day.day}, {day.year}"


def _source_text(first_touch: dict[str, Any]) -> str:
    source = str(first_touch.get("source") or "").strip()
    if not source:
        return ""
    text = source_label(source)
    campaign = first_touch.get("utm_campaign")
    return f"{text} \u00b7 {campaign}" if campaign else text
