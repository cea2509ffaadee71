"""Changing a clinic's look on its web pages (in the caller's transaction; never commits)."""

from __future__ import annotations

from typing import Any

from core.errors import ValidationError
from sync_server.clinics import service as clinics
from sync_server.records.service import ServerWrites
from sync_server.web.branding import check_color

SETTINGS_KEY = "branding"


def set_branding(writes: ServerWrites, *, color: str | None = None, logo: str | None = None,
                 language: str | None = None, clear_logo: bool = False) -> dict[str, Any]:
    """Store the clinic's brand colour, logo (a data URL from :func:`branding.logo_data_url`)
    and default page language in its synced settings; the new branding."""
    data = writes.get("clinic", writes.clinic_id)
    if data is None:
        clinic = clinics.get_clinic(writes.session, clinic_id=writes.clinic_id)
        data = {"name": clinic.name, "slug": clinic.slug, "timezone": clinic.timezone, "region": clinic.region,
                "currency": clinic.currency, "settings": {}}
        writes.insert("clinic", data, entity_id=writes.clinic_id)
    settings = dict(data.get("settings") or {}) if isinstance(data.get("settings"), dict) else {}
    branding = dict(settings.get(SETTINGS_KEY) or {})
    if color is not None:
        branding["color"] = check_color(color)
    if logo is not None:
        branding["logo"] = logo
    if clear_logo:
        branding.pop("logo", None)
    if language is not None:
        if language not in ("en", "es"):
            raise ValidationError("The page language is en or es.", field="language")
        branding["language"] = language
    if settings.get(SETTINGS_KEY) != branding:
        writes.update("clinic", writes.clinic_id, {"settings": {**settings, SETTINGS_KEY: branding}})
    return branding
