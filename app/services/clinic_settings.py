"""What the desk configures: the service menu, rooms, devices, staff, and the idle-lock time.

The idle-lock time is this workstation's (a reception PC and an injector's laptop may differ):
kept in the encrypted store's local settings, audited, never synced. A lock time the clinic
server sets in the clinic's settings is the default for workstations that have not chosen one
(clinic details are server-owned: a workstation cannot change them).

Owners and managers only (``settings.manage``; staff need ``staff.manage``). Nothing is ever
deleted: a service, room, device or staff member is made inactive, so old appointments keep
their names. Every write goes through the repositories' row helpers (bookkeeping and outbox
entry in the same transaction); staff changes are also audited (field names only, never a PIN).

Input comes as the form typed it (text for amounts and numbers); bad input raises
:class:`app.services.patients.FieldErrors` naming every bad field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.db.models import Clinic, Device, Room, Service, Staff, Syncable
from app.db.store import Store
from app.repositories import audit, rows
from app.repositories import clinic as clinic_repo
from app.repositories import settings as local_settings
from app.repositories.context import Actor, Ctx
from app.repositories.uow import unit_of_work
from app.services.patients import FieldErrors
from app.services.staff import check_pin_format, hash_pin
from core.email import normalize_email
from core.errors import NotFoundError, PermissionDenied, ValidationError
from core.money import Money
from core.permissions import Permission, Role, require
from core.phone import normalize_phone
from core.routing import RoutingSettingsError, hours_from_text, hours_to_text

SERVICE_CATEGORIES = ("consultations", "neuromodulators", "fillers", "lasers", "body", "skin", "wellness")
PRICE_UNITS = ("session", "unit", "syringe", "vial", "area", "cycle", "month")
ROOM_KINDS = ("treatment", "consult", "laser", "body", "skin", "wellness")
CLINICAL_ROLES = (Role.PROVIDER.value, Role.MEDICAL_DIRECTOR.value)
IDLE_LOCK_KEY = "idle_lock_minutes"
IDLE_LOCK_DEFAULT = 5
IDLE_LOCK_RANGE = (1, 60)
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_KIND = re.compile(r"^[a-z0-9_]{2,60}$")

R = TypeVar("R", bound=Syncable)


@dataclass(frozen=True)
class ServiceItem:
    id: str
    name: str
    category: str
    duration_min: int
    buffer_before_min: int
    buffer_after_min: int
    price_minor: int
    price_unit: str
    currency: str
    deposit_minor: int
    requires_room: bool
    device_kind: str | None
    qualified_roles: tuple[str, ...]
    description: str | None
    active: bool


@dataclass(frozen=True)
class RoomItem:
    id: str
    name: str
    kind: str
    location_id: str
    location: str
    active: bool


@dataclass(frozen=True)
class DeviceItem:
    id: str
    name: str
    kind: str
    model: str | None
    location_id: str
    location: str
    active: bool


@dataclass(frozen=True)
class StaffItem:
    id: str
    display_name: str
    role: str
    title: str | None
    email: str | None
    phone: str | None
    color: str | None
    active: bool
    has_pin: bool
    #: the weekly rota as people type it ("Mon-Fri 09:00-17:00"); "" follows the opening hours
    working_hours: str = ""


@dataclass(frozen=True)
class LocationItem:
    id: str
    name: str


@dataclass(frozen=True)
class ClinicSettings:
    currency: str
    services: list[ServiceItem]
    rooms: list[RoomItem]
    devices: list[DeviceItem]
    staff: list[StaffItem]
    locations: list[LocationItem]
    idle_lock_minutes: int


def kind_label(kind: str | None) -> str:
    """``alexandrite_ndyag_laser`` -> ``Alexandrite ndyag laser``."""
    return (kind or "").replace("_", " ").strip().capitalize()


class ClinicSettingsService:
    def __init__(self, store: Store, *, clinic_id: str) -> None:
        self.store = store
        self.clinic_id = clinic_id

    # --- reading ------------------------------------------------------------------------------

    def snapshot(self, *, actor: Actor) -> ClinicSettings:
        _require_any(actor, Permission.SETTINGS_MANAGE, Permission.STAFF_MANAGE)
        with unit_of_work(self.store, actor) as ctx:
            clinic = self._clinic(ctx)
            locations = {loc.id: loc.name for loc in clinic_repo.list_locations(ctx, self.clinic_id)}
            cid = self.clinic_id
            return ClinicSettings(
                currency=clinic.currency,
                services=[_service_item(s) for s in clinic_repo.list_services(ctx, cid, active_only=False)],
                rooms=[RoomItem(r.id, r.name, r.kind, r.location_id, locations.get(r.location_id, ""), r.active)
                       for r in clinic_repo.list_rooms(ctx, cid, active_only=False)],
                devices=[DeviceItem(d.id, d.name, d.kind, d.model, d.location_id,
                                    locations.get(d.location_id, ""), d.active)
                         for d in clinic_repo.list_devices(ctx, cid, active_only=False)],
                staff=[StaffItem(s.id, s.display_name, s.role, s.title, s.email, s.phone, s.color, s.active,
                                 bool(s.pin_hash), _hours_text(s.working_hours))
                       for s in clinic_repo.list_staff(ctx, cid, active_only=False)],
                locations=[LocationItem(i, n) for i, n in sorted(locations.items(), key=lambda kv: kv[1])],
                idle_lock_minutes=_idle_minutes(ctx, clinic),
            )

    def idle_lock_minutes(self, *, actor: Actor) -> int:
        """How long a workstation may sit idle before it locks (any signed-in staff may read it)."""
        with unit_of_work(self.store, actor) as ctx:
            return _idle_minutes(ctx, self._clinic(ctx))

    # --- writing ------------------------------------------------------------------------------

    def set_idle_lock_minutes(self, *, actor: Actor, minutes: int | str) -> int:
        _require(actor, Permission.SETTINGS_MANAGE)
        low, high = IDLE_LOCK_RANGE
        value = _int(str(minutes), "idle_lock_minutes", {}, low, high)
        if value is None:
            raise FieldErrors(errors={"idle_lock_minutes": f"Enter a number of minutes from {low} to {high}."})
        with unit_of_work(self.store, actor) as ctx:
            before = _idle_minutes(ctx, self._clinic(ctx))
            local_settings.put(ctx, IDLE_LOCK_KEY, value)
            audit.append(ctx, "update", "workstation_setting", None,
                         {"setting": IDLE_LOCK_KEY, "from": before, "to": value})
        return value

    def save_service(self, *, actor: Actor, service_id: str | None, data: dict[str, Any]) -> str:
        _require(actor, Permission.SETTINGS_MANAGE)
        with unit_of_work(self.store, actor) as ctx:
            currency = self._clinic(ctx).currency
            fields = _service_fields(data, currency)
            return self._save(ctx, Service, service_id, fields, clinic_repo.get_service,
                              clinic_repo.create_service)

    def save_room(self, *, actor: Actor, room_id: str | None, data: dict[str, Any]) -> str:
        _require(actor, Permission.SETTINGS_MANAGE)
        with unit_of_work(self.store, actor) as ctx:
            errors: dict[str, str] = {}
            fields = {"name": _name(data, "name", errors, 120), "kind": _choice(data, "kind", ROOM_KINDS, errors),
                      "location_id": self._location(ctx, data, errors), "active": bool(data.get("active", True))}
            _raise(errors)
            return self._save(ctx, Room, room_id, fields, clinic_repo.get_room, clinic_repo.create_room)

    def save_device(self, *, actor: Actor, device_id: str | None, data: dict[str, Any]) -> str:
        _require(actor, Permission.SETTINGS_MANAGE)
        with unit_of_work(self.store, actor) as ctx:
            errors: dict[str, str] = {}
            fields = {"name": _name(data, "name", errors, 120), "kind": _kind(data, errors),
                      "model": _text(data.get("model"), 120), "location_id": self._location(ctx, data, errors),
                      "active": bool(data.get("active", True))}
            _raise(errors)
            return self._save(ctx, Device, device_id, fields, clinic_repo.get_device, clinic_repo.create_device)

    def save_staff(self, *, actor: Actor, staff_id: str | None, data: dict[str, Any]) -> str:
        """Create or edit a staff member; ``data["pin"]``, when given, sets a new PIN."""
        _require(actor, Permission.STAFF_MANAGE)
        with unit_of_work(self.store, actor) as ctx:
            existing = clinic_repo.get_staff(ctx, staff_id) if staff_id else None
            if staff_id and existing is None:
                raise NotFoundError("That staff member no longer exists.")
            fields = self._staff_fields(ctx, actor, existing, data, self._clinic(ctx).region)
            if existing is None:
                new = Staff(clinic_id=self.clinic_id, **fields)
                clinic_repo.create_staff(ctx, new)
                audit.append(ctx, "staff.create", "staff", new.id, {"role": new.role})
                return new.id
            diff = rows.update(ctx, existing, fields)
            if diff:
                detail: dict[str, Any] = {"fields": sorted(k if k != "pin_hash" else "pin" for k in diff)}
                if "role" in diff:
                    detail["role"] = {"old": diff["role"][0], "new": diff["role"][1]}
                audit.append(ctx, "staff.update", "staff", existing.id, detail)
            return existing.id

    # --- helpers ------------------------------------------------------------------------------

    def _clinic(self, ctx: Ctx) -> Clinic:
        clinic = clinic_repo.get_clinic(ctx, self.clinic_id)
        if clinic is None:
            raise NotFoundError("This workstation's clinic is missing.")
        return clinic

    def _location(self, ctx: Ctx, data: dict[str, Any], errors: dict[str, str]) -> str:
        location_id = str(data.get("location_id") or "")
        location = clinic_repo.get_location(ctx, location_id) if location_id else None
        if location is None or location.clinic_id != self.clinic_id:
            errors["location_id"] = "Choose the location."
            return ""
        return location_id

    def _save(self, ctx: Ctx, model: Callable[..., R], row_id: str | None, fields: dict[str, Any],
              get: Callable[[Ctx, str], R | None], create: Callable[[Ctx, R], R]) -> str:
        if row_id is None:
            row = create(ctx, model(clinic_id=self.clinic_id, **fields))
            return row.id
        found = get(ctx, row_id)
        if found is None or getattr(found, "clinic_id", None) != self.clinic_id:
            raise NotFoundError("That item no longer exists.")
        rows.update(ctx, found, fields)
        return found.id

    def _staff_fields(self, ctx: Ctx, actor: Actor, existing: Staff | None, data: dict[str, Any],
                      region: str) -> dict[str, Any]:
        errors: dict[str, str] = {}
        name = _name(data, "display_name", errors, 120)
        role = _choice(data, "role", tuple(r.value for r in Role), errors)
        active = bool(data.get("active", True))
        fields: dict[str, Any] = {"display_name": name, "role": role, "active": active,
                                  "title": _text(data.get("title"), 120)}
        for key, normalise in (("email", normalize_email), ("phone", lambda v: normalize_phone(v, region))):
            raw = (data.get(key) or "").strip()
            try:
                fields[key] = normalise(raw) if raw else None
            except ValidationError as exc:
                errors[key] = exc.user_message
        if "color" in data:  # a form without the colour keeps it
            color = (data.get("color") or "").strip()
            if not color:
                fields["color"] = None
            elif _COLOR.match(color):
                fields["color"] = color
            else:
                errors["color"] = "A colour is written like #6A4CDB."
        if "working_hours" in data:  # a form without the rota keeps it
            try:
                fields["working_hours"] = hours_from_text(str(data.get("working_hours") or ""))
            except RoutingSettingsError as exc:
                errors["working_hours"] = exc.user_message
        pin = (data.get("pin") or "").strip()
        if pin:
            try:
                fields["pin_hash"] = hash_pin(check_pin_format(pin))
            except ValidationError as exc:
                errors["pin"] = exc.user_message
        if name and any(s.display_name.casefold() == name.casefold() and s.active and
                        (existing is None or s.id != existing.id)
                        for s in clinic_repo.list_staff(ctx, self.clinic_id)):
            errors["display_name"] = "Another active staff member has that name (people sign in by name)."
        _raise(errors)
        self._check_owner_rules(ctx, actor, existing, role, active)
        return fields

    def _check_owner_rules(self, ctx: Ctx, actor: Actor, existing: Staff | None, role: str, active: bool) -> None:
        is_owner = actor.role in (None, Role.OWNER.value)
        touches_owner = role == Role.OWNER.value or (existing is not None and existing.role == Role.OWNER.value)
        if touches_owner and not is_owner:
            raise PermissionDenied("Only an owner can add, change or remove an owner.")
        if existing is not None and existing.id == actor.staff_id and (not active or role != existing.role):
            raise ValidationError("You cannot change your own role or make yourself inactive; ask another "
                                  "owner or manager.", field="role")
        if existing is not None and existing.role == Role.OWNER.value and (role != existing.role or not active):
            owners = [s for s in clinic_repo.list_staff(ctx, self.clinic_id, role=Role.OWNER.value)
                      if s.id != existing.id]
            if not owners:
                raise ValidationError("The clinic must keep at least one active owner.", field="role")


# --- validation helpers ----------------------------------------------------------------------


def _hours_text(stored: Any) -> str:
    try:
        return hours_to_text(stored)
    except RoutingSettingsError:
        return ""


def _require(actor: Actor, permission: Permission) -> None:
    if actor.role:
        require(actor.role, permission)


def _require_any(actor: Actor, *permissions: Permission) -> None:
    if not actor.role:
        return
    last: PermissionDenied | None = None
    for permission in permissions:
        try:
            require(actor.role, permission)
            return
        except PermissionDenied as exc:
            last = exc
    assert last is not None
    raise last


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise FieldErrors(errors=errors)


def _text(value: Any, limit: int) -> str | None:
    text = " ".join(str(value or "").split())
    return text[:limit] or None


def _name(data: dict[str, Any], key: str, errors: dict[str, str], limit: int) -> str:
    text = _text(data.get(key), limit) or ""
    if not text:
        errors[key] = "Enter a name."
    return text


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...], errors: dict[str, str]) -> str:
    value = str(data.get(key) or "")
    if value not in allowed:
        errors[key] = "Choose one of the options."
    return value


def _kind(data: dict[str, Any], errors: dict[str, str]) -> str:
    kind = "_".join(str(data.get("kind") or "").lower().split())
    if not _KIND.match(kind):
        errors["kind"] = "Enter the kind of device, such as ipl or hydrafacial."
    return kind


def _int(text: str, key: str, errors: dict[str, str], low: int, high: int) -> int | None:
    try:
        value = int(str(text).strip())
    except ValueError:
        errors[key] = f"Enter a whole number from {low} to {high}."
        return None
    if not low <= value <= high:
        errors[key] = f"Enter a whole number from {low} to {high}."
        return None
    return value


def _money(text: Any, key: str, currency: str, errors: dict[str, str]) -> int:
    raw = str(text or "").strip() or "0"
    try:
        minor = Money.parse(raw, currency).minor
    except ValidationError as exc:
        errors[key] = exc.user_message
        return 0
    if minor < 0:
        errors[key] = "An amount cannot be negative."
    return minor


def _service_fields(data: dict[str, Any], currency: str) -> dict[str, Any]:
    errors: dict[str, str] = {}
    roles = tuple(str(r) for r in data.get("qualified_roles") or ())
    if not roles or not set(roles) <= set(CLINICAL_ROLES):
        errors["qualified_roles"] = "Choose who may perform it."
    device_kind = "_".join(str(data.get("device_kind") or "").lower().split()) or None
    if device_kind is not None and not _KIND.match(device_kind):
        errors["device_kind"] = "Enter the kind of device, such as ipl."
    fields = {
        "name": _name(data, "name", errors, 160),
        "category": _choice(data, "category", SERVICE_CATEGORIES, errors),
        "duration_min": _int(data.get("duration_min", ""), "duration_min", errors, 5, 600),
        "buffer_before_min": _int(data.get("buffer_before_min", "0") or "0", "buffer_before_min", errors, 0, 120),
        "buffer_after_min": _int(data.get("buffer_after_min", "0") or "0", "buffer_after_min", errors, 0, 120),
        "price_minor": _money(data.get("price"), "price", currency, errors),
        "price_unit": _choice(data, "price_unit", PRICE_UNITS, errors),
        "currency": currency,
        "deposit_minor": _money(data.get("deposit"), "deposit", currency, errors),
        "requires_room": bool(data.get("requires_room", True)),
        "device_kind": device_kind,
        "qualified_roles": list(roles),
        "description": _text(data.get("description"), 2000),
        "active": bool(data.get("active", True)),
    }
    _raise(errors)
    return fields


def _service_item(s: Service) -> ServiceItem:
    return ServiceItem(s.id, s.name, s.category, s.duration_min, s.buffer_before_min, s.buffer_after_min,
                       s.price_minor, s.price_unit, s.currency, s.deposit_minor, s.requires_room, s.device_kind,
                       tuple(s.qualified_roles or ()), s.description, s.active)


def _idle_minutes(ctx: Ctx, clinic: Clinic) -> int:
    value = local_settings.get(ctx, IDLE_LOCK_KEY)
    if value is None:
        value = (clinic.settings or {}).get(IDLE_LOCK_KEY, IDLE_LOCK_DEFAULT)
    low, high = IDLE_LOCK_RANGE
    try:
        return min(max(int(value), low), high)
    except (TypeError, ValueError):
        return IDLE_LOCK_DEFAULT
