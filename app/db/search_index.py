"""What goes into the patient search index (FTS5), and how a typed query becomes an FTS query.

Phones are indexed as every suffix of their digits of length 4 or more, so that a prefix query
finds any run of 4+ consecutive digits ("0123", "5550123", "4155550123").
"""

from __future__ import annotations

import re

MIN_DIGITS = 4
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_PHONEISH = re.compile(r"^[\d\s().+\-/]+$")


def phone_tokens(phone: str | None) -> str:
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return " ".join(digits[i:] for i in range(0, len(digits) - MIN_DIGITS + 1))


def index_row(
    *,
    first_name: str,
    last_name: str,
    preferred_name: str | None,
    phone: str | None,
    email: str | None,
    instagram_handle: str | None,
) -> dict[str, str]:
    return {
        "names": " ".join(p for p in (first_name, last_name, preferred_name) if p),
        "phones": phone_tokens(phone),
        "emails": email or "",
        "handles": (instagram_handle or "").lstrip("@"),
    }


def fts_query(text: str) -> str | None:
    """Turn what the user typed into an FTS5 MATCH expression, or None if nothing searchable.

    Phone-like input ("(415) 555-01", "+1 415") is joined into one digit run; other input is split
    into words, each matched as a prefix, all required.
    """
    text = text.strip()
    if not text:
        return None
    if _PHONEISH.match(text):
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) < MIN_DIGITS:
            return None
        return f'phones : "{digits}"*'
    terms: list[str] = []
    for word in _WORD.findall(text):
        if word.isdigit() and len(word) < MIN_DIGITS:
            continue
        terms.append(f'"{word}"*')
    if not terms:
        return None
    return " AND ".join(terms)
