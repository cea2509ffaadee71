"""Which ways of writing to clients the clinic has, told to the desktops.

The clinic's synced ``settings`` carry ``channels: {"sms": bool, "instagram": bool}`` (texting
needs Twilio; Instagram DMs need Meta with a page token and the page or Instagram account), so a
workstation can say "Instagram is not connected for this clinic" before anyone writes a DM. The
server still decides every message (:mod:`sync_server.messaging.instagram`). Written whenever
``integrations set`` changes a connection.
"""

from __future__ import annotations

from sync_server.clinics import service as clinics
from sync_server.integrations import service as integrations
from sync_server.records.service import ServerWrites

SETTINGS_KEY = "channels"


def available(writes: ServerWrites) -> dict[str, bool]:
    session, clinic_id = writes.session, writes.clinic_id
    return {"sms": integrations.twilio_sender(session, clinic_id=clinic_id) is not None,
            "instagram": integrations.meta_sender(session, clinic_id=clinic_id) is not None}


def publish(writes: ServerWrites) -> dict[str, bool]:
    """Bring the clinic's synced ``settings.channels`` up to date; the channels."""
    channels = available(writes)
    data = writes.get("clinic", writes.clinic_id)
    if data is None:
        clinic = clinics.get_clinic(writes.session, clinic_id=writes.clinic_id)
        writes.insert("clinic", {"name": clinic.name, "slug": clinic.slug, "timezone": clinic.timezone,
                                 "region": clinic.region, "currency": clinic.currency,
                                 "settings": {SETTINGS_KEY: channels}}, entity_id=writes.clinic_id)
        return channels
    settings = dict(data.get("settings") or {}) if isinstance(data.get("settings"), dict) else {}
    if settings.get(SETTINGS_KEY) != channels:
        writes.update("clinic", writes.clinic_id, {"settings": {**settings, SETTINGS_KEY: channels}})
    return channels
