"""The audit log: every patient read and change, hash-chained, append-only, and verifiable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.db.models import AuditEntry, Patient
from app.db.store import Store, open_store
from app.repositories import audit, patients
from app.repositories.context import Actor
from app.repositories.uow import unit_of_work
from tests.app.db._support import STAFF_ID, new_patient, owner


def history(store: Store) -> list[AuditEntry]:
    with store.session() as s:
        return list(s.execute(sa.select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def verify(store: Store) -> audit.ChainReport:
    with store.session() as s:
        return audit.verify(s)


def raw(store: Store, sql: str, **params: object) -> None:
    with store.session() as s:
        s.execute(sa.text(sql), params)


@pytest.fixture
def chain(store: Store, actor: Actor) -> list[str]:
    """Five audited actions on two patients: create, create, update, read, update."""
    with unit_of_work(store, actor) as ctx:
        a = patients.create(ctx, new_patient("Imogen", "Harrowgate", phone="+14155550131"))
        b = patients.create(ctx, new_patient("Cassius", "Brightwater"))
    with unit_of_work(store, actor) as ctx:
        p = patients.get_for_write(ctx, a.id)
        assert p is not None
        patients.update(ctx, p, {"phone": "+14155550132"})
    with unit_of_work(store, actor) as ctx:
        assert patients.get(ctx, b.id, purpose="chart") is not None
    with unit_of_work(store, actor) as ctx:
        p = patients.get_for_write(ctx, b.id)
        assert p is not None
        patients.update(ctx, p, {"allergies": "Penicillin", "vip": True})
    return [a.id, b.id]


def test_creates_reads_and_edits_are_chained_with_who_and_where(store: Store, chain: list[str]) -> None:
    rows = history(store)
    assert [(r.action, r.entity_id) for r in rows] == [
        ("patient.create", chain[0]),
        ("patient.create", chain[1]),
        ("patient.update", chain[0]),
        ("patient.read", chain[1]),
        ("patient.update", chain[1]),
    ]
    assert rows[0].prev_hash == audit.GENESIS
    for prev, row in zip(rows, rows[1:], strict=False):
        assert row.prev_hash == prev.hash
    assert len({r.hash for r in rows}) == len(rows)
    assert all(r.staff_id == STAFF_ID and r.device_id == store.device_id for r in rows)
    assert all(r.at.tzinfo is not None for r in rows)
    assert rows[2].detail["changes"]["phone"] == {"old": "+14155550131", "new": "+14155550132"}
    assert rows[3].detail == {"purpose": "chart"}
    assert verify(store) == audit.ChainReport(ok=True, checked=5)


def test_the_audit_trail_names_changed_clinical_fields_without_copying_them(store: Store, chain: list[str]) -> None:
    last = history(store)[-1]
    assert last.detail["fields"] == ["allergies", "vip"]
    assert last.detail["changes"]["allergies"] == {}
    assert "Penicillin" not in json.dumps(last.detail)
    assert last.detail["changes"]["vip"] == {"old": False, "new": True}


def test_an_edit_that_changes_nothing_and_a_rolled_back_one_leave_no_audit_row(
    store: Store, actor: Actor, chain: list[str]
) -> None:
    with unit_of_work(store, actor) as ctx:
        p = patients.get_for_write(ctx, chain[0])
        assert p is not None
        assert patients.update(ctx, p, {"first_name": "Imogen"}) == {}
    with pytest.raises(RuntimeError):
        with unit_of_work(store, actor) as ctx:
            patients.get(ctx, chain[0])
            raise RuntimeError("the screen closed before it finished")
    assert len(history(store)) == 5
    assert verify(store).ok


def test_the_append_only_triggers_refuse_update_and_delete(store: Store, chain: list[str]) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        raw(store, "UPDATE audit_log SET action = 'patient.nothing' WHERE seq = 2")
    with pytest.raises(DBAPIError, match="append-only"):
        raw(store, "DELETE FROM audit_log WHERE seq = 2")
    with pytest.raises(DBAPIError, match="append-only"):
        raw(store, "DELETE FROM audit_log")
    assert len(history(store)) == 5
    assert verify(store).ok


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "'patient.read'"),
        ("staff_id", "'01900000-0000-7000-8000-0000000000bb'"),
        ("device_id", "'feedfacefeedface'"),
        ("entity_id", "'01900000-0000-7000-8000-000000000999'"),
        ("at", "'2020-01-01T00:00:00.000000Z'"),
        ("detail", """'{"changes": {}, "fields": []}'"""),
    ],
)
def test_tampering_with_one_row_is_named_by_its_seq(
    store: Store, chain: list[str], column: str, value: str
) -> None:
    raw(store, "DROP TRIGGER audit_log_no_update")
    raw(store, f"UPDATE audit_log SET {column} = {value} WHERE seq = 3")
    report = verify(store)
    assert not report.ok
    assert report.broken_seq == 3
    assert report.checked == 2
    assert report.reason is not None and "changed" in report.reason


def test_a_tampered_row_with_a_recomputed_hash_breaks_the_next_link(store: Store, chain: list[str]) -> None:
    row = history(store)[1]
    forged = audit.entry_hash(
        prev_hash=row.prev_hash, at=row.at, staff_id="01900000-0000-7000-8000-0000000000bb",
        device_id=row.device_id, action=row.action, entity=row.entity, entity_id=row.entity_id,
        detail=row.detail,
    )
    raw(store, "DROP TRIGGER audit_log_no_update")
    raw(store, "UPDATE audit_log SET staff_id = '01900000-0000-7000-8000-0000000000bb', hash = :h WHERE seq = :s",
        h=forged, s=row.seq)
    report = verify(store)
    assert (report.ok, report.broken_seq) == (False, row.seq + 1)
    assert report.reason is not None and "link" in report.reason


def test_deleting_a_middle_row_is_detected_at_the_next_row(store: Store, chain: list[str]) -> None:
    raw(store, "DROP TRIGGER audit_log_no_delete")
    raw(store, "DELETE FROM audit_log WHERE seq = 3")
    report = verify(store)
    assert (report.ok, report.broken_seq, report.checked) == (False, 4, 2)
    assert report.reason is not None and "link" in report.reason


def test_deleting_the_first_row_is_detected(store: Store, chain: list[str]) -> None:
    raw(store, "DROP TRIGGER audit_log_no_delete")
    raw(store, "DELETE FROM audit_log WHERE seq = 1")
    report = verify(store)
    assert (report.ok, report.broken_seq) == (False, 2)


def test_the_chain_continues_across_transactions_and_reopening(store: Store, chain: list[str], home: Path) -> None:
    store.close()
    again = open_store(home)
    try:
        with unit_of_work(again, owner(again)) as ctx:
            patients.get(ctx, chain[0])
        rows = history(again)
        assert rows[-1].prev_hash == rows[-2].hash
        assert verify(again) == audit.ChainReport(ok=True, checked=6)
    finally:
        again.close()


def test_deleting_a_patient_is_audited_once(store: Store, actor: Actor, chain: list[str]) -> None:
    for _ in range(2):
        with unit_of_work(store, actor) as ctx:
            p = ctx.session.get(Patient, chain[0])
            assert p is not None
            patients.delete(ctx, p)
    assert [r.action for r in history(store)].count("patient.delete") == 1
    assert verify(store) == audit.ChainReport(ok=True, checked=6)
