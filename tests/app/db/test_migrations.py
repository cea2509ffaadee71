"""Schema migrations at open: backed up first, newest-first pruning, a too-new database refused."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from app.db import schema
from app.db.errors import DatabaseTooNewError, StoreError
from app.db.keys import load_key
from app.db.store import BACKUP_DIR, DB_NAME, KEEP_BACKUPS, _make_engine, open_store
from app.repositories import audit, patients
from app.repositories.uow import unit_of_work
from core.clock import FixedClock
from tests.app.db._support import CLINIC_ID, add_patient, downgrade_to_0001, keyed_engine, owner, scalar

T0 = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)

OLD_PATIENTS = [
    # id, first, last, phone, email, handle, deleted
    ("01900000-0000-7000-8000-000000000101", "Josefína", "Marrowcliff", "+13055550177", "josefina.m@examplemail.com",
     "josefina.glow", 0),
    ("01900000-0000-7000-8000-000000000102", "Thaddeus", "Quillbrook", "+12125550143", "tq@quillbrook.example.org",
     None, 0),
    ("01900000-0000-7000-8000-000000000103", "Gone", "Deletedsworth", "+17025550111", None, None, 1),
]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def store_at_0001_with_patients(home: Path) -> None:
    engine = keyed_engine(home, create=True)
    schema.upgrade(engine, "0001")
    with engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO patient (id, clinic_id, first_name, last_name, phone, email, instagram_handle,"
                " address, consents, tags, vip, first_touch, version, hlc, deleted, created_at, updated_at)"
                " VALUES (:id, :clinic, :first, :last, :phone, :email, :handle, '{}', '{}', '[]', 0, '{}',"
                " 1, '0001767000000000-000000-aa', :deleted, '2025-01-02T03:04:05.000000Z',"
                " '2025-01-02T03:04:05.000000Z')"
            ),
            [
                dict(zip(("id", "first", "last", "phone", "email", "handle", "deleted"), p, strict=True),
                     clinic=CLINIC_ID)
                for p in OLD_PATIENTS
            ],
        )
    assert schema.current_revision(engine) == "0001"
    engine.dispose()


def test_head_is_alembics_single_head_and_revisions_are_its_chain() -> None:
    assert schema.script_heads() == [schema.HEAD]
    script = ScriptDirectory.from_config(schema.alembic_config())
    chain = [rev.revision for rev in script.walk_revisions()][::-1]  # oldest first
    assert tuple(chain) == schema.REVISIONS


def test_a_new_store_is_created_at_head_without_a_backup(home: Path) -> None:
    store = open_store(home)
    try:
        assert schema.current_revision(store.engine) == schema.HEAD
        with store.engine.connect() as c:
            tables = {r[0] for r in c.exec_driver_sql("SELECT name FROM sqlite_master").all()}
        assert {"patient", "outbox", "audit_log", "patient_search", "audit_log_no_update",
                "audit_log_no_delete"} <= tables
    finally:
        store.close()
    assert not (home / BACKUP_DIR).exists() or not list((home / BACKUP_DIR).iterdir())
    assert stat.S_IMODE((home / DB_NAME).stat().st_mode) == 0o600


def test_upgrade_from_0001_backs_up_first_and_search_finds_existing_patients(home: Path) -> None:
    store_at_0001_with_patients(home)
    before = sha(home / DB_NAME)
    store = open_store(home, clock=FixedClock(T0))
    try:
        assert schema.current_revision(store.engine) == schema.HEAD
        with unit_of_work(store, owner(store)) as ctx:
            for query in ("josefina", "Marrow", "5550177", "josefina.m@examplemail", "josefina.glow"):
                assert [h.last_name for h in patients.search(ctx, query)] == ["Marrowcliff"], query
            assert [h.last_name for h in patients.search(ctx, "thad quill")] == ["Quillbrook"]
            assert patients.search(ctx, "Deletedsworth") == []  # deleted before the upgrade
            assert patients.search(ctx, "0111") == []
            assert audit.verify(ctx.session).ok
    finally:
        store.close()

    (backup,) = (home / BACKUP_DIR).glob("glowdesk-*.db")
    assert backup.name == "glowdesk-20260504T083000000000Z-schema-0001.db"
    assert sha(backup) == before  # a byte copy of the file as it was before the upgrade
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    # the backup is encrypted like the store itself ...
    con = sqlite3.connect(backup)
    with pytest.raises(sqlite3.DatabaseError):
        con.execute("SELECT * FROM sqlite_master").fetchall()
    con.close()
    for secret in (b"Marrowcliff", b"josefina.m@examplemail.com", b"3055550177"):
        assert secret not in backup.read_bytes()
    # ... and opens with the store's key, at the old revision, with the old rows
    engine = _make_engine(backup, load_key(home, create=False))
    assert schema.current_revision(engine) == "0001"
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM patient")).scalar() == 3
    engine.dispose()


def test_a_database_from_a_newer_glowdesk_is_refused_and_left_untouched(home: Path) -> None:
    store = open_store(home)
    with store.session() as s:
        s.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    before = sha(home / DB_NAME)
    files = sorted(p.name for p in home.rglob("*"))
    with pytest.raises(DatabaseTooNewError) as err:
        open_store(home)
    assert "9999" in str(err.value) and "newer version of Glowdesk" in str(err.value)
    assert sha(home / DB_NAME) == before
    assert sorted(p.name for p in home.rglob("*")) == files  # no backup, no new file
    engine = keyed_engine(home, create=False)
    assert schema.current_revision(engine) == "9999"
    engine.dispose()


def test_an_old_database_is_not_upgraded_when_migrations_are_off(home: Path) -> None:
    store_at_0001_with_patients(home)
    before = sha(home / DB_NAME)
    with pytest.raises(StoreError, match="upgrade"):
        open_store(home, migrate=False)
    assert sha(home / DB_NAME) == before


def test_only_the_newest_backups_are_kept(home: Path) -> None:
    open_store(home, clock=FixedClock(T0)).close()
    stamps = []
    for i in range(KEEP_BACKUPS + 2):
        downgrade_to_0001(home)
        when = T0 + timedelta(days=i + 1)
        stamps.append(when.strftime("%Y%m%dT%H%M%S%fZ"))
        store = open_store(home, clock=FixedClock(when))
        assert schema.current_revision(store.engine) == schema.HEAD
        store.close()
    kept = sorted(p.name for p in (home / BACKUP_DIR).glob("glowdesk-*.db"))
    assert kept == [f"glowdesk-{s}-schema-0001.db" for s in stamps[-KEEP_BACKUPS:]]


def test_patients_written_after_the_upgrade_are_searchable_next_to_old_ones(home: Path) -> None:
    store_at_0001_with_patients(home)
    store = open_store(home)
    try:
        add_patient(store, "Josephine", "Newcombe", phone="+13055550199")
        with unit_of_work(store, owner(store)) as ctx:
            assert sorted(h.last_name for h in patients.search(ctx, "jose")) == ["Marrowcliff", "Newcombe"]
            assert sorted(h.last_name for h in patients.search(ctx, "305555")) == ["Marrowcliff", "Newcombe"]
        assert scalar(store, "SELECT count(*) FROM patient_search") == 3
    finally:
        store.close()
