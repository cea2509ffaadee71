"""The server audit chain: appended with each change, verified end to end, tamper-evident."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from sync_server import tenancy
from sync_server.audit import service as audit
from sync_server.db import Database

from .conftest import Personas, World


def _verify(db: Database, clinic_id: str) -> audit.ChainReport:
    with db.transaction(write=False) as session:
        tenancy.enter_clinic(session, clinic_id)
        return audit.verify(session, clinic_id=clinic_id)


def _entries(admin_sql: Engine, clinic_id: str) -> list[tuple[int, str, str | None]]:
    with admin_sql.connect() as conn:
        rows = conn.execute(
            text("SELECT seq, action, entity_id FROM audit_entry WHERE clinic_id = :c ORDER BY seq"),
            {"c": clinic_id},
        )
        return [(r[0], r[1], r[2]) for r in rows]


def test_changes_are_chained_per_clinic(db: Database, personas: Personas, admin_sql: Engine) -> None:
    assert [action for _, action, _ in _entries(admin_sql, personas.a.id)] == [
        "clinic.create", "enrollment_code.issue", "device.enroll",
    ]
    assert _verify(db, personas.a.id) == audit.ChainReport(True, 3)
    assert _verify(db, personas.b.id) == audit.ChainReport(True, 3)


def test_an_api_action_records_who_on_which_device(
    client: TestClient, personas: Personas, world: World, admin_sql: Engine
) -> None:
    laptop = world.device(personas.a, "Laptop")
    client.post(f"/api/v1/devices/{laptop.id}/revoke", headers=personas.device_a.headers(personas.manager))
    with admin_sql.connect() as conn:
        row = conn.execute(text(
            "SELECT staff_id, device_id, action, entity_id FROM audit_entry"
            " WHERE clinic_id = :c ORDER BY seq DESC LIMIT 1"), {"c": personas.a.id}).one()
    assert tuple(row) == (personas.manager, personas.device_a.id, "device.revoke", laptop.id)


@pytest.mark.parametrize(
    ("tamper", "broken_seq", "reason"),
    [
        ("UPDATE audit_entry SET entity_id = 'someone-else' WHERE clinic_id = :c AND seq = 2",
         2, "entry 2 was changed after it was written"),
        ("UPDATE audit_entry SET at = at - INTERVAL '1 hour' WHERE clinic_id = :c AND seq = 1",
         1, "entry 1 was changed after it was written"),
        ("DELETE FROM audit_entry WHERE clinic_id = :c AND seq = 2", 2, "entry 2 is missing"),
        ("DELETE FROM audit_entry WHERE clinic_id = :c AND seq = 3", 3,
         "the chain ends at entry 2 but its recorded tip is entry 3 (entries were removed from the end)"),
    ],
    ids=["edited", "backdated", "removed", "truncated"],
)
def test_tampering_is_detected(
    db: Database, personas: Personas, admin_sql: Engine, client: TestClient, tamper: str, broken_seq: int, reason: str
) -> None:
    if db.dialect == "sqlite":
        tamper = tamper.replace("at - INTERVAL '1 hour'", "datetime(at, '-1 hour')")
    with admin_sql.begin() as conn:
        conn.execute(text(tamper), {"c": personas.a.id})

    report = _verify(db, personas.a.id)

    assert (report.ok, report.broken_seq, report.reason) == (False, broken_seq, reason)
    assert _verify(db, personas.b.id).ok  # the other clinic's chain is untouched
    via_api = client.get("/api/v1/audit/verify", headers=personas.device_a.headers(personas.owner)).json()
    assert via_api["ok"] is False and via_api["broken_seq"] == broken_seq


def test_a_rewritten_chain_still_fails_against_its_recorded_tip(db: Database, personas: Personas, admin_sql: Engine) -> None:
    """Re-hashing edited entries is not enough: every later hash and the tip would have to change too."""
    with db.transaction() as session:
        tenancy.enter_clinic(session, personas.a.id)
        audit.append(session, clinic_id=personas.a.id, actor=audit.Actor.cli(), action="x.test",
                     entity="x", now=datetime.now(UTC))
    with admin_sql.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE clinic_id = :c AND seq = 4"), {"c": personas.a.id})
        conn.execute(text("UPDATE audit_head SET seq = 3, hash = 'forged' WHERE clinic_id = :c"), {"c": personas.a.id})
    report = _verify(db, personas.a.id)
    assert not report.ok and report.reason == "the chain's recorded tip does not match its last entry"


def test_concurrent_appends_never_fork_the_chain(db: Database, personas: Personas) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                with db.transaction(write=True, app_role=True) as session:
                    tenancy.enter_clinic(session, personas.a.id)
                    audit.append(session, clinic_id=personas.a.id, actor=audit.Actor(), action="x.test",
                                 entity="x", entity_id=f"{n}-{i}", now=datetime.now(UTC))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert _verify(db, personas.a.id) == audit.ChainReport(True, 3 + 40)
