"""The error base class shared by every Glowdesk package.

Errors name their condition. Each carries a sentence a front-desk person can act on
(``user_message``) and a short machine code; neither may contain patient data, so both are safe
to log.
"""

from __future__ import annotations


class GlowdeskError(Exception):
    """Base of every error Glowdesk raises on purpose."""

    code: str = "error"
    #: HTTP status used when the error crosses the server edge.
    status: int = 400

    def __init__(self, user_message: str, *, code: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.user_message


class ValidationError(GlowdeskError):
    """Input that cannot be accepted as given (a bad phone number, an unknown currency...)."""

    code = "invalid"
    status = 422

    def __init__(self, user_message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(user_message, code=code)
        self.field = field


class NotFoundError(GlowdeskError):
    code = "not_found"
    status = 404


class PermissionDenied(GlowdeskError):
    code = "forbidden"
    status = 403


class ConflictError(GlowdeskError):
    """A change that collides with existing state (double booking, duplicate record...)."""

    code = "conflict"
    status = 409
