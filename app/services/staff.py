"""Staff PINs and signing in to a shared workstation.

PINs are 4 to 6 digits, stored only as argon2id hashes. The cost is modest on purpose: a PIN is
checked on every quick user switch on a shared front-desk machine, and the short PIN space is
protected by the encrypted store, not by the hash cost (a 6-digit PIN falls to any hash once the
file is open). PINs are never logged; log lines name only the staff id.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.db.store import Store
from app.repositories import clinic as clinic_repo
from app.repositories import settings
from app.repositories.context import Actor
from app.repositories.uow import system_actor, unit_of_work
from core.errors import GlowdeskError, ValidationError

log = logging.getLogger(__name__)

#: argon2id, 2 passes over 19 MiB, one lane (OWASP's minimum profile): ~20 ms per check here.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_PIN = re.compile(r"^[0-9]{4,6}$")


class SignInError(GlowdeskError):
    """A sign-in that did not succeed. The message never says whether the name or the PIN was
    wrong, so the sign-in screen does not help someone guess who works here."""

    code = "sign_in_failed"
    status = 401

    def __init__(self, user_message: str | None = None) -> None:
        super().__init__(
            user_message
            or "That name and PIN do not match. Try again, or ask a manager to reset your PIN."
        )


def check_pin_format(pin: str) -> str:
    """Return ``pin`` if it is 4 to 6 digits, else raise :class:`ValidationError`."""
    if not isinstance(pin, str) or not _PIN.match(pin):
        raise ValidationError("A PIN is 4 to 6 digits.", field="pin")
    return pin


def hash_pin(pin: str) -> str:
    """An argon2id hash of a valid PIN (salted: hashing one PIN twice gives two hashes)."""
    return HASHER.hash(check_pin_format(pin))


def verify_pin(pin_hash: str | None, pin: str) -> bool:
    """Whether ``pin`` matches ``pin_hash``; False for a missing or unreadable hash."""
    if not pin_hash or not isinstance(pin, str):
        return False
    try:
        return HASHER.verify(pin_hash, pin)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash("000000")


def sign_in(store: Store, *, pin: str, staff_id: str | None = None, name: str | None = None) -> Actor:
    """Check a staff member's PIN and return the :class:`Actor` that later operations act as.

    The staff member is found by ``staff_id`` or by display name (case and spacing ignored) among
    the staff of this workstation's clinic.
    Raises :class:`SignInError` for an unknown or inactive member, an ambiguous name or a wrong
    PIN. A hash made with older cost settings is upgraded in place on success.
    """
    if (staff_id is None) == (name is None):
        raise ValueError("sign in by staff_id or by name, not both")
    with unit_of_work(store, system_actor(store)) as ctx:
        if staff_id is not None:
            found = clinic_repo.get_staff(ctx, staff_id)
            candidates = [found] if found is not None and found.active else []
        else:
            # the clinic this workstation serves; a demo home may hold more than one clinic
            clinic_id = settings.get(ctx, settings.CLINIC_ID)
            candidates = clinic_repo.staff_by_name(ctx, name or "", clinic_id=clinic_id)
        if len(candidates) > 1:
            raise SignInError(
                "More than one staff member has that name. Sign in by choosing your name from the list."
            )
        staff = candidates[0] if candidates else None
        if staff is None:
            verify_pin(_dummy_hash(), pin)  # same work as a real check: no timing hint
        if staff is None or not verify_pin(staff.pin_hash, pin):
            log.info("sign-in refused%s", f" for staff {staff.id}" if staff is not None else "")
            raise SignInError()
        # No re-hash here: a PIN hash made by the server (with its own argon2 settings) is the
        # clinic's record; re-hashing would queue a staff change no workstation may make.
        log.info("staff %s signed in", staff.id)
        return Actor(staff_id=staff.id, device_id=store.device_id, role=staff.role, name=staff.display_name)


@dataclass(frozen=True)
class SignInChoice:
    """A staff member as the sign-in screen lists them (no PIN, no hash)."""

    staff_id: str
    name: str
    role: str
    title: str | None
    color: str | None
    has_pin: bool


def sign_in_choices(store: Store, *, clinic_id: str) -> list[SignInChoice]:
    """The active staff of ``clinic_id``, by name, for the sign-in screen's list."""
    with unit_of_work(store, system_actor(store)) as ctx:
        return [SignInChoice(s.id, s.display_name, s.role, s.title, s.color, bool(s.pin_hash))
                for s in clinic_repo.list_staff(ctx, clinic_id)]
