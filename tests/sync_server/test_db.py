"""Database plumbing: SQLite pragmas and write locks, PostgreSQL request role, request commits."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import text

from core.errors import ConflictError, NotFoundError
from core.ids import new_id
from sync_server import tenancy
from sync_server.app import create_app
from sync_server.audit.service import Actor
from sync_server.clinics import service
from sync_server.clinics.models import Staff
from sync_server.db import Database
from sync_server.deps import NowDep, SessionDep
from sync_server.settings import Settings

from .conftest import World

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    with db.transaction(write=False) as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


@sqlite_only
@pytest.mark.parametrize("write", [True, False])
def test_only_write_transactions_take_the_sqlite_write_lock_at_begin(db: Database, write: bool) -> None:
    session = db.session(write=write, app_role=True)
    session.execute(text("SELECT 1"))  # begins the transaction; writes nothing
    other = sqlite3.connect(str(db.engine.url.database), timeout=0.1, isolation_level=None)
    try:
        if write:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        else:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()
        session.rollback()
        session.close()


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_request_sessions_run_as_the_app_role_and_admin_sessions_do_not(db: Database) -> None:
    with db.transaction(write=False, app_role=True) as session:
        assert session.execute(text("SELECT current_user")).scalar_one() == tenancy.APP_ROLE
    with db.transaction(write=False, app_role=False) as session:
        assert session.execute(text("SELECT current_user")).scalar_one() != tenancy.APP_ROLE


def test_a_request_that_fails_applies_nothing(client: TestClient, db: Database) -> None:
    """An error raised after a change was made rolls the whole request back."""
    router = APIRouter()

    @router.post("/test-only/clinic-then-fail")
    def clinic_then_fail(session: SessionDep, now: NowDep) -> None:
        service.create_clinic(session, name="Doomed", slug="doomed", now=now, actor=Actor.cli())
        raise ConflictError("changed my mind")

    client.app.include_router(router)  # type: ignore[attr-defined]
    response = client.post("/test-only/clinic-then-fail")
    assert response.status_code == 409
    with db.transaction(write=False) as session:
        with pytest.raises(NotFoundError):
            service.open_clinic(session, slug="doomed")


def test_the_response_waits_for_the_commit(settings: Settings, world: World, caplog: pytest.LogCaptureFixture) -> None:
    """A change that fails at commit is a 500, never a 200 for something that was not saved;
    and the log names the failure without the values that caused it."""
    clinic = world.clinic("glow")
    router = APIRouter()

    @router.post("/test-only/commit-fails")
    def commit_fails(session: SessionDep, now: NowDep) -> dict[str, str]:
        tenancy.enter_clinic(session, clinic.id)
        # Not flushed here: the duplicate name surfaces only when the request boundary commits.
        session.add(Staff(id=new_id(), clinic_id=clinic.id, display_name="Jane Patient", role="owner", pin_hash="x",
                          active=True, created_at=now, updated_at=now))
        session.add(Staff(id=new_id(), clinic_id=clinic.id, display_name="Jane Patient", role="owner", pin_hash="x",
                          active=True, created_at=now, updated_at=now))
        return {"status": "saved"}

    app = create_app(settings)
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/test-only/commit-fails")
    assert response.status_code == 500
    assert response.json()["code"] == "database_error"
    assert "IntegrityError" in caplog.text or "UniqueViolation" in caplog.text
    assert "Jane" not in caplog.text
