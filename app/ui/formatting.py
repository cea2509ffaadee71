"""How people, phones and dates read on screen (pure functions, shared by models and views)."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from core.money import Money
from core.phone import format_phone


def display_name(first: str | None, last: str | None, preferred: str | None = None) -> str:
    """``Katherine “Kate” Lee``; the preferred name only when it differs from the first name."""
    first, last = (first or "").strip(), (last or "").strip()
    preferred = (preferred or "").strip()
    parts = [first] if first else []
    if preferred and preferred.casefold() != first.casefold():
        parts.append(f"\u201c{preferred}\u201d")
    if last:
        parts.append(last)
    return " ".join(parts) or "(no name)"


def display_phone(e164: str | None, region: str) -> str:
    return format_phone(e164, region) if e164 else ""


def display_handle(handle: str | None) -> str:
    return f"@{handle.lstrip('@')}" if handle else ""


def age_on(dob: date, today: date) -> int:
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def display_dob(dob: date | None, today: date) -> str:
    """``Mar 4, 1988 · 37 years``."""
    if dob is None:
        return ""
    return f"{dob.strftime('%b')} {dob.day}, {dob.year} \u00b7 {age_on(dob, today)} years"


def display_count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


# --- times -------------------------------------------------------------------------------------


def display_time(moment: datetime) -> str:
    """``2:05 PM`` (no zero-padded hour, on every platform)."""
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def display_day(day: date, today: date | None = None) -> str:
    """``Mar 4`` this year, ``Mar 4, 2024`` in another; ``Today``/``Yesterday``/``Tomorrow``."""
    if today is not None:
        delta = (day - today).days
        if delta in _NEAR_DAYS:
            return _NEAR_DAYS[delta]
    text = f"{day.strftime('%b')} {day.day}"
    return text if today is not None and day.year == today.year else f"{text}, {day.year}"


_NEAR_DAYS = {0: "Today", -1: "Yesterday", 1: "Tomorrow"}


def display_when(moment: datetime, tz: tzinfo | None, today: date | None = None) -> str:
    """``Today · 2:05 PM``, ``Mar 4 · 9:30 AM``, ``Mar 4, 2024 · 9:30 AM`` in the clinic's zone."""
    local = moment.astimezone(tz) if tz is not None else moment
    return f"{display_day(local.date(), today)} \u00b7 {display_time(local)}"


def display_ago(moment: datetime, now: datetime) -> str:
    """How long ago, shortly: ``just now``, ``12 min``, ``3 h``, ``2 d``, ``5 wk``, ``4 mo``, ``2 y``."""
    seconds = max((now - moment).total_seconds(), 0)
    minutes = int(seconds // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h"
    days = hours // 24
    if days < 14:
        return f"{days} d"
    if days < 61:
        return f"{days // 7} wk"
    if days < 730:
        return f"{days // 30} mo"
    return f"{days // 365} y"


def display_money(minor: int, currency: str, *, cents: bool = True) -> str:
    """``$1,250.00``; with ``cents=False`` whole amounts drop them (``$1,250``)."""
    text = Money(minor, currency).format()
    if not cents and text.endswith((".00", ",00")):
        return text[:-3]
    return text


# --- vocabulary --------------------------------------------------------------------------------

SOURCE_LABELS = {
    "instagram": "Instagram", "instagram_dm": "Instagram DM", "meta_lead_ad": "Meta lead ad",
    "facebook": "Facebook", "google": "Google", "google_ads": "Google Ads", "google_lead_form": "Google lead form",
    "web_form": "Website form", "website": "Website", "referral": "Referral", "walk_in": "Walk-in",
    "phone": "Phone call", "sms": "Text message", "import": "Imported", "manual": "Entered by staff",
}

APPOINTMENT_STATUS = {
    "booked": ("Booked", "accent"), "confirmed": ("Confirmed", "info"), "checked_in": ("Checked in", "ok"),
    "completed": ("Completed", "ok"), "cancelled": ("Cancelled", "muted"),
    "late_cancelled": ("Late cancel", "danger"), "no_show": ("No-show", "danger"),
}
DEPOSIT_STATUS = {
    "not_required": ("No deposit", "muted"), "required": ("Deposit due", "warn"), "link_sent": ("Link sent", "warn"),
    "authorised": ("Card held", "info"), "captured": ("Paid", "ok"), "applied": ("Applied", "ok"),
    "released": ("Released", "muted"), "waived": ("Waived", "muted"), "forfeited": ("Forfeited", "danger"),
    "refunded": ("Refunded", "muted"),
}
LEAD_STATUS = {
    "new": ("New", "accent"), "contacted": ("Contacted", "info"), "qualified": ("Qualified", "warn"),
    "booked": ("Booked", "ok"), "converted": ("Converted", "ok"), "lost": ("Lost", "muted"),
    "spam": ("Spam", "muted"),
}
ROLE_LABELS = {"owner": "Owner", "manager": "Manager", "provider": "Provider", "front_desk": "Front desk",
               "medical_director": "Medical director"}


def source_label(source: str | None) -> str:
    source = (source or "").strip()
    return SOURCE_LABELS.get(source, source.replace("_", " ").capitalize())


def status_label(table: dict[str, tuple[str, str]], status: str) -> str:
    return table.get(status, (status.replace("_", " ").capitalize(), "neutral"))[0]


def status_tone(table: dict[str, tuple[str, str]], status: str) -> str:
    return table.get(status, ("", "neutral"))[1]


def role_label(role: str | None) -> str:
    return ROLE_LABELS.get(role or "", (role or "").replace("_", " ").capitalize())
