"""How people, phones and dates read on screen (pure functions, shared by models and views)."""

from __future__ import annotations

from datetime import date

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
