"""A staff member added or changed on a workstation is a colleague the server knows: their own
changes are accepted, a new role governs what the server lets them do, a deactivated member is
refused; owner-only rules hold on the server too, and a refusal stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.services.staff import hash_pin as desktop_hash_pin
from core.ids import new_id
from sync_server.audit.models import AuditEntry
from sync_server.clinics.models import Staff

from .conftest import Personas, World
from .sync_helpers import Desk, patient_fields


@pytest.fixture
def manager(client: TestClient, personas: Personas) -> Desk:
    return Desk(client, personas.device_a, personas.manager)


@pytest.fixture
def owner(client: TestClient, personas: Personas) -> Desk:
    return Desk(client, personas.device_a, personas.owner)


def _staff(desk: Desk, staff_id: str, **over: Any) -> dict[str, Any]:
    fields = {"display_name": "Nina New", "role": "front_desk", "pin_hash": desktop_hash_pin("2468"),
              "active": True, **over}
    return desk.m("staff", "insert", entity_id=staff_id, **fields)


def _identity(world: World, clinic_id: str, staff_id: str) -> Staff | None:
    with world.db.transaction() as session:
        row = session.execute(select(Staff).where(Staff.clinic_id == clinic_id, Staff.id == staff_id)).scalar_one_or_none()
        if row is not None:
            session.expunge(row)
        return row


def test_a_colleague_added_on_a_workstation_can_work_at_once(manager: Desk, world: World, personas: Personas) -> None:
    nina = new_id()
    [added] = manager.push(_staff(manager, nina))
    assert added["status"] == "applied", added
    identity = _identity(world, personas.a.id, nina)
    assert identity is not None and identity.active and identity.role == "front_desk"
    # her own first change, made on the desk she signed in to with her new PIN, is accepted
    [hers] = manager.push(manager.m("patient", "insert", **patient_fields()), staff_id=nina)
    assert hers["status"] == "applied", hers
    with world.db.transaction() as session:
        actions = session.execute(select(AuditEntry.action).where(
            AuditEntry.clinic_id == personas.a.id, AuditEntry.entity_id == nina)).scalars().all()
    assert "staff.create" in actions


def test_a_role_change_and_a_deactivation_take_effect_on_the_server(manager: Desk, personas: Personas) -> None:
    nina = new_id()
    manager.push(_staff(manager, nina))
    # front desk may not edit the service menu...
    service = manager.m("service", "insert", name="Glow facial", category="skin", duration_min=60,
                        price_minor=15000, currency="USD")
    [refused] = manager.push(service, staff_id=nina)
    assert refused["status"] == "rejected" and refused["code"] == "forbidden"
    # ...until a manager makes her one
    [promoted] = manager.push(manager.m("staff", "update", entity_id=nina, base_version=1, role="manager"))
    assert promoted["status"] == "applied", promoted
    again = dict(service, mutation_id=new_id())
    [accepted] = manager.push(again, staff_id=nina)
    assert accepted["status"] == "applied", accepted
    # deactivated: her changes are refused from the next one on
    [gone] = manager.push(manager.m("staff", "update", entity_id=nina, base_version=2, active=False))
    assert gone["status"] == "applied", gone
    late = manager.push_raw(manager.m("patient", "insert", **patient_fields()), staff_id=nina)
    assert late.status_code == 403 and late.json()["code"] == "unknown_staff"
    # and a change of hers still waiting in another desk's outbox is refused, not applied
    [queued] = manager.push(manager.m("patient", "insert", staff_id=nina, **patient_fields()))
    assert queued["status"] == "rejected" and queued["code"] == "unknown_staff"


def test_only_an_owner_makes_an_owner_and_the_clinic_keeps_one(
    manager: Desk, owner: Desk, world: World, personas: Personas
) -> None:
    boss = new_id()
    [refused] = manager.push(_staff(manager, boss, display_name="Bo Boss", role="owner"))
    assert refused["status"] == "rejected" and refused["code"] == "forbidden"
    assert "Only an owner" in refused["reason"]
    assert _identity(world, personas.a.id, boss) is None  # nothing of it stored
    # the clinic's only owner cannot step down or be deactivated
    [last] = owner.push(owner.m("staff", "insert", entity_id=personas.owner, display_name="Olivia Owner",
                                role="manager", active=True))
    assert last["status"] == "rejected" and last["code"] == "last_owner"
    assert _identity(world, personas.a.id, personas.owner).role == "owner"


def test_a_name_already_taken_is_refused_with_nothing_stored(manager: Desk, world: World, personas: Personas) -> None:
    twin = new_id()
    [refused] = manager.push(_staff(manager, twin, display_name="Fran  Desk"))
    assert refused["status"] == "rejected" and refused["code"] == "duplicate_name"
    assert "Fran Desk" in refused["reason"]
    assert _identity(world, personas.a.id, twin) is None
    assert manager.pull()["changes"] == []
