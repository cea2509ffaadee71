"""Credentials: device tokens, enrollment codes and staff PIN hashes.

- A device token is 256 random bits (``gdd_`` + URL-safe base64). The server stores only its
  SHA-256; a guessable preimage does not exist, so no slow hash or key is needed.
- An enrollment code is 80 random bits written as four groups of Crockford base32
  (``7KQ2-M9XD-4RTA-WC8F``), short enough to type. Being short, it is stored as
  HMAC-SHA256 keyed by the server's secret key, so a copy of the database alone does not
  allow an offline search; it is also one-time and expires.
- A PIN is hashed with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile); the
  encoded hash carries its parameters, so the desktop verifies it offline with any argon2
  implementation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import ValidationError

DEVICE_TOKEN_PREFIX = "gdd_"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_GROUPS = 4
_GROUP_LEN = 4
_CODE_LEN = _CODE_GROUPS * _GROUP_LEN


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_device_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_enrollment_code() -> str:
    raw = "".join(secrets.choice(_CROCKFORD) for _ in range(_CODE_LEN))
    return "-".join(raw[i : i + _GROUP_LEN] for i in range(0, _CODE_LEN, _GROUP_LEN))


def normalize_enrollment_code(code: str) -> str | None:
    """The canonical form of a typed code, or ``None`` when it cannot be one of ours.

    Case, spaces and dashes don't matter; the letters people confuse with digits (O, I, L)
    are read as the digits, as Crockford base32 intends.
    """
    text = "".join(ch for ch in code.upper() if ch not in " -\t")
    text = text.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(text) != _CODE_LEN or any(ch not in _CROCKFORD for ch in text):
        return None
    return text


def hash_enrollment_code(secret_key: str, normalized_code: str) -> str:
    return hmac.new(
        secret_key.encode("utf-8"), b"enrollment-code:" + normalized_code.encode("ascii"), hashlib.sha256
    ).hexdigest()


def hash_pin(pin: str) -> str:
    """argon2id hash of a staff PIN (4 to 12 digits)."""
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise ValidationError("A PIN is 4 to 12 digits.", field="pin")
    return PasswordHasher().hash(pin)


def verify_pin(pin_hash: str | None, pin: str) -> bool:
    """Whether ``pin`` matches a staff member's argon2 hash (False for a missing or bad hash)."""
    if not pin_hash or not isinstance(pin, str):
        return False
    try:
        return PasswordHasher().verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False
