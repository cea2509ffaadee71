"""Clinics, staff, devices and enrollment: the rules. Services never commit.

Every function takes the session and keyword-only arguments; ``now`` comes from the caller's
clock. Changes are audited in the same transaction (:mod:`sync_server.audit.service`).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy.orm import Session

from core.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from core.ids import new_id
from core.permissions import Role
from sync_server import security, tenancy
from sync_server.audit import service as audit
from sync_server.clinics import repository
from sync_server.clinics.models import Clinic, Device, EnrollmentCode, Staff
from sync_server.errors import DeviceRevoked, EnrollmentCodeRefused, Unauthenticated
from sync_server.events import Event

#: A clinic was created (in the transaction creating it): ``handler(session, clinic_id=...)``.
#: The sync context subscribes (the clinic's sequence starts); clinics never import sync.
CLINIC_CREATED: Event[Callable[..., None]] = Event("clinics.clinic_created")

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_CURRENCY_BY_REGION = {"US": "USD", "CA": "CAD", "GB": "GBP", "AU": "AUD", "NZ": "NZD", "IE": "EUR",
                       "FR": "EUR", "DE": "EUR", "ES": "EUR", "IT": "EUR", "NL": "EUR", "MX": "MXN"}
MAX_CODE_TTL = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """The authenticated workstation of a request."""

    id: str
    clinic_id: str
    name: str


@dataclass(frozen=True, slots=True)
class StaffIdentity:
    """The staff member acting through that workstation."""

    id: str
    clinic_id: str
    display_name: str
    role: Role


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_at: datetime
    clinic_id: str


@dataclass(frozen=True, slots=True)
class Enrollment:
    device: Device
    token: str
    clinic: Clinic
    staff: Sequence[Staff]


# --- clinics ---------------------------------------------------------------------------------


def create_clinic(
    session: Session,
    *,
    name: str,
    slug: str,
    timezone: str = "America/Los_Angeles",
    region: str = "US",
    currency: str | None = None,
    now: datetime,
    actor: audit.Actor,
) -> Clinic:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError("A clinic name is 1 to 200 characters.", field="name")
    if not _SLUG.match(slug):
        raise ValidationError(
            f"'{slug}' is not a usable slug: use lowercase letters, digits and dashes"
            " (it appears in the clinic's public web addresses).",
            field="slug",
        )
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"'{timezone}' is not a time zone; use a name such as America/New_York.", field="timezone"
        ) from None
    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"'{region}' is not a two-letter country code such as US.", field="region")
    currency = (currency or _CURRENCY_BY_REGION.get(region, "USD")).upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValidationError(f"'{currency}' is not a currency code such as USD.", field="currency")

    tenancy.present_clinic_slug(session, slug)
    if repository.clinic_by_slug(session, slug) is not None:
        raise ConflictError(f"A clinic with the slug '{slug}' already exists.")
    clinic = Clinic(
        id=new_id(), slug=slug, name=name, timezone=timezone, region=region, currency=currency,
        created_at=now,
    )
    tenancy.enter_clinic(session, clinic.id)
    repository.add(session, clinic)
    for handler in CLINIC_CREATED.handlers():
        handler(session, clinic_id=clinic.id)
    audit.append(
        session, clinic_id=clinic.id, actor=actor, action="clinic.create", entity="clinic",
        entity_id=clinic.id, detail={"slug": slug}, now=now,
    )
    return clinic


def open_clinic(session: Session, *, slug: str) -> Clinic:
    """Find a clinic by slug and make this transaction work for it (admin commands)."""
    tenancy.present_clinic_slug(session, slug)
    clinic = repository.clinic_by_slug(session, slug)
    if clinic is None:
        raise NotFoundError(f"There is no clinic with the slug '{slug}'.")
    tenancy.enter_clinic(session, clinic.id)
    return clinic


def find_clinic(session: Session, *, slug: str) -> Clinic | None:
    """The clinic with this slug, or None (the transaction may then work for it)."""
    tenancy.present_clinic_slug(session, slug)
    clinic = repository.clinic_by_slug(session, slug)
    if clinic is not None:
        tenancy.enter_clinic(session, clinic.id)
    return clinic


def get_clinic(session: Session, *, clinic_id: str) -> Clinic:
    clinic = repository.clinic_by_id(session, clinic_id)
    if clinic is None:
        raise NotFoundError("This clinic no longer exists.")
    return clinic


# --- staff -----------------------------------------------------------------------------------


def parse_role(value: str) -> Role:
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Role(key)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValidationError(f"'{value}' is not a role; choose one of {choices}.", field="role") from None


def create_staff(
    session: Session,
    *,
    clinic_id: str,
    display_name: str,
    role: Role | str,
    pin: str,
    now: datetime,
    actor: audit.Actor,
    staff_id: str | None = None,
) -> Staff:
    """A new staff member; ``staff_id`` lets a seeder give the id its sync row carries too."""
    display_name = " ".join(display_name.split())
    if not display_name or len(display_name) > 120:
        raise ValidationError("A staff name is 1 to 120 characters.", field="name")
    role = parse_role(role) if not isinstance(role, Role) else role
    pin_hash = security.hash_pin(pin)
    if repository.staff_by_name(session, clinic_id=clinic_id, display_name=display_name) is not None:
        raise ConflictError(f"This clinic already has a staff member named '{display_name}'.")
    staff = Staff(
        id=staff_id or new_id(), clinic_id=clinic_id, display_name=display_name, role=role.value,
        pin_hash=pin_hash, active=True, created_at=now, updated_at=now,
    )
    repository.add(session, staff)
    audit.append(
        session, clinic_id=clinic_id, actor=actor, action="staff.create", entity="staff",
        entity_id=staff.id, detail={"role": role.value}, now=now,
    )
    return staff


def list_staff(session: Session, *, clinic_id: str, active_only: bool = True) -> Sequence[Staff]:
    return repository.staff_list(session, clinic_id=clinic_id, active_only=active_only)


def staff_name(session: Session, *, clinic_id: str, staff_id: str) -> str | None:
    """A staff member's display name (for sentences such as "Nora Kim is already booked")."""
    staff = repository.staff_by_id(session, clinic_id=clinic_id, staff_id=staff_id)
    return staff.display_name if staff is not None else None


