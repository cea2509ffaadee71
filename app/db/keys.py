"""Where the database key lives: the OS keychain, or an explicit key file (GLOWDESK_KEY_FILE).

The key is 32 random bytes, handed to SQLCipher as a raw key (no key derivation at open).
There is never a plaintext fallback: with no keychain and no key file the store refuses to open.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.errors

from app.db.errors import (
    KeyFileUnreadableError,
    NoKeychainError,
    NoKeyError,
    ReadOnlyStoreError,
    StoreError,
)

log = logging.getLogger(__name__)

KEYRING_SERVICE = "Glowdesk"
KEY_FILE_ENV = "GLOWDESK_KEY_FILE"
KEY_BYTES = 32


@dataclass(frozen=True)
class DatabaseKey:
    raw: bytes
    source: str  # "keychain" or "key file <path>", for messages (never the key itself)

    @property
    def hex(self) -> str:
        return self.raw.hex()

    def check_value(self) -> str:
        """A value that tells whether a key is the right one without revealing it."""
        return hmac.new(self.raw, b"glowdesk key check v1", hashlib.sha256).hexdigest()[:32]


def _keyring_user(home: Path) -> str:
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:16]
    return f"database-key:{digest}"


def _parse(text: str, where: str) -> bytes:
    value = text.strip()
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != KEY_BYTES:
        raise StoreError(
            f"The key in {where} is not a Glowdesk key (expected {KEY_BYTES * 2} hex characters)."
        )
    return raw


def _from_file(path: Path, *, create: bool) -> DatabaseKey:
    where = f"the key file {path}"
    if path.exists():
        try:
            text = path.read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            log.error("cannot read the database key file: %s", type(exc).__name__)
            raise KeyFileUnreadableError(str(path)) from None
        return DatabaseKey(_parse(text, where), where)
    if not create:
        raise NoKeyError(where)
    raw = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(raw.hex() + "\n")
    except PermissionError:
        raise ReadOnlyStoreError(str(path.parent)) from None
    log.info("created a new database key file")
    return DatabaseKey(raw, where)


def _from_keyring(home: Path, *, create: bool) -> DatabaseKey:
    user = _keyring_user(home)
    try:
        stored = keyring.get_password(KEYRING_SERVICE, user)
    except keyring.errors.NoKeyringError:
        raise NoKeychainError() from None
    except keyring.errors.KeyringError as exc:
        log.warning("keychain unavailable: %s", type(exc).__name__)
        raise NoKeychainError() from None
    backend = keyring.get_keyring()
    # keyrings.alt's plaintext backends would silently store the key in clear: refuse them.
    if type(backend).__module__.startswith("keyrings.alt") or getattr(backend, "priority", 1) <= 0:
        raise NoKeychainError()
    where = "the system keychain"
    if stored is not None:
        return DatabaseKey(_parse(stored, where), where)
    if not create:
        raise NoKeyError(where)
    raw = secrets.token_bytes(KEY_BYTES)
    try:
        keyring.set_password(KEYRING_SERVICE, user, raw.hex())
    except keyring.errors.KeyringError:
        raise NoKeychainError() from None
    log.info("stored a new database key in the keychain")
    return DatabaseKey(raw, where)


def load_key(home: Path, *, create: bool) -> DatabaseKey:
    """Return this home's database key; make one only when ``create`` (a brand-new database)."""
    key_file = os.environ.get(KEY_FILE_ENV)
    if key_file:
        return _from_file(Path(key_file).expanduser(), create=create)
    return _from_keyring(home, create=create)


def forget_keyring_key(home: Path) -> None:
    """Remove this home's key from the keychain (used when a store is deleted)."""
    try:
        keyring.delete_password(KEYRING_SERVICE, _keyring_user(home))
    except keyring.errors.KeyringError:
        pass
