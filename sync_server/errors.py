"""Server-side error conditions and their translation to HTTP at the edge.

Services raise :class:`core.errors.GlowdeskError` subclasses that name the condition and carry
their status; only the HTTP edge (:func:`sync_server.app.install_error_handlers`) turns them
into responses. This module imports no web framework, so commands stay quick to start.
"""

from __future__ import annotations

from core.errors import GlowdeskError


class Unauthenticated(GlowdeskError):
    """No credential, an unknown one, or one that no longer works (revoked, expired, used)."""

    code = "unauthenticated"
    status = 401


class DeviceRevoked(Unauthenticated):
    code = "device_revoked"


class EnrollmentCodeRefused(Unauthenticated):
    code = "enrollment_code_refused"


class Refused(Exception):
    """The server will not take a pushed change; ``reason`` is the sentence for the front desk.

    Raised by a decider (:mod:`sync_server.sync.decisions`) before it writes anything: the
    mutation is then ``rejected`` with the sentence and nothing of it is stored. It lives here so
    that a context below sync (clinics) can refuse without importing sync.
    """

    def __init__(self, reason: str, code: str = "refused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
