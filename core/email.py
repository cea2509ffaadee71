"""Email normalisation: one canonical form per mailbox, for matching people."""

from __future__ import annotations

import re
import unicodedata

from core.errors import ValidationError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
#: Providers that ignore dots in the local part and treat ``+tag`` as the same mailbox.
_GMAIL = {"gmail.com", "googlemail.com"}


class InvalidEmail(ValidationError):
    code = "invalid_email"


def normalize_email(raw: str) -> str:
    """Trim, NFC-normalise and lowercase; raise :class:`InvalidEmail` when it cannot be an address.

    The stored address keeps ``+tags`` and dots (the patient typed them); :func:`email_match_key`
    is the looser key used to find the same person.
    """
    text = unicodedata.normalize("NFC", (raw or "").strip())
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not text:
        raise InvalidEmail("Enter an email address.", field="email")
    if not _EMAIL.match(text) or ".." in text:
        raise InvalidEmail(f"'{raw}' is not an email address.", field="email")
    local, _, domain = text.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidEmail(f"'{raw}' has an invalid domain.", field="email") from None
    return f"{local.lower()}@{domain.lower()}"


def try_normalize_email(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return normalize_email(raw)
    except InvalidEmail:
        return None


def email_match_key(email: str) -> str:
    """A key under which two spellings of the same mailbox collide (used for de-duplication)."""
    local, _, domain = normalize_email(email).rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"
