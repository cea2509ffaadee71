"""Server-side error conditions and their translation to HTTP at the edge.

Services raise :class:`core.errors.GlowdeskError` subclasses that name the condition and carry
their status; only :func:`install_error_handlers` turns them into responses, as
``{"detail": <sentence for the user>, "code": <machine code>}``. Neither part contains
patient data.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core.errors import GlowdeskError

log = logging.getLogger(__name__)


class Unauthenticated(GlowdeskError):
    """No credential, an unknown one, or one that no longer works (revoked, expired, used)."""

    code = "unauthenticated"
    status = 401


class DeviceRevoked(Unauthenticated):
    code = "device_revoked"


class EnrollmentCodeRefused(Unauthenticated):
    code = "enrollment_code_refused"


def error_body(exc: GlowdeskError) -> dict[str, str]:
    return {"detail": exc.user_message, "code": exc.code}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GlowdeskError)
    async def _glowdesk_error(request: Request, exc: GlowdeskError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status >= 500:
            log.error("%s on %s %s: %s", exc.code, request.method, request.url.path, exc.code)
        return JSONResponse(error_body(exc), status_code=exc.status, headers=headers)