def acting_staff(session: Session, *, device: DeviceIdentity, staff_id: str | None) -> StaffIdentity:
    """The staff member named by the request, who must be active in the device's clinic."""
    if not staff_id:
        raise PermissionDenied(
            "Say who is acting: send the signed-in staff member's id in the X-Glowdesk-Staff header.",
            code="staff_required",
        )
    staff = repository.staff_by_id(session, clinic_id=device.clinic_id, staff_id=staff_id.strip())
    if staff is None or not staff.active:
        raise PermissionDenied(
            "The acting staff member is not an active member of this clinic; sign in again.",
            code="unknown_staff",
        )
    return StaffIdentity(
        id=staff.id, clinic_id=staff.clinic_id, display_name=staff.display_name, role=Role(staff.role)
    )


def authenticate_staff(session: Session, *, clinic_id: str, display_name: str, pin: str) -> StaffIdentity:
    """An active staff member of the clinic, by name (case and spacing ignored) and PIN: for
    commands an operator runs in a staff member's name (the data export). The message never
    says whether the name or the PIN was wrong."""
    wanted = " ".join(display_name.split()).casefold()
    found = [s for s in repository.staff_list(session, clinic_id=clinic_id, active_only=True)
             if " ".join(s.display_name.split()).casefold() == wanted]
    staff = found[0] if len(found) == 1 else None
    if staff is None or not security.verify_pin(staff.pin_hash, pin):
        raise Unauthenticated("That name and PIN do not match an active staff member of this clinic.")
    return StaffIdentity(id=staff.id, clinic_id=staff.clinic_id, display_name=staff.display_name,
                         role=Role(staff.role))


# --- enrollment ------------------------------------------------------------------------------


def issue_enrollment_code(
    session: Session,
    *,
    clinic_id: str,
    ttl: timedelta,
    secret_key: str,
    now: datetime,
    actor: audit.Actor,
) -> IssuedCode:
    """A new one-time code for enrolling a workstation; only its HMAC is stored."""
    if ttl <= timedelta(0) or ttl > MAX_CODE_TTL:
        raise ValidationError("An enrollment code lasts between 1 minute and 7 days.", field="ttl")
    code = security.new_enrollment_code()
    normalized = security.normalize_enrollment_code(code)
    assert normalized is not None
    row = EnrollmentCode(
        id=new_id(), clinic_id=clinic_id,
        code_hash=security.hash_enrollment_code(secret_key, normalized),
        created_at=now, expires_at=now + ttl,
    )
    repository.add(session, row)
    audit.append(
        session, clinic_id=clinic_id, actor=actor, action="enrollment_code.issue",
        entity="enrollment_code", entity_id=row.id,
        detail={"expires_at": row.expires_at.isoformat()}, now=now,
    )
    return IssuedCode(code=code, expires_at=row.expires_at, clinic_id=clinic_id)


