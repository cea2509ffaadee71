"""What the server decides when a workstation pushes a ``staff`` row (see sync_server.sync.decisions).

A staff member is two things on the server: the synced ``staff`` row every workstation shows
(name, role, title, rota, PIN hash for offline sign-in) and the sign-in record
(:class:`sync_server.clinics.models.Staff`) that every request's acting staff member is checked
against. A manager who adds a colleague in Settings → Staff on a workstation pushes the synced
row; this decider keeps the sign-in record in step in the same transaction, so the new colleague's
changes are accepted from their first push, a role change takes effect on the server's
permission checks, and a deactivated member's changes are refused from then on.

Refused (nothing stored, the sentence shown on the workstation's review screen):
- making someone an owner, or changing an owner's record, unless an owner does it (the rule the
  desktop's Settings already applies);
- leaving the clinic without an active owner;
- a name another staff member of the clinic already has (sign-in names are unique).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from core.merge import MergeOutcome, RowState
from core.permissions import Role
from core.sync import Mutation
from sync_server.audit import service as audit
from sync_server.clinics import repository
from sync_server.clinics.models import Staff
from sync_server.clinics.service import StaffIdentity
from sync_server.errors import Refused

OWNER = Role.OWNER.value


class Push(Protocol):
    """What this decider reads of :class:`sync_server.sync.decisions.PushContext` (the sync
    context sits above clinics, so clinics name only the part they use)."""

    @property
    def session(self) -> Session: ...
    @property
    def clinic_id(self) -> str: ...
    @property
    def device_id(self) -> str: ...
    @property
    def staff(self) -> StaffIdentity: ...
    @property
    def now(self) -> datetime: ...


def decide_staff(ctx: Push, mutation: Mutation, outcome: MergeOutcome) -> RowState:
    row = outcome.row
    data = row.data
    session, clinic_id = ctx.session, ctx.clinic_id
    identity = repository.staff_by_id(session, clinic_id=clinic_id, staff_id=row.entity_id)
    name = " ".join(str(data.get("display_name") or "").split())
    role = str(data.get("role") or "")
    try:
        Role(role)
    except ValueError:
        raise Refused(f"'{role}' is not a staff role Glowdesk knows, so this change was not saved.",
                      "bad_value") from None
    active = bool(data.get("active", True)) and not row.deleted
    acting_owner = ctx.staff.role == Role.OWNER
    if not acting_owner and (role == OWNER or (identity is not None and identity.role == OWNER)):
        raise Refused("Only an owner can make someone an owner or change an owner's details, so this "
                      "change was not saved.", "forbidden")
    if identity is not None and identity.role == OWNER and identity.active and not (active and role == OWNER):
        others = [s for s in repository.staff_list(session, clinic_id=clinic_id, active_only=True)
                  if s.role == OWNER and s.id != identity.id]
        if not others:
            raise Refused("A clinic keeps at least one active owner; make someone else an owner first.",
                          "last_owner")
    same_name = repository.staff_by_name(session, clinic_id=clinic_id, display_name=name)
    if same_name is not None and same_name.id != row.entity_id:
        raise Refused(f"This clinic already has a staff member named '{name}'; use another name.", "duplicate_name")

    pin_hash = str(data.get("pin_hash") or "")
    actor = audit.Actor(staff_id=ctx.staff.id, device_id=ctx.device_id)
    if identity is None:
        repository.add(session, Staff(id=row.entity_id, clinic_id=clinic_id, display_name=name, role=role,
                                      pin_hash=pin_hash, active=active, created_at=ctx.now, updated_at=ctx.now))
        audit.append(session, clinic_id=clinic_id, actor=actor, action="staff.create", entity="staff",
                     entity_id=row.entity_id, detail={"role": role, "from": "workstation"}, now=ctx.now)
        return row
    pin = pin_hash or identity.pin_hash  # a row without a PIN hash keeps the one on record
    changed = sorted(field for field, was, now in (
        ("display_name", identity.display_name, name), ("role", identity.role, role),
        ("active", identity.active, active), ("pin", identity.pin_hash, pin)) if was != now)
    if changed:
        identity.display_name, identity.role, identity.active, identity.pin_hash = name, role, active, pin
        identity.updated_at = ctx.now
        audit.append(session, clinic_id=clinic_id, actor=actor, action="staff.update", entity="staff",
                     entity_id=row.entity_id, detail={"fields": changed, "from": "workstation"}, now=ctx.now)
    return row


DECIDERS: dict[str, Callable[[Push, Mutation, MergeOutcome], RowState]] = {"staff": decide_staff}
