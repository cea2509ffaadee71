"""A clinic's look on its web pages: display name, accent colour and logo.

They live in the clinic's synced ``settings.branding`` (``{"color": "#9a5b7a", "logo":
"data:image/png;base64,..."}``), set with ``python -m sync_server clinic-branding`` and seen by
the desktops like every clinic setting. The colour is checked (a 6-digit hex) and darkened
until white text on it has a contrast ratio of at least 4.5:1 (WCAG 2.1 AA), so a clinic's pale
brand colour never makes a button unreadable. The logo is a small PNG, JPEG or SVG kept as a
data URL (at most :data:`MAX_LOGO_BYTES`), served from ``/brand/{slug}/logo`` so pages never
embed it twice.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from core.errors import ValidationError

DEFAULT_COLOR = "#8a4f6d"
MAX_LOGO_BYTES = 96 * 1024
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_LOGO_TYPES = {"image/png", "image/jpeg", "image/svg+xml"}


@dataclass(frozen=True)
class Branding:
    clinic_id: str
    slug: str
    name: str
    color: str  # the accent, readable under white text
    has_logo: bool
    language: str  # the clinic's default page language
    timezone: str


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: str) -> float:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_accent(color: str | None) -> str:
    """``color`` (or the default), darkened until white text on it reads at 4.5:1 or more."""
    if not color or not _HEX.match(color):
        color = DEFAULT_COLOR
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    current = f"#{r:02x}{g:02x}{b:02x}"
    while contrast(current, "#ffffff") < 4.5:
        r, g, b = (int(v * 0.9) for v in (r, g, b))
        current = f"#{r:02x}{g:02x}{b:02x}"
    return current


def check_color(color: str) -> str:
    if not _HEX.match(color):
        raise ValidationError("A brand colour is a hex colour such as #8a4f6d.", field="color")
    return color.lower()


def logo_data_url(content: bytes, content_type: str) -> str:
    if content_type not in _LOGO_TYPES:
        raise ValidationError("A logo is a PNG, JPEG or SVG image.", field="logo")
    if len(content) > MAX_LOGO_BYTES:
        raise ValidationError(f"A logo is at most {MAX_LOGO_BYTES // 1024} KB.", field="logo")
    if content_type == "image/svg+xml" and re.search(rb"<script|on\w+\s*=|javascript:", content, re.I):
        raise ValidationError("An SVG logo may not contain scripts.", field="logo")
    return f"data:{content_type};base64,{base64.b64encode(content).decode()}"


def decode_logo(data_url: str) -> tuple[bytes, str] | None:
    head, _, payload = data_url.partition(",")
    if not head.startswith("data:") or not head.endswith(";base64"):
        return None
    content_type = head[5:-7]
    if content_type not in _LOGO_TYPES:
        return None
    try:
        return base64.b64decode(payload, validate=True), content_type
    except (binascii.Error, ValueError):
        return None


def from_settings(*, clinic_id: str, slug: str, name: str, timezone: str, settings: dict[str, Any] | None) -> Branding:
    branding = (settings or {}).get("branding")
    branding = branding if isinstance(branding, dict) else {}
    language = branding.get("language") if branding.get("language") in ("en", "es") else "en"
    return Branding(clinic_id=clinic_id, slug=slug, name=name, color=readable_accent(branding.get("color")),
                    has_logo=isinstance(branding.get("logo"), str), language=str(language), timezone=timezone)
