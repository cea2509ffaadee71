"""The purposes a client's consent is recorded for (DESIGN.md, Security and audit: consent is per
channel and per purpose). The server keeps the decisions; the desktop shows and checks them."""

from __future__ import annotations

from typing import Final

CONSENT_PURPOSES: Final = (
    "transactional_sms",
    "marketing_sms",
    "email",
    "phone",
    "photo_clinical",
    "photo_portal",
    "photo_marketing",
)
