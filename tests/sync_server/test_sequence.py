"""The per-clinic sync sequence: serialised, so a pull cursor can never skip a late commit."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from sync_server import tenancy
from sync_server.db import Database
from sync_server.sync import service as sync

from .conftest import Personas


def _lease(db: Database, clinic_id: str) -> tuple[Session, sync.SequenceLease]:
    session = db.session(write=True, app_role=True)
    tenancy.enter_clinic(session, clinic_id)
    return session, sync.SequenceLease.lock(session, clinic_id=clinic_id)


def test_numbers_increase_per_clinic_and_survive_commit(db: Database, personas: Personas) -> None:
    for clinic_id, expected in ((personas.a.id, [1, 2, 3]), (personas.b.id, [1]), (personas.a.id, [4])):
        with db.transaction(write=True, app_role=True) as session:
            tenancy.enter_clinic(session, clinic_id)
            lease = sync.SequenceLease.lock(session, clinic_id=clinic_id)
            assert [lease.next() for _ in expected] == expected
    with db.transaction(write=False, app_role=True) as session:
        tenancy.enter_clinic(session, personas.a.id)
        assert sync.current_seq(session, clinic_id=personas.a.id) == 4


def test_a_rolled_back_push_gives_its_numbers_back(db: Database, personas: Personas) -> None:
    session, lease = _lease(db, personas.a.id)
    assert lease.next() == 1
    session.rollback()
    session.close()
    with db.transaction(write=True, app_role=True) as s2:
        tenancy.enter_clinic(s2, personas.a.id)
        assert sync.SequenceLease.lock(s2, clinic_id=personas.a.id).next() == 1


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_second_push_waits_for_the_first_to_commit_on_postgresql(db: Database, personas: Personas) -> None:
    first, lease = _lease(db, personas.a.id)
    assert lease.next() == 1  # in flight, not committed

    # Another clinic is not held up.
    with db.transaction(write=True, app_role=True) as other:
        tenancy.enter_clinic(other, personas.b.id)
        assert sync.SequenceLease.lock(other, clinic_id=personas.b.id).next() == 1

    # The same clinic is: it cannot take the row while the first push is open...
    blocked = db.session(write=True, app_role=True)
    tenancy.enter_clinic(blocked, personas.a.id)
    blocked.execute(text("SET LOCAL lock_timeout = '150ms'"))
    with pytest.raises(DBAPIError, match="lock timeout"):
        sync.SequenceLease.lock(blocked, clinic_id=personas.a.id)
    blocked.rollback()
    blocked.close()

    # ...and a waiting push proceeds the moment the first commits, with the next number.
    got: list[int] = []

    def second_push() -> None:
        with db.transaction(write=True, app_role=True) as session:
            tenancy.enter_clinic(session, personas.a.id)
            got.append(sync.SequenceLease.lock(session, clinic_id=personas.a.id).next())

    waiter = threading.Thread(target=second_push)
    waiter.start()
    time.sleep(0.2)
    assert got == []  # still waiting
    first.commit()
    first.close()
    waiter.join(timeout=10)
    assert got == [2]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_push_holds_the_sqlite_write_lock_until_it_commits(db: Database, personas: Personas) -> None:
    first, lease = _lease(db, personas.a.id)
    lease.next()
    other = sqlite3.connect(str(db.engine.url.database), timeout=0.1, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")
    first.commit()
    first.close()
    other.execute("BEGIN IMMEDIATE")
    assert other.execute("SELECT last_seq FROM clinic_sync_state WHERE clinic_id = ?", (personas.a.id,)).fetchone() == (1,)
    other.execute("ROLLBACK")
    other.close()
