"""What can go wrong talking to the clinic server, named by what the workstation should do next.

- :class:`SyncUnavailable` (server unreachable, network dropped, a 5xx, an unreadable answer):
  nothing was lost; retry later with backoff. ``offline`` says whether the server could not be
  reached at all (the workstation is offline) rather than answering badly.
- :class:`SyncStopped` (revoked or unknown credential, protocol mismatch): retrying cannot help;
  the runner stops and shows ``user_message`` until someone acts (re-enrol, update Glowdesk).
- :class:`SyncRefused` (a 4xx about this request: a staff member the server does not accept, a
  body it could not read): retried later, shown as the last error.
- :class:`SyncCancelled`: someone asked the sync to stop (closing the app, Cancel); raised only
  between requests, so whatever was applied stays applied.
- :class:`EnrollmentError`: enrolling did not work (bad, expired or used code, a home already
  enrolled); nothing was stored.
"""

from __future__ import annotations

from core.errors import GlowdeskError

REVOKED_MESSAGE = (
    "This workstation's access was revoked. Ask an administrator for a new enrollment code to "
    "enrol it again."
)


class SyncError(GlowdeskError):
    code = "sync"


class SyncUnavailable(SyncError):
    code = "sync_unavailable"
    status = 503

    def __init__(self, user_message: str, *, offline: bool = False, code: str | None = None) -> None:
        super().__init__(user_message, code=code)
        self.offline = offline


class SyncRefused(SyncError):
    code = "sync_refused"

    def __init__(self, user_message: str, *, status: int = 400, code: str | None = None,
                 field: str | None = None) -> None:
        super().__init__(user_message, code=code)
        self.status = status
        #: what the server found wrong (a 422 naming a field, such as ``claim_minutes``)
        self.field = field


class SyncStopped(SyncError):
    """Syncing cannot continue until a person acts; ``user_message`` says what to do."""

    code = "sync_stopped"


class SyncCancelled(SyncError):
    """Syncing was asked to stop (the app is closing, Cancel on the first download). Raised
    between two requests only: what was applied so far stays, the rest follows next time."""

    code = "sync_cancelled"

    def __init__(self) -> None:
        super().__init__(
            "Syncing was stopped before it finished. Nothing is lost: it carries on from where "
            "it stopped the next time."
        )


class DeviceRevokedError(SyncStopped):
    code = "device_revoked"
    status = 401

    def __init__(self, user_message: str = REVOKED_MESSAGE) -> None:
        super().__init__(user_message)


class CredentialRefused(SyncStopped):
    code = "unauthenticated"
    status = 401


class NotEnrolledError(SyncStopped):
    code = "not_enrolled"

    def __init__(self) -> None:
        super().__init__(
            "This workstation is not enrolled with a clinic server yet. Enrol it with a code "
            "from your clinic's administrator: python -m app enroll SERVER_URL CODE."
        )


class EnrollmentError(GlowdeskError):
    code = "enrollment_failed"
