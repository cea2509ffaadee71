"""Sealing integration secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key derived
from ``GLOWDESK_SECRET_KEY`` with HKDF-SHA256. Changing the secret key makes sealed secrets
unreadable (the operator sets them again); nothing here ever logs or returns them in errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import GlowdeskError

_INFO = b"glowdesk integration secrets v1"


class SecretsUnreadable(GlowdeskError):
    code = "integration_secrets_unreadable"
    status = 500


def _fernet(secret_key: str, info: bytes = _INFO) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"glowdesk", info=info).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str, secrets: dict[str, str]) -> str:
    return _fernet(secret_key).encrypt(json.dumps(secrets, sort_keys=True).encode("utf-8")).decode("ascii")


def unseal(secret_key: str, token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        data: dict[str, Any] = json.loads(_fernet(secret_key).decrypt(token.encode("ascii")))
    except InvalidToken:
        raise SecretsUnreadable(
            "The clinic's integration secrets cannot be read with this server's GLOWDESK_SECRET_KEY (was it "
            "changed?). Set them again with `python -m sync_server integrations set`."
        ) from None
    return data


def seal_bytes(secret_key: str, data: bytes) -> bytes:
    """Files at rest (MMS media): the same scheme under a separate derived key."""
    return _fernet(secret_key, b"glowdesk stored files v1").encrypt(data)


def unseal_bytes(secret_key: str, token: bytes) -> bytes:
    return _fernet(secret_key, b"glowdesk stored files v1").decrypt(token)


def lookup_hash(secret_key: str, value: str) -> str:
    """A keyed hash to find a row by a secret value (the Meta verify token) without storing it."""
    return hmac.new(secret_key.encode("utf-8"), b"route:" + value.encode("utf-8"), hashlib.sha256).hexdigest()
