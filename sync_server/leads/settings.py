"""Setting up a clinic's lead routing (``python -m sync_server lead-routing ...``): the rules,
claim and reply times stored in the clinic's synced settings (``settings.lead_routing``), and the
working hours on each staff member's synced row. Staff are named by display name or id; the
stored settings hold ids. Everything is checked with :func:`core.routing.parse_policy` before
it is stored (a clear sentence, nothing stored, otherwise). Services never commit.
"""

from __future__ import annotations

import hashlib
from typing import Any

from core.errors import ConflictError, NotFoundError
from core.routing import (
    DEFAULT_SLA,
    DEFAULT_SLA_MINUTES,
    RoutingSettingsError,
    hours_from_text,
    hours_to_text,
    parse_policy,
    policy_to_settings,
)
from core.sync import canonical_json
from sync_server.audit import service as audit
from sync_server.clinics import service as clinics
from sync_server.leads import routing
from sync_server.records.service import ServerWrites


class RoutingChanged(ConflictError):
    """The routing changed since the editor read it (a stale version)."""

    code = "routing_changed"


def _staff(writes: ServerWrites) -> list[Any]:
    return list(clinics.list_staff(writes.session, clinic_id=writes.clinic_id, active_only=False))


def resolve_staff(writes: ServerWrites, name_or_id: str) -> Any:
    wanted = name_or_id.strip()
    people = _staff(writes)
    for person in people:
        if person.id == wanted:
            return person
    matches = [p for p in people if p.display_name.lower() == wanted.lower()]
    if not matches:
        raise NotFoundError(f"There is no staff member called '{wanted}' in this clinic.")
    return matches[0]


def _ids(writes: ServerWrites, names: Any) -> Any:
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list):
        return names  # parse_policy says what is wrong
    return [resolve_staff(writes, str(n)).id for n in names]


def describe(writes: ServerWrites) -> dict[str, Any]:
    """The clinic's routing with staff named, and each person's working hours."""
    settings = routing.clinic_settings(writes)
    policy = parse_policy(settings.get("lead_routing"))
    names = {p.id: p.display_name for p in _staff(writes)}
    stored = policy_to_settings(policy)
    for rule in stored["rules"]:
        if "staff" in rule:
            rule["staff"] = [names.get(i, i) for i in rule["staff"]]
    if "fallback" in stored:
        stored["fallback"] = names.get(stored["fallback"], stored["fallback"])
    if "escalate_to" in stored:
        stored["escalate_to"] = [names.get(i, i) for i in stored["escalate_to"]]
    synced = dict(writes.find("staff"))
    hours = {p.display_name: hours_to_text((synced.get(p.id) or {}).get("working_hours")) or "clinic opening hours"
             for p in _staff(writes) if p.active}
    return {"lead_routing": stored, "working_hours": hours}


def version_of(stored: dict[str, Any]) -> str:
    """The version of a clinic's routing: a digest of its stored form. A change made by anyone
    (the desktop page, the CLI) gives a new version; nothing else does."""
    return hashlib.sha256(canonical_json(stored).encode("utf-8")).hexdigest()[:16]


def _stored(writes: ServerWrites) -> dict[str, Any]:
    return policy_to_settings(parse_policy(routing.clinic_settings(writes).get("lead_routing")))


def for_editing(writes: ServerWrites) -> dict[str, Any]:
    """The routing as the desktop's Settings page edits it (staff by id), its version, the
    defaults a source falls back to and the clinic's staff to choose from."""
    stored = _stored(writes)
    staff = [{"id": p.id, "name": p.display_name, "role": p.role} for p in _staff(writes) if p.active]
    return {"version": version_of(stored), "lead_routing": stored, "default_sla_minutes": dict(DEFAULT_SLA_MINUTES),
            "default_sla": DEFAULT_SLA, "staff": staff}


def _check_staff(writes: ServerWrites, stored: dict[str, Any]) -> None:
    """Every person the routing names is an active member of this clinic."""
    active = {p.id: p for p in _staff(writes) if p.active}
    known = {p.id: p for p in _staff(writes)}

    def check(staff_id: str, where: str) -> None:
        if staff_id not in active:
            who = f"{known[staff_id].display_name} is no longer active" if staff_id in known else \
                f"'{staff_id}' is not a staff member of this clinic"
            raise RoutingSettingsError(f"{_FIELD_WORDS.get(where.split('[')[0], where)}: {who}.", field=where)

    for number, rule in enumerate(stored["rules"], start=1):
        for staff_id in rule.get("staff", []):
            check(staff_id, f"rules[{number}].staff")
    if stored.get("fallback"):
        check(stored["fallback"], "fallback")
    for staff_id in stored.get("escalate_to", []):
        check(staff_id, "escalate_to")


