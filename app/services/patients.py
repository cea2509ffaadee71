"""Patient operations: validate input, create and edit, open a record (audited), search."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.db.models import Patient
from app.db.store import Store
from app.repositories import patients as repo
from app.repositories.context import Actor
from app.repositories.uow import unit_of_work
from core import dedup
from core.clock import Clock
from core.consents import CONSENT_PURPOSES
from core.email import email_match_key, normalize_email
from core.errors import NotFoundError, ValidationError
from core.permissions import Permission, require
from core.phone import normalize_phone

_HANDLE = re.compile(r"^[A-Za-z0-9._]{1,30}$")


@dataclass
class FieldErrors(ValidationError):
    """Several field errors at once, for inline display next to each input."""

    errors: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        first = next(iter(self.errors.values()), "Some fields are not valid.")
        ValidationError.__init__(self, first, field=next(iter(self.errors), None))


def clean_name(value: str | None) -> str:
    return " ".join((value or "").split())


def parse_dob(value: str | date | None, *, today: date) -> date | None:
    if value in (None, ""):
        return None
    dob: date | None = value if isinstance(value, date) else None
    if dob is None:
        text = str(value).strip()
        for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%d.%m.%Y"):
            try:
                parsed = datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            if fmt == "%m/%d/%y" and parsed > today:
                parsed = parsed.replace(year=parsed.year - 100)
            dob = parsed
            break
        if dob is None:
            raise ValidationError(f"'{text}' is not a date of birth (use YYYY-MM-DD).", field="date_of_birth")
    if dob > today:
        raise ValidationError("The date of birth is in the future.", field="date_of_birth")
    if dob.year < today.year - 120:
        raise ValidationError("The date of birth is more than 120 years ago.", field="date_of_birth")
    return dob


def clean_handle(value: str | None) -> str | None:
    text = (value or "").strip().lstrip("@")
    if text.lower().startswith(("https://", "http://", "instagram.com/", "www.instagram.com/")):
        text = text.rstrip("/").rsplit("/", 1)[-1]
    if not text:
        return None
    if not _HANDLE.match(text):
        raise ValidationError(f"'{value}' is not an Instagram handle.", field="instagram_handle")
    return text.lower()


def validate(data: dict[str, Any], *, region: str, today: date, partial: bool = False) -> dict[str, Any]:
    """Normalise patient input. Raises :class:`FieldErrors` naming every bad field at once."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key in ("first_name", "last_name", "preferred_name", "sex", "pronouns", "allergies",
                "medical_alerts", "notes", "external_ref", "timezone"):
        if key in data:
            cleaned = clean_name(data[key]) if key in ("first_name", "last_name", "preferred_name") else (
                (data[key] or "").strip() if isinstance(data[key], str) else data[key]
            )
            out[key] = cleaned or None
    if not partial or "first_name" in data or "last_name" in data:
        if not out.get("first_name") and not out.get("last_name"):
            errors["first_name"] = "Enter the client's first or last name."
        out["first_name"] = out.get("first_name") or ""
        out["last_name"] = out.get("last_name") or ""
    if "phone" in data:
        try:
            out["phone"] = normalize_phone(data["phone"], region) if data["phone"] else None
        except ValidationError as exc:
            errors["phone"] = exc.user_message
    if "email" in data:
        try:
            out["email"] = normalize_email(data["email"]) if data["email"] else None
            out["email_key"] = email_match_key(out["email"]) if out["email"] else None
        except ValidationError as exc:
            errors["email"] = exc.user_message
    if "date_of_birth" in data:
        try:
            out["date_of_birth"] = parse_dob(data["date_of_birth"], today=today)
        except ValidationError as exc:
            errors["date_of_birth"] = exc.user_message
    if "instagram_handle" in data:
        try:
            out["instagram_handle"] = clean_handle(data["instagram_handle"])
        except ValidationError as exc:
            errors["instagram_handle"] = exc.user_message
    for key in ("instagram_id", "address", "consents", "tags", "vip", "first_touch"):
        if key in data:
            out[key] = data[key]
    if "tags" in out:
        out["tags"] = sorted({clean_name(t) for t in out["tags"] or [] if clean_name(t)})
    if "consents" in out:
        bad = set(out["consents"] or {}) - set(CONSENT_PURPOSES)
        if bad:
            errors["consents"] = f"Unknown consent purpose: {', '.join(sorted(bad))}."
    if errors:
        raise FieldErrors(errors=errors)
    return out