_ASK_AGAIN = "Ask your administrator for a new one."


def enroll_device(
    session: Session, *, code: str, device_name: str, secret_key: str, now: datetime
) -> Enrollment:
    """Redeem a code once: a new device with a fresh token, plus what the desktop needs offline."""
    device_name = " ".join(device_name.split())
    if not device_name or len(device_name) > 120:
        raise ValidationError("Name this workstation (1 to 120 characters).", field="device_name")
    normalized = security.normalize_enrollment_code(code)
    if normalized is None:
        raise EnrollmentCodeRefused(f"This is not a valid enrollment code. {_ASK_AGAIN}")
    code_hash = security.hash_enrollment_code(secret_key, normalized)
    tenancy.present_credential(session, code_hash)
    row = repository.code_by_hash(session, code_hash)
    if row is None:
        raise EnrollmentCodeRefused(f"This enrollment code is not known to this server. {_ASK_AGAIN}")
    tenancy.enter_clinic(session, row.clinic_id)
    if row.used_at is not None:
        raise EnrollmentCodeRefused(f"This enrollment code was already used. {_ASK_AGAIN}")
    if row.expires_at <= now:
        raise EnrollmentCodeRefused(
            f"This enrollment code expired at {row.expires_at:%Y-%m-%d %H:%M} UTC. {_ASK_AGAIN}"
        )
    token = security.new_device_token()
    device = Device(
        id=new_id(), clinic_id=row.clinic_id, name=device_name,
        token_hash=security.hash_device_token(token), enrolled_at=now, revoked_at=None,
    )
    repository.add(session, device)
    if not repository.claim_code(session, clinic_id=row.clinic_id, code_id=row.id, device_id=device.id, now=now):
        raise EnrollmentCodeRefused(f"This enrollment code was already used. {_ASK_AGAIN}")
    audit.append(
        session, clinic_id=row.clinic_id, actor=audit.Actor(device_id=device.id), action="device.enroll",
        entity="device", entity_id=device.id, detail={"enrollment_code_id": row.id}, now=now,
    )
    clinic = get_clinic(session, clinic_id=row.clinic_id)
    return Enrollment(device=device, token=token, clinic=clinic, staff=list_staff(session, clinic_id=clinic.id))


# --- devices ---------------------------------------------------------------------------------


def authenticate_device(session: Session, *, token: str | None) -> DeviceIdentity:
    """The device holding ``token``; from here on the transaction works for its clinic."""
    if not token:
        raise Unauthenticated(
            "This request has no workstation credential (Authorization: Bearer <device token>)."
            " Enrol this workstation first."
        )
    token_hash = security.hash_device_token(token)
    tenancy.present_credential(session, token_hash)
    device = repository.device_by_token_hash(session, token_hash)
    if device is None:
        raise Unauthenticated(
            "This workstation's credential is not recognised by this server. Enrol it again"
            " with a new enrollment code."
        )
    if device.revoked_at is not None:
        raise DeviceRevoked(
            "This workstation's access was revoked. Ask an administrator for a new enrollment"
            " code to enrol it again."
        )
    tenancy.enter_clinic(session, device.clinic_id)
    return DeviceIdentity(id=device.id, clinic_id=device.clinic_id, name=device.name)


def list_devices(session: Session, *, clinic_id: str) -> Sequence[Device]:
    return repository.device_list(session, clinic_id=clinic_id)


def get_device(session: Session, *, clinic_id: str, device_id: str) -> Device:
    device = repository.device_by_id(session, clinic_id=clinic_id, device_id=device_id)
    if device is None:
        raise NotFoundError("There is no such workstation in this clinic.")
    return device


def revoke_device(
    session: Session, *, clinic_id: str, device_id: str, now: datetime, actor: audit.Actor
) -> Device:
    """Revoke a device; its next request is refused. Revoking twice changes nothing."""
    device = get_device(session, clinic_id=clinic_id, device_id=device_id)
    if device.revoked_at is None:
        device.revoked_at = now
        audit.append(
            session, clinic_id=clinic_id, actor=actor, action="device.revoke", entity="device",
            entity_id=device.id, now=now,
        )
    return device