_FIELD_WORDS = {"rules": "A rule's staff", "fallback": "The fallback", "escalate_to": "Missed replies go to"}


def replace_routing(writes: ServerWrites, *, version: str, lead_routing: Any) -> dict[str, Any]:
    """Replace the clinic's whole routing, if ``version`` is still the current one (else
    :class:`RoutingChanged`, nothing stored). Checked by :func:`core.routing.parse_policy` and
    for its staff; the change is audited. Callers hold the clinic's sequence lease (a
    :class:`ServerWrites` takes it first), so two saves cannot both pass the version check."""
    current = _stored(writes)
    if version != version_of(current):
        raise RoutingChanged("Someone else changed the lead routing since you opened it. It has been reloaded "
                             "with their changes; make yours again and save.")
    if not isinstance(lead_routing, dict):
        raise RoutingSettingsError("Lead routing settings must be an object.", field="lead_routing")
    stored = policy_to_settings(parse_policy(lead_routing))
    _check_staff(writes, stored)
    if stored != current:
        _store(writes, stored, changed=sorted(k for k in {*stored, *current} if stored.get(k) != current.get(k)))
    return for_editing(writes)


def _store(writes: ServerWrites, stored: dict[str, Any], *, changed: list[str]) -> None:
    settings = routing.clinic_settings(writes)
    _write_clinic_settings(writes, {**settings, "lead_routing": stored})
    audit.append(writes.session, clinic_id=writes.clinic_id, actor=writes.actor, action="lead_routing.set",
                 entity="clinic", entity_id=writes.clinic_id,
                 detail={"settings": changed, "version": version_of(stored)}, now=writes.now)
    routing.start_sweep(writes.session, clinic_id=writes.clinic_id, now=writes.now)


def set_routing(writes: ServerWrites, *, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` (the settings' keys; staff by name or id) into the clinic's routing."""
    settings = routing.clinic_settings(writes)
    current = policy_to_settings(parse_policy(settings.get("lead_routing")))
    update = dict(changes)
    if "rules" in update and isinstance(update["rules"], list):
        rules = []
        for rule in update["rules"]:
            if isinstance(rule, dict) and "staff" in rule:
                rule = {**rule, "staff": _ids(writes, rule["staff"])}
            rules.append(rule)
        update["rules"] = rules
    if update.get("fallback"):
        update["fallback"] = resolve_staff(writes, str(update["fallback"])).id
    if "escalate_to" in update and update["escalate_to"]:
        update["escalate_to"] = _ids(writes, update["escalate_to"])
    if "sla_minutes" in update and isinstance(update["sla_minutes"], dict):
        update["sla_minutes"] = {**current.get("sla_minutes", {}), **update["sla_minutes"]}
    merged = {**current, **update}
    for key in ("fallback", "escalate_to"):
        if not merged.get(key):
            merged.pop(key, None)
    policy = parse_policy(merged)  # raises RoutingSettingsError with the sentence
    _store(writes, policy_to_settings(policy), changed=sorted(update))
    return describe(writes)


def set_hours(writes: ServerWrites, *, staff: str, hours_text: str) -> dict[str, Any]:
    """A staff member's weekly rota, typed as ``Mon-Fri 9:00-17:00; Sat 10-14`` (empty text:
    the clinic's opening hours)."""
    person = resolve_staff(writes, staff)
    hours = hours_from_text(hours_text)
    row = writes.get("staff", person.id)
    if writes.row("staff", person.id) is None:
        writes.insert("staff", {"display_name": person.display_name, "role": person.role, "active": person.active,
                                "pin_hash": person.pin_hash, "working_hours": hours}, entity_id=person.id)
    elif row is None:
        raise NotFoundError(f"{person.display_name}'s staff record was deleted on a workstation.")
    else:
        writes.update("staff", person.id, {"working_hours": hours})
    return {"staff": person.display_name, "working_hours": hours_to_text(hours) or "clinic opening hours"}


def _write_clinic_settings(writes: ServerWrites, settings: dict[str, Any]) -> None:
    if writes.row("clinic", writes.clinic_id) is None:
        clinic = clinics.get_clinic(writes.session, clinic_id=writes.clinic_id)
        writes.insert("clinic", {"name": clinic.name, "slug": clinic.slug, "timezone": clinic.timezone,
                                 "region": clinic.region, "currency": clinic.currency, "settings": settings},
                      entity_id=writes.clinic_id)
    else:
        writes.update("clinic", writes.clinic_id, {"settings": settings})


__all__ = ["RoutingChanged", "RoutingSettingsError", "describe", "for_editing", "replace_routing", "resolve_staff",
           "set_hours", "set_routing", "version_of"]
