"""Desktop sync: enrolment, the sync engine, the background runner (no Qt here).

- :func:`enroll` — redeem an enrollment code, keep the credential in the encrypted store, sync;
- :class:`SyncEngine` — hello / push / pull against the clinic server (``sync_once``);
- :class:`SyncRunner` — the background loop with live channel, backoff and a state callback;
- :class:`SyncState` / :func:`load_state` — what the status bar and ``status`` show.
"""

from app.sync.engine import SyncEngine, SyncSummary, remember_staff
from app.sync.enroll import EnrollResult, enroll
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
from app.sync.runner import SyncRunner
from app.sync.state import SyncState, load_state

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
