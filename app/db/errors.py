"""Errors of the encrypted local store.

Each says, in a sentence a front-desk person can act on, what happened and what to do. None of
them carries patient data, so they can be logged as they are.
"""

from __future__ import annotations

from core.errors import GlowdeskError


class StoreError(GlowdeskError):
    code = "store_error"


class NoKeyError(StoreError):
    code = "no_key"

    def __init__(self, source: str) -> None:
        super().__init__(
            "This workstation has a Glowdesk database but its key is missing from "
            f"{source}. Restore the key (or the key file) from your IT backup; "
            "without it the data cannot be opened."
        )


class NoKeychainError(StoreError):
    code = "no_keychain"

    def __init__(self) -> None:
        super().__init__(
            "No secure keychain is available on this computer and GLOWDESK_KEY_FILE is not set. "
            "Ask IT to set GLOWDESK_KEY_FILE to a protected key file; Glowdesk never stores "
            "patient data unencrypted."
        )


class KeyFileUnreadableError(StoreError):
    code = "key_unreadable"

    def __init__(self, path: str) -> None:
        super().__init__(
            f"Glowdesk cannot read its key file ({path}). Ask IT to check that your account may "
            "read it; the data cannot be opened without it."
        )


class WrongKeyError(StoreError):
    code = "wrong_key"

    def __init__(self) -> None:
        super().__init__(
            "The database key does not match this Glowdesk database. Check that the key file "
            "(or keychain entry) belongs to this workstation's data folder."
        )


class CorruptStoreError(StoreError):
    code = "corrupt"

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "The Glowdesk database file is damaged or incomplete"
            + (f" ({detail})" if detail else "")
            + ". Close Glowdesk and restore the newest file from the backups folder, "
            "or re-enrol this workstation to download the clinic again."
        )


class ReadOnlyStoreError(StoreError):
    code = "read_only"

    def __init__(self, path: str) -> None:
        super().__init__(
            f"Glowdesk cannot write to its data folder ({path}). Check that the disk is not "
            "read-only and that your account may write there."
        )


class DiskFullError(StoreError):
    code = "disk_full"

    def __init__(self) -> None:
        super().__init__(
            "The disk is full, so Glowdesk could not save. Nothing was half-saved: free some "
            "space and try again."
        )


class DatabaseTooNewError(StoreError):
    code = "too_new"

    def __init__(self, found: str) -> None:
        super().__init__(
            f"This database was written by a newer version of Glowdesk (schema {found}). "
            "Install the latest Glowdesk on this workstation to open it."
        )
