"""Turning a failed operation into words for the user and a log line without patient data."""

from __future__ import annotations

import logging
import traceback

from core.errors import GlowdeskError

log = logging.getLogger(__name__)

GENERIC_MESSAGE = (
    "Something went wrong and Glowdesk could not finish that. Try again; if it keeps happening, "
    "tell your IT contact (the details are in Glowdesk's log file)."
)


def user_message(exc: BaseException) -> str:
    """What to show: a Glowdesk error's own sentence, otherwise a generic one."""
    if isinstance(exc, GlowdeskError):
        return exc.user_message
    return GENERIC_MESSAGE


def log_failure(label: str, exc: BaseException) -> None:
    """Log a failure without patient data.

    A Glowdesk error is logged by its class and code only (its sentence may quote what the user
    typed). Anything else is logged with its type and the stack's code lines, never the
    exception's message, source text or any values, which may hold names or phone numbers.
    """
    if isinstance(exc, GlowdeskError):
        log.warning("%s failed: %s (%s)", label or "operation", type(exc).__name__, exc.code)
        return
    log.error("%s failed with %s at %s", label or "operation", type(exc).__name__, where(exc))


def where(exc: BaseException) -> str:
    """The stack as ``module.py:123 in function`` frames, innermost last; nothing else."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    return " < ".join(
        f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} in {frame.name}" for frame in reversed(frames)
    ) or "(no stack)"
