"""Phone numbers in E.164, parsed in the clinic's default region (``phonenumbers``)."""

from __future__ import annotations

import phonenumbers

from core.errors import ValidationError


class InvalidPhone(ValidationError):
    code = "invalid_phone"


def normalize_phone(raw: str, region: str = "US") -> str:
    """Return ``raw`` as E.164 (``+14155550123``) or raise :class:`InvalidPhone`.

    National formats are read in ``region`` (the clinic's default); numbers written with a
    ``+`` or ``00`` prefix keep their own country.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("Enter a phone number.", field="phone")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"'{raw}' is not a phone number.", field="phone") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(
            f"'{raw}' is not a valid phone number for {region.upper()}"
            " (check the area code and the number of digits).",
            field="phone",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_normalize_phone(raw: str | None, region: str = "US") -> str | None:
    if not raw:
        return None
    try:
        return normalize_phone(raw, region)
    except InvalidPhone:
        return None


def format_phone(e164: str, region: str = "US") -> str:
    """Display form: national format inside ``region``, international elsewhere."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(parsed) == region.upper():
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_digits(e164: str) -> str:
    return "".join(ch for ch in e164 if ch.isdigit())
