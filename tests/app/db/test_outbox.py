"""Local-first writes: each change and its outbox entry are one transaction, ready for sync."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db.models import Activity, OutboxEntry, Patient
from app.db.store import Store, open_store
from app.repositories import patients, rows
from app.repositories.context import Actor
from app.repositories.uow import unit_of_work
from core.clock import FixedClock, HLCTimestamp
from tests.app.db._support import CLINIC_ID, STAFF_ID, add_patient, new_patient, owner, scalar


def outbox(store: Store) -> list[OutboxEntry]:
    with store.session() as s:
        return list(s.execute(sa.select(OutboxEntry).order_by(OutboxEntry.seq)).scalars())


def stored(store: Store, patient_id: str) -> Patient:
    with store.session() as s:
        p = s.get(Patient, patient_id)
        assert p is not None
        return p


@pytest.fixture
def patient_id(store: Store, actor: Actor) -> str:
    with unit_of_work(store, actor) as ctx:
        return patients.create(
            ctx, new_patient("Marisol", "Featherstone", phone="+14155550150", email="marisol@example.com")
        ).id


def test_a_new_patient_writes_one_insert_entry_carrying_the_row_as_stored(
    store: Store, patient_id: str
) -> None:
    (entry,) = outbox(store)
    row = stored(store, patient_id)
    assert (entry.entity, entry.entity_id, entry.op, entry.base_version) == ("patient", patient_id, "insert", 0)
    assert entry.staff_id == STAFF_ID and entry.acked_at is None
    assert entry.hlc == row.hlc
    assert uuid.UUID(entry.mutation_id).version == 7
    # the server must receive what the workstation holds, defaults included (never nulls)
    assert entry.fields == rows.row_fields(row)
    assert entry.fields["vip"] is False
    assert entry.fields["tags"] == [] and entry.fields["consents"] == {} and entry.fields["address"] == {}
    assert entry.fields["first_name"] == "Marisol" and entry.fields["clinic_id"] == CLINIC_ID
    assert (row.version, row.deleted) == (1, False)


def test_an_edit_writes_one_update_entry_with_only_the_changed_fields(
    store: Store, actor: Actor, patient_id: str
) -> None:
    before = stored(store, patient_id)
    with unit_of_work(store, actor) as ctx:
        p = patients.get_for_write(ctx, patient_id)
        assert p is not None
        diff = patients.update(ctx, p, {"phone": "+14155550151", "first_name": "Marisol", "vip": True})
    assert set(diff) == {"phone", "vip"}
    entries = outbox(store)
    assert len(entries) == 2
    entry = entries[-1]
    after = stored(store, patient_id)
    assert (entry.op, entry.base_version, entry.fields) == ("update", 1, {"phone": "+14155550151", "vip": True})
    # the version stays the server-confirmed one until the server acknowledges the edit
    assert after.version == 1 and entry.hlc == after.hlc
    assert HLCTimestamp.parse(after.hlc) > HLCTimestamp.parse(before.hlc)
    assert after.updated_at >= before.updated_at and after.created_at == before.created_at


def test_an_edit_that_changes_nothing_writes_nothing(store: Store, actor: Actor, patient_id: str) -> None:
    before = stored(store, patient_id)
    with unit_of_work(store, actor) as ctx:
        p = patients.get_for_write(ctx, patient_id)
        assert p is not None
        assert patients.update(ctx, p, {"first_name": "Marisol", "phone": "+14155550150", "vip": False}) == {}
        assert ctx.changed == set()
    after = stored(store, patient_id)
    assert len(outbox(store)) == 1
    assert (after.version, after.hlc, after.updated_at) == (before.version, before.hlc, before.updated_at)


def test_a_delete_is_a_tombstone_with_one_entry_and_only_once(store: Store, actor: Actor, patient_id: str) -> None:
    for _ in range(2):
        with unit_of_work(store, actor) as ctx:
            p = ctx.session.get(Patient, patient_id)
            assert p is not None
            rows.tombstone(ctx, p)
    entries = outbox(store)
    assert [e.op for e in entries] == ["insert", "delete"]
    assert (entries[-1].base_version, entries[-1].fields) == (1, {})
    row = stored(store, patient_id)  # the row stays so the delete can sync
    assert (row.deleted, row.version) == (True, 1)


def test_a_rolled_back_transaction_leaves_neither_row_nor_entry(store: Store, actor: Actor, patient_id: str) -> None:
    with pytest.raises(RuntimeError):
        with unit_of_work(store, actor) as ctx:
            created = patients.create(ctx, new_patient("Undone", "Rollbackson"))
            p = patients.get_for_write(ctx, patient_id)
            assert p is not None
            patients.update(ctx, p, {"last_name": "Changed"})
            ctx.session.flush()
            assert scalar_in(ctx.session, "SELECT count(*) FROM outbox") == 3
            raise RuntimeError("power cut")
    assert len(outbox(store)) == 1
    assert scalar(store, "SELECT count(*) FROM patient WHERE id = :id", id=created.id) == 0
    assert stored(store, patient_id).last_name == "Featherstone"
    assert stored(store, patient_id).version == 1


def scalar_in(session: sa.orm.Session, sql: str) -> int:
    return int(session.execute(sa.text(sql)).scalar_one())


def test_a_failing_write_takes_its_outbox_entry_with_it(store: Store, actor: Actor, patient_id: str) -> None:
    # a duplicate primary key fails at flush: the whole transaction goes, entry included
    with pytest.raises(sa.exc.IntegrityError):
        with unit_of_work(store, actor) as ctx:
            patients.create(ctx, new_patient("Twin", "Duplicate", id=patient_id))
    assert len(outbox(store)) == 1
    assert scalar(store, "SELECT count(*) FROM patient") == 1


def test_many_writes_one_entry_each_in_causal_order(store: Store, actor: Actor) -> None:
    with unit_of_work(store, actor) as ctx:
        made = [patients.create(ctx, new_patient(f"Bulk{i}", "Person")) for i in range(5)]
    with unit_of_work(store, actor) as ctx:
        for i, p in enumerate(made):
            live = patients.get_for_write(ctx, p.id)
            assert live is not None
            patients.update(ctx, live, {"notes": f"visit {i}"})
        patients.delete(ctx, live)
    entries = outbox(store)
    assert [e.op for e in entries] == ["insert"] * 5 + ["update"] * 5 + ["delete"]
    stamps = [HLCTimestamp.parse(e.hlc) for e in entries]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert len({e.mutation_id for e in entries}) == len(entries)


def test_bulk_create_writes_the_same_entries_as_one_by_one(store: Store, actor: Actor) -> None:
    with unit_of_work(store, actor) as ctx:
        count = patients.create_many(ctx, (new_patient(f"Imported{i}", "Client") for i in range(3)), reason="csv")
    assert count == 3
    entries = outbox(store)
    assert [e.op for e in entries] == ["insert"] * 3
    for e in entries:
        assert e.fields == rows.row_fields(stored(store, e.entity_id))


def test_timeline_entries_are_appended_never_edited(store: Store, actor: Actor, patient_id: str) -> None:
    with unit_of_work(store, actor) as ctx:
        act = rows.insert(
            ctx,
            Activity(clinic_id=CLINIC_ID, patient_id=patient_id, type="note", actor_id=STAFF_ID,
                     occurred_at=datetime(2026, 3, 1, 10, tzinfo=UTC), payload={"text": "called back"}),
        )
    assert outbox(store)[-1].op == "append"
    with pytest.raises(ValueError, match="append-only"):
        with unit_of_work(store, actor) as ctx:
            live = ctx.session.get(Activity, act.id)
            assert live is not None
            rows.update(ctx, live, {"type": "other"})
    assert len(outbox(store)) == 2
    assert scalar(store, "SELECT type FROM activity") == "note"


def test_unknown_fields_are_refused_before_anything_is_written(store: Store, actor: Actor, patient_id: str) -> None:
    with pytest.raises(KeyError):
        with unit_of_work(store, actor) as ctx:
            p = patients.get_for_write(ctx, patient_id)
            assert p is not None
            patients.update(ctx, p, {"first_name": "Changed", "version": 99})
    assert len(outbox(store)) == 1
    assert stored(store, patient_id).first_name == "Marisol"


def test_stamps_keep_increasing_after_a_restart_with_the_clock_set_back(home: Path) -> None:
    # e.g. the workstation's clock was fast, then corrected: later edits must still sort later
    t0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
    first = open_store(home, clock=FixedClock(t0))
    pid = add_patient(first, "Clocky", "Backwards")
    first.close()
    for back in (timedelta(minutes=5), timedelta(days=3)):
        again = open_store(home, clock=FixedClock(t0 - back))
        try:
            with unit_of_work(again, owner(again)) as ctx:
                p = patients.get_for_write(ctx, pid)
                assert p is not None
                patients.update(ctx, p, {"notes": f"edited {back}"})
        finally:
            again.close()
    stamps = [HLCTimestamp.parse(e.hlc) for e in outbox_of(home)]
    assert len(stamps) == 3
    assert stamps[0] < stamps[1] < stamps[2]


def outbox_of(home: Path) -> list[OutboxEntry]:
    store = open_store(home)
    try:
        return outbox(store)
    finally:
        store.close()