@dataclass(frozen=True)
class DuplicateCandidate:
    patient_id: str
    name: str
    reason: str  # core.dedup.KEY_TEXT: "same phone", "same email", "same Instagram", "same name and birthday"...
    #: False: only possibly the same person (the same name, not enough else in common to be sure)
    sure: bool = True


class PatientService:
    """Patient operations on one store, for one clinic."""

    def __init__(self, store: Store, *, clinic_id: str, region: str, clock: Clock | None = None) -> None:
        self.store = store
        self.clinic_id = clinic_id
        self.region = region
        self.clock = clock or store.clock

    def _today(self) -> date:
        return self.clock.now().date()

    def search(self, *, actor: Actor, text: str, limit: int = 50) -> list[repo.SearchHit]:
        if actor.role:
            require(actor.role, Permission.PATIENT_READ)
        with unit_of_work(self.store, actor) as ctx:
            return repo.search(ctx, text, limit=limit)

    def get(self, *, actor: Actor, patient_id: str) -> Patient:
        if actor.role:
            require(actor.role, Permission.PATIENT_READ)
        with unit_of_work(self.store, actor) as ctx:
            patient = repo.get(ctx, patient_id)
            if patient is None:
                raise NotFoundError("That client no longer exists (it may have been merged or deleted).")
            ctx.session.expunge(patient)
            return patient

    def duplicates(self, *, actor: Actor, data: dict[str, Any], exclude_id: str | None = None
                   ) -> list[DuplicateCandidate]:
        """Existing patients that look like the same person (checked while staff type), by the
        one rule (:func:`core.dedup.decide`): sure matches first, then possible ones (the same
        name, not enough else in common to be sure)."""
        new = dedup.identity(
            first_name=clean_name(data.get("first_name")), last_name=clean_name(data.get("last_name")),
            date_of_birth=_try(lambda: parse_dob(data.get("date_of_birth"), today=self._today())),
            phone=data.get("phone"), email=data.get("email"),
            instagram_handle=_try(lambda: clean_handle(data.get("instagram_handle"))), region=self.region,
        )
        with unit_of_work(self.store, actor) as ctx:
            records = repo.identity_candidates(
                ctx, phones=[new.phone] if new.phone else [], email_keys=[new.email_key] if new.email_key else [],
                handles=[new.instagram_handle] if new.instagram_handle else [],
                last_names=[clean_name(data.get("last_name"))] if new.named else [])
        found = dedup.matches(new, [(pid, dedup.identity_of(r, region=self.region))
                                    for pid, r in records.items() if pid != exclude_id])
        return [DuplicateCandidate(m.candidate, f"{records[m.candidate]['first_name']} "
                                   f"{records[m.candidate]['last_name']}".strip(), m.verdict.text, m.verdict.sure)
                for m in found]

    def create(self, *, actor: Actor, data: dict[str, Any]) -> Patient:
        if actor.role:
            require(actor.role, Permission.PATIENT_WRITE)
        fields = validate(data, region=self.region, today=self._today())
        with unit_of_work(self.store, actor) as ctx:
            patient = Patient(clinic_id=self.clinic_id, **fields)
            patient.consents = patient.consents or {}
            patient.tags = patient.tags or []
            patient.address = patient.address or {}
            patient.first_touch = patient.first_touch or {}
            repo.create(ctx, patient)
        return patient

    def update(self, *, actor: Actor, patient_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        if actor.role:
            require(actor.role, Permission.PATIENT_WRITE)
        fields = validate(changes, region=self.region, today=self._today(), partial=True)
        with unit_of_work(self.store, actor) as ctx:
            patient = repo.get_for_write(ctx, patient_id)
            if patient is None:
                raise NotFoundError("That client no longer exists (it may have been merged or deleted).")
            diff = repo.update(ctx, patient, fields)
        return {k: v[1] for k, v in diff.items()}


def _try(fn: Any) -> Any:
    try:
        return fn()
    except (ValidationError, KeyError):
        return None
