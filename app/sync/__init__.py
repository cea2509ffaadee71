"""Desktop sync: enrolment, the sync engine, the background runner (no Qt here).

- :func:`enroll` — redeem an enrollment code, keep the credential in the encrypted store, sync;
- :class:`SyncEngine` — hello / push / pull against the clinic server (``sync_once``);
- :class:`SyncRunner` — the background loop with live channel, backoff and a state callback;
- :class:`SyncState` / :func:`load_state` — what the status bar and ``status`` show.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from app.sync.errors import (
    CredentialRefused,
    DeviceRevokedError,
    EnrollmentError,
    NotEnrolledError,
    SyncError,
    SyncRefused,
    SyncStopped,
    SyncUnavailable,
)
from app.sync.state import SyncState, load_state

if TYPE_CHECKING:
    from app.sync.engine import SyncEngine, SyncSummary, remember_staff
    from app.sync.enrolment import EnrollResult, enroll
    from app.sync.runner import SyncRunner

#: loaded on first use: the engine brings httpx and the wire format (pydantic), a third of the
#: app's start-up, which the sign-in screen of a workstation that is not syncing yet never needs
_LAZY = {"SyncEngine": "app.sync.engine", "SyncSummary": "app.sync.engine", "remember_staff": "app.sync.engine",
         "EnrollResult": "app.sync.enrolment", "enroll": "app.sync.enrolment", "SyncRunner": "app.sync.runner"}


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


__all__ = [
    "CredentialRefused",
    "DeviceRevokedError",
    "EnrollResult",
    "EnrollmentError",
    "NotEnrolledError",
    "SyncEngine",
    "SyncError",
    "SyncRefused",
    "SyncRunner",
    "SyncState",
    "SyncStopped",
    "SyncSummary",
    "SyncUnavailable",
    "enroll",
    "load_state",
    "remember_staff",
]
