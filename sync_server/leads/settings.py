"""Setting up a clinic's lead routing (``python -m sync_server lead-routing ...``): the rules,
claim and reply times stored in the clinic's synced settings (``settings.lead_routing``), and the
working hours on each staff member's synced row. Staff are named by display name or id; the
stored settings hold ids. Everything is checked with :func:`core.routing.parse_policy` before
it is stored (a clear sentence, nothing stored, otherwise). Services never commit.
"""

from __future__ import annotations

from typing import Any

from core.errors import NotFoundError
from core.routing import (
    RoutingSettingsError,
    hours_from_text,
    hours_to_text,
    parse_policy,
    policy_to_settings,
)
from sync_server.audit import service as audit
from sync_server.clinics import service as clinics
from sync_server.leads import routing
from sync_server.records.service import ServerWrites


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
    stored = policy_to_settings(policy)
    _write_clinic_settings(writes, {**settings, "lead_routing": stored})
    audit.append(writes.session, clinic_id=writes.clinic_id, actor=writes.actor, action="lead_routing.set",
                 entity="clinic", entity_id=writes.clinic_id, detail={"settings": sorted(update)}, now=writes.now)
    routing.start_sweep(writes.session, clinic_id=writes.clinic_id, now=writes.now)
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


__all__ = ["RoutingSettingsError", "describe", "resolve_staff", "set_hours", "set_routing"]
