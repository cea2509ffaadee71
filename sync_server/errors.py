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
