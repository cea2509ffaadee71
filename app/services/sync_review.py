"""What sync needs staff to look at, in plain words: conflicts and refused changes.

Two kinds of item, both kept in the encrypted store by the sync engine
(:mod:`app.repositories.sync_state`):

- a **conflict**: two workstations changed the same field without seeing each other's change (or
  one changed a record another had deleted). The server kept one value by the merge rules; the
  other is kept here. The item names the record, the field, the value kept and the value not
  kept, and who made each.
- a **refused change**: the server did not accept a change made here, with its reason (a double
  booking, a field only the server may set, a role that may not do it). A refused new record was
  taken back on this workstation; the item still says what it was, so it can be made again.

Reading the list shows client values, so it is one audited read (``sync.review``, naming the
clients shown); dismissing an item is audited too (``sync.dismiss``, no values).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from app.db.models import SYNCABLE_MODELS, Device, Location, Patient, Room, Service, Staff
from app.db.store import Store
from app.repositories import audit, sync_state
from app.repositories.context import Actor, Ctx
from app.repositories.uow import unit_of_work
from core.clock import HLCTimestamp
from core.money import Money
from core.permissions import Permission, require
from core.phone import format_phone

CONFLICT = "conflict"
REFUSED = "refused"
EMPTY = "(empty)"

NOUNS: dict[str, str] = {
    "patient": "client", "appointment": "appointment", "lead": "lead", "activity": "timeline entry",
    "service": "service", "room": "room", "device": "device", "staff": "staff member",
    "location": "location", "clinic": "clinic",
}

LABELS: dict[str, str] = {
    "first_name": "First name", "last_name": "Last name", "preferred_name": "Preferred name",
    "date_of_birth": "Date of birth", "instagram_handle": "Instagram", "medical_alerts": "Medical alerts",
    "start_at": "Start", "end_at": "End", "provider_id": "Provider", "room_id": "Room",
    "device_id": "Device", "service_id": "Service", "patient_id": "Client", "location_id": "Location",
    "price_minor": "Price", "deposit_minor": "Deposit", "deposit_status": "Deposit status",
    "owner_id": "Owner", "service_interest": "Interested in", "duration_min": "Length",
    "display_name": "Name", "vip": "VIP", "timezone": "Time zone", "buffer_before_min": "Set-up time",
    "buffer_after_min": "Clean-up time", "qualified_roles": "Who may perform it",
}

#: fields holding another record's id, and the kind of record they name
REFERENCES: dict[str, str] = {
    "provider_id": "staff", "owner_id": "staff", "booked_by": "staff", "claimed_by": "staff",
    "actor_id": "staff", "room_id": "room", "device_id": "device", "service_id": "service",
    "patient_id": "patient", "location_id": "location",
}


@dataclass(frozen=True)
class ReviewItem:
    """One thing to look at. ``key`` is what :meth:`SyncReviewService.dismiss` takes."""

    key: str
    kind: str  # CONFLICT or REFUSED
    record: str  # "Client · Katherine Lee"
    subject: str  # the field ("Phone"), or what was refused ("New appointment")
    kept: str  # the value the clinic now has
    lost: str  # the value that did not make it
    summary: str  # what happened, shortly (a refusal: the server's reason)
    sentence: str  # the whole story, for the detail pane
    when: datetime | None
    patient_id: str | None

    @property
    def id(self) -> str:
        return self.key


SEP = " \u00b7 "


def _bare(record: str) -> str:
    """``Client · Kate Lee`` -> ``Kate Lee``."""
    return record.split(SEP, 1)[-1]


def label_of(field: str) -> str:
    if field in LABELS:
        return LABELS[field]
    name = field[:-3] if field.endswith("_id") else field
    return name.replace("_", " ").capitalize()


def _hlc_time(hlc: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(HLCTimestamp.parse(str(hlc)).wall_ms / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _parse_moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and len(value) >= 16 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _when_text(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%a}, {local:%b} {local.day}, {local.hour % 12 or 12}:{local.minute:02d} " \
           f"{'AM' if local.hour < 12 else 'PM'}"


class _Words:
    """Names and values as the front desk reads them, inside one transaction (cached)."""

    def __init__(self, ctx: Ctx, *, region: str, tz: tzinfo, currency: str) -> None:
        self.ctx = ctx
        self.region = region
        self.tz = tz
        self.currency = currency
        self._names: dict[tuple[str, str], str | None] = {}

    def row(self, entity: str, entity_id: str) -> Any:
        model = SYNCABLE_MODELS.get(entity)
        return self.ctx.session.get(model, entity_id) if model is not None and entity_id else None

    def name(self, entity: str, entity_id: str | None) -> str | None:
        if not entity_id:
            return None
        key = (entity, entity_id)
        if key not in self._names:
            self._names[key] = self._lookup(entity, entity_id)
        return self._names[key]

    def _lookup(self, entity: str, entity_id: str) -> str | None:
        session = self.ctx.session
        if entity == "patient":
            p = session.get(Patient, entity_id)
            if p is None:
                return None
            first = p.first_name or ""
            if p.preferred_name and p.preferred_name.casefold() != first.casefold():
                first = f"{first} \u201c{p.preferred_name}\u201d"
            return f"{first} {p.last_name or ''}".strip() or "(no name)"
        model: Any = {"staff": Staff, "room": Room, "device": Device, "service": Service,
                      "location": Location}.get(entity)
        if model is None:
            return None
        row = session.get(model, entity_id)
        if row is None:
            return None
        return str(getattr(row, "display_name", None) or getattr(row, "name", None) or "") or None

    def value(self, field: str, value: Any) -> str:
        if value is None or value == "" or value == [] or value == {}:
            return EMPTY
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if field in REFERENCES and isinstance(value, str):
            return self.name(REFERENCES[field], value) or "a record not on this workstation"
        if field == "phone" and isinstance(value, str):
            return format_phone(value, self.region)
        if field.endswith("_minor") and isinstance(value, int):
            return Money(value, self.currency).format()
        if field.endswith("_min") and isinstance(value, int):
            return f"{value} min"
        moment = _parse_moment(value)
        if moment is not None:
            return _when_text(moment, self.tz)
        if field == "date_of_birth" and isinstance(value, str | date):
            day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
            return f"{day:%b} {day.day}, {day.year}"
        if isinstance(value, list):
            return ", ".join(str(v) for v in value) or EMPTY
        if isinstance(value, dict):
            return self._mapping(field, value)
        return " ".join(str(value).split())

    def _mapping(self, field: str, value: dict[str, Any]) -> str:
        if field == "consents":
            parts = []
            for purpose, consent in value.items():
                granted = consent.get("granted") if isinstance(consent, dict) else consent
                parts.append(f"{purpose.replace('_', ' ')}: {'yes' if granted else 'no'}")
            return ", ".join(parts) or EMPTY
        return ", ".join(str(v) for v in value.values() if v not in (None, "")) or EMPTY

    def record(self, entity: str, entity_id: str, fields: dict[str, Any] | None = None) -> tuple[str, str | None]:
        """``("Appointment · Botox for Kate Lee, Thu, Mar 5, 2:00 PM", patient id)``."""
        noun = NOUNS.get(entity, entity.replace("_", " "))
        row = self.row(entity, entity_id)
        data: dict[str, Any] = dict(fields or {})

        def get(name: str) -> Any:
            return getattr(row, name, None) if row is not None else data.get(name)

        title = noun.capitalize()
        if entity == "patient":
            name = self.name("patient", entity_id)
            if name is None and data:
                name = f"{data.get('first_name') or ''} {data.get('last_name') or ''}".strip() or None
            return f"{title}{SEP}{name or 'not on this workstation'}", entity_id
        patient_id = get("patient_id")
        patient = self.name("patient", patient_id) if isinstance(patient_id, str) else None
        if entity == "appointment":
            service = self.name("service", get("service_id")) or "Appointment"
            start = _parse_moment(get("start_at"))
            text = service + (f" for {patient}" if patient else "")
            if start is not None:
                text += f", {_when_text(start, self.tz)}"
            return f"{title}{SEP}{text}", patient_id if isinstance(patient_id, str) else None
        if entity in ("lead", "activity"):
            return f"{title}{SEP}{patient or 'no client'}", patient_id if isinstance(patient_id, str) else None
        name = self.name(entity, entity_id) or get("name") or get("display_name")
        return (f"{title}{SEP}{name}" if name else title), None


class SyncReviewService:
    def __init__(self, store: Store, *, clinic_id: str, region: str, timezone: str, currency: str = "USD") -> None:
        self.store = store
        self.clinic_id = clinic_id
        self.region = region
        try:
            self.tz: tzinfo = ZoneInfo(timezone)
        except (KeyError, ValueError):
            self.tz = UTC
        self.currency = currency

    def _words(self, ctx: Ctx) -> _Words:
        return _Words(ctx, region=self.region, tz=self.tz, currency=self.currency)

    def items(self, *, actor: Actor) -> list[ReviewItem]:
        """Every conflict and refused change to review, newest first (an audited read)."""
        if actor.role:
            require(actor.role, Permission.PATIENT_READ)
        with unit_of_work(self.store, actor) as ctx:
            words = self._words(ctx)
            out = [self._conflict(words, c) for c in sync_state.list_conflicts(ctx)]
            out += [self._refusal(words, r) for r in sync_state.list_rejections(ctx)]
            shown = sorted({i.patient_id for i in out if i.patient_id})
            if shown:
                audit.append(ctx, "sync.review", "patient", shown[0] if len(shown) == 1 else None,
                             {"count": len(shown), "patient_ids": shown})
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(out, key=lambda i: i.when or epoch, reverse=True)

    def count(self, *, actor: Actor) -> int:
        with unit_of_work(self.store, actor) as ctx:
            return sync_state.conflict_count(ctx) + sync_state.rejection_count(ctx)

    def dismiss(self, *, actor: Actor, keys: Iterable[str]) -> int:
        """Stop showing these items on this workstation; returns how many were dismissed."""
        if actor.role:
            require(actor.role, Permission.PATIENT_WRITE)
        done = 0
        with unit_of_work(self.store, actor) as ctx:
            conflicts = {sync_state.conflict_id(c): c for c in sync_state.list_conflicts(ctx)}
            refusals = {str(r.get("mutation_id")): r for r in sync_state.list_rejections(ctx)}
            for key in keys:
                kind, _, ident = key.partition(":")
                if kind == CONFLICT and ident in conflicts and sync_state.dismiss_conflict(ctx, ident):
                    c = conflicts[ident]
                    audit.append(ctx, "sync.dismiss", str(c.get("entity")), str(c.get("entity_id")),
                                 {"kind": CONFLICT, "field": c.get("field")})
                    done += 1
                elif kind == REFUSED and ident in refusals and sync_state.dismiss_rejection(ctx, ident):
                    r = refusals[ident]
                    audit.append(ctx, "sync.dismiss", str(r.get("entity")), str(r.get("entity_id")),
                                 {"kind": REFUSED, "code": r.get("code")})
                    done += 1
        return done

    # --- wording --------------------------------------------------------------------------

    def _staff(self, words: _Words, staff_id: Any) -> str | None:
        return words.name("staff", staff_id) if isinstance(staff_id, str) else None

    def _conflict(self, words: _Words, c: dict[str, Any]) -> ReviewItem:
        entity, entity_id, field = str(c.get("entity")), str(c.get("entity_id")), str(c.get("field"))
        record, patient_id = words.record(entity, entity_id)
        label = label_of(field)
        lost = words.value(field, c.get("losing_value"))
        loser = self._staff(words, c.get("loser_staff_id")) or "Someone"
        winner = self._staff(words, c.get("winner_staff_id")) or "someone"
        noun = NOUNS.get(entity, "record")
        what = f"the {label.lower()} of {_bare(record)}"
        if c.get("kind") == "edit_of_deleted":
            kept = f"(the {noun} was deleted)"
            summary = "Changed after it was deleted"
            sentence = (f"{loser} changed {what} to \u201c{lost}\u201d after {winner} had deleted the {noun} "
                        f"on another workstation. The delete stands; the change is kept here so nothing "
                        "is lost.")
        else:
            kept = words.value(field, c.get("winning_value"))
            summary = "Changed on two workstations at once"
            sentence = (f"{loser} changed {what} to \u201c{lost}\u201d while {winner} changed it to "
                        f"\u201c{kept}\u201d on another workstation. Glowdesk kept \u201c{kept}\u201d. If "
                        f"\u201c{lost}\u201d is right, edit the {noun} and enter it again.")
        return ReviewItem(
            key=f"{CONFLICT}:{sync_state.conflict_id(c)}", kind=CONFLICT, record=record, subject=label,
            kept=kept, lost=lost, summary=summary, sentence=sentence, when=_hlc_time(c.get("loser_hlc")),
            patient_id=patient_id,
        )

    def _refusal(self, words: _Words, r: dict[str, Any]) -> ReviewItem:
        entity, entity_id = str(r.get("entity")), str(r.get("entity_id"))
        fields: dict[str, Any] = dict(r.get("fields") or {})
        refused_fields: dict[str, Any] = dict(r.get("rejected_fields") or {})
        record, patient_id = words.record(entity, entity_id, fields)
        noun = NOUNS.get(entity, "record")
        op = str(r.get("op") or "update")
        reason = " ".join(str(r.get("reason") or "Refused by the clinic server.").split())
        row = words.row(entity, entity_id)
        if op in ("insert", "append") and not refused_fields:
            subject = f"New {noun}"
            shown = {k: v for k, v in fields.items() if k in ("service_id", "provider_id", "room_id", "start_at")} \
                if entity == "appointment" else {}
            lost = "; ".join(f"{label_of(k)}: {words.value(k, v)}" for k, v in shown.items()) or f"The new {noun}"
            kept = "Not saved"
            sentence = f"The clinic server refused the new {noun} ({_bare(record)}): {reason}"
        elif op == "delete":
            subject, lost, kept = f"Delete the {noun}", "Deleted here", "Still there"
            sentence = f"The clinic server refused to delete the {noun}: {reason}"
        else:
            names = list(refused_fields) or list(fields)
            subject = ", ".join(label_of(k) for k in names) or f"Change to the {noun}"
            lost = "; ".join(words.value(k, fields.get(k)) for k in names) or EMPTY
            kept = "; ".join(words.value(k, getattr(row, k, None)) for k in names) if row is not None else EMPTY
            sentence = f"The clinic server refused the change to {_bare(record)} ({subject.lower()}): {reason}"
        when = _parse_moment(r.get("at"))
        return ReviewItem(
            key=f"{REFUSED}:{r.get('mutation_id')}", kind=REFUSED, record=record, subject=subject, kept=kept,
            lost=lost, summary=reason, sentence=sentence, when=when, patient_id=patient_id,
        )


__all__ = ["CONFLICT", "REFUSED", "ReviewItem", "SyncReviewService", "label_of"]
